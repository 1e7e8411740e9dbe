"""``POST /webhooks/pagerduty``: Webhooks V3, verified on the raw body, recorded once, applied by a job."""

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from app.dependencies import SessionDep, SettingsDep
from app.errors import problem
from app.incidents.router import PROBLEM
from app.integrations.pagerduty.payloads import InvalidPayload, parse_event
from app.integrations.pagerduty.verification import SIGNATURE_HEADER, InvalidSignature, verify
from app.webhooks import service as receipts

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
    raw = await request.body()  # verify the exact bytes, before any parsing
    secrets = [secret.get_secret_value() for secret in settings.pagerduty.webhook_secrets]
    try:
        verify(raw, request.headers.get(SIGNATURE_HEADER), secrets)
    except InvalidSignature as exc:
        await receipts.refuse(session, provider=PROVIDER, reason=exc.reason, headers=request.headers, raw=raw)
        if not secrets:
            # Our configuration, not the sender, is at fault: a 5xx keeps PagerDuty retrying meanwhile.
            return problem(
                503,
                "not-configured",
                "PagerDuty webhooks are not configured",
                exc.reason,
                instance=request.url.path,
                headers={"Retry-After": "300"},
            )
        return problem(
            401,
            "invalid-signature",
            "The webhook signature is not valid",
            exc.reason,
            instance=request.url.path,
        )
    try:
        event = parse_event(raw)
    except InvalidPayload as exc:
        await receipts.refuse(session, provider=PROVIDER, reason=str(exc), headers=request.headers, raw=raw)
        return problem(
            400, "invalid-webhook", "The webhook could not be read", str(exc), instance=request.url.path
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
