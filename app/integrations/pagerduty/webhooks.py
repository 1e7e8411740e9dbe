"""``POST /webhooks/pagerduty``: Webhooks V3, verified on the raw body, recorded once, applied by a job."""

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app import errors
from app.dependencies import SessionDep, SettingsDep
from app.errors import AppError, NotConfigured, UnreadableBody, field_error
from app.incidents.router import PROBLEM
from app.integrations.pagerduty.payloads import InvalidPayload, parse_event
from app.integrations.pagerduty.verification import SIGNATURE_HEADER, verify
from app.integrations.pagerduty.verification import InvalidSignature as BadSignature
from app.webhooks import service as receipts
from app.webhooks.responses import bounded_body, refused

PROVIDER = "pagerduty"
WEBHOOK_ID_HEADER = "X-Webhook-Id"

router = APIRouter(tags=["webhooks"])


class WebhookAccepted(BaseModel):
    receipt_id: int
    duplicate: bool
    status: str


@router.post(
    "/webhooks/pagerduty",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WebhookAccepted,
    responses={400: PROBLEM, 401: PROBLEM, 503: PROBLEM},
)
async def receive_pagerduty_webhook(
    request: Request, session: SessionDep, settings: SettingsDep
) -> WebhookAccepted | Response:
    """Take one PagerDuty webhook: 202 once it is stored (a redelivery too), 401 for a bad signature."""
    raw = await bounded_body(session, request, settings.webhook_max_body_bytes, provider=PROVIDER)
    if isinstance(raw, JSONResponse):
        return raw
    secrets = [secret.get_secret_value() for secret in settings.pagerduty.webhook_secrets]
    try:
        verify(raw, request.headers.get(SIGNATURE_HEADER), secrets)
    except BadSignature as exc:
        error: AppError = (
            # Our configuration, not the sender, is at fault: a 5xx keeps PagerDuty retrying meanwhile.
            NotConfigured(exc.reason, headers={"Retry-After": "300"})
            if not secrets
            else errors.InvalidSignature(
                exc.reason, errors=[field_error(f"header.{SIGNATURE_HEADER}", exc.reason)]
            )
        )
        return await refused(session, request, raw, error, provider=PROVIDER)
    try:
        event = parse_event(raw)
    except InvalidPayload as exc:
        return await refused(
            session,
            request,
            raw,
            UnreadableBody(str(exc), errors=[field_error("body", str(exc))]),
            provider=PROVIDER,
        )
    dedupe_key = (request.headers.get(WEBHOOK_ID_HEADER) or event.id)[:200]
    recorded = await receipts.record(
        session,
        provider=PROVIDER,
        dedupe_key=dedupe_key,
        event_type=event.event_type[:100],
        headers=request.headers,
        raw=raw,
        settings=settings.delivery,
    )
    assert recorded.receipt.id is not None
    return WebhookAccepted(
        receipt_id=recorded.receipt.id, duplicate=recorded.duplicate, status=recorded.receipt.status
    )
