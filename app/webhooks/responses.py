"""Reading a webhook's body within bounds, and answering one that Relay refuses."""

import structlog
from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import AppError, PayloadTooLarge, problem_for
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


async def bounded_body(
    session: AsyncSession, request: Request, limit: int, *, provider: str
) -> bytes | JSONResponse:
    """The raw body, or a recorded 413 once it passes ``limit`` bytes (nothing past that is read)."""
    declared = request.headers.get("content-length", "")
    if not (declared.isdigit() and int(declared) > limit):
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > limit:
                break
        else:
            return bytes(raw)
    too_large = PayloadTooLarge(f"Send at most {limit} bytes; this body has more.")
    return await refused(
        session, request, b"", too_large, provider=provider, reason=f"body over {limit} bytes"
    )
