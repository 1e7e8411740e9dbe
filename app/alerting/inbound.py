"""Receiving alerts: authenticate on the raw body, record the call, apply it, answer with the incident."""

from typing import TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.alerting import alerts, verification
from app.alerting import repository as repo
from app.alerting.formats import EventAccepted
from app.alerting.mapping import Alert
from app.alerting.models import Integration
from app.config import Settings
from app.errors import (
    AppError,
    InvalidSignature,
    NotFound,
    ValidationFailed,
    field_error,
    problem_for,
)
from app.webhooks import service as receipts
from app.webhooks.models import ReceiptStatus
from app.webhooks.responses import bounded_body, refused

PROVIDER = "integration"
Model = TypeVar("Model", bound=BaseModel)


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """A pydantic error as the problem's ``errors`` list, each naming the field at fault."""
    errors = []
    for err in exc.errors():
        if err["type"] == "json_invalid":
            errors.append(field_error("body", "malformed JSON"))
        else:
            errors.append(field_error(".".join(str(p) for p in err["loc"]) or "body", err["msg"]))
    return errors


async def _refuse(
    session: AsyncSession, request: Request, raw: bytes, error: AppError, reason: str
) -> JSONResponse:
    return await refused(session, request, raw, error, provider=PROVIDER, reason=reason)


async def admit(
    session: AsyncSession, key: str, request: Request, limit: int
) -> tuple[Integration, bytes] | JSONResponse:
    """The integration named by ``key`` and the raw body, once the caller proved it holds the secret."""
    raw = await bounded_body(session, request, limit, provider=PROVIDER)
    if isinstance(raw, JSONResponse):
        return raw
    integration = await repo.integration_by_key(session, key)
    if integration is None:
        missing = NotFound("No integration has this key; it may have been deleted.")
        return await _refuse(session, request, raw, missing, "unknown integration key")
    reason = verification.authenticate(
        secret=integration.signing_secret,
        headers=request.headers,
        body=raw,
        now=clock.now(),
    )
    if reason is not None:
        unauthenticated = InvalidSignature(
            f"Refused: {reason}.", headers={"WWW-Authenticate": 'Bearer realm="relay-integration"'}
        )
        return await _refuse(
            session, request, raw, unauthenticated, f"integration {integration.id}: {reason}"
        )
    locked = await repo.integration_by_key(session, key, lock=True)
    return locked or integration, raw


async def parse(
    session: AsyncSession,
    request: Request,
    raw: bytes,
    model: type[Model],
) -> Model | JSONResponse:
    """The body as ``model``, or a recorded refusal naming each field at fault."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        return await invalid(session, request, raw, field_errors(exc))


async def invalid(
    session: AsyncSession, request: Request, raw: bytes, errors: list[dict[str, str]]
) -> JSONResponse:
    """Refuse a body that does not validate, naming each field at fault."""
    fields = ", ".join(e["field"] for e in errors)
    error = ValidationFailed(f"Check these fields: {fields}.", errors=errors)
    return await _refuse(session, request, raw, error, f"invalid body: {fields}")


async def accept(
    session: AsyncSession,
    integration: Integration,
    alert: Alert,
    *,
    event_type: str,
    request: Request,
    raw: bytes,
    settings: Settings,
) -> JSONResponse:
    """Record the call and apply it in this request, so that the answer can name the incident."""
    recorded = await receipts.record(
        session,
        provider=PROVIDER,
        dedupe_key=None,
        event_type=event_type,
        headers=request.headers,
        raw=raw,
        settings=settings.delivery,
        apply=False,
    )
    receipt = recorded.receipt
    try:
        async with session.begin_nested():
            outcome = await alerts.apply(session, integration, alert, settings)
    except AppError as exc:
        receipt.status = ReceiptStatus.failed
        receipt.reason = exc.detail
        return problem_for(request, exc)
    receipt.status = ReceiptStatus.ignored if outcome.outcome == "ignored" else ReceiptStatus.applied
    receipt.reason = outcome.message
    receipt.incident_id = outcome.incident.id if outcome.incident else None
    receipt.processed_at = clock.now()
    answer = EventAccepted(
        message=outcome.message,
        dedup_key=alert.dedup_key,
        outcome=outcome.outcome,
        incident=outcome.incident.reference if outcome.incident else None,
    )
    return JSONResponse(answer.model_dump(), status_code=202)
