"""Answering a webhook that Relay refuses."""

import structlog
from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import AppError, problem_for
from app.webhooks import service

log = structlog.get_logger(__name__)


async def refused(
    session: AsyncSession,
    request: Request,
    raw: bytes,
    error: AppError,
    *,
    provider: str,
    reason: str | None = None,
) -> JSONResponse:
    """Keep the refused request with why, and answer it; returned, not raised, so the record is committed."""
    why = reason or error.detail
    await service.refuse(session, provider=provider, reason=why, headers=request.headers, raw=raw)
    log.warning("webhook_refused", provider=provider, path=request.url.path, status=error.status, reason=why)
    return problem_for(request, error)
