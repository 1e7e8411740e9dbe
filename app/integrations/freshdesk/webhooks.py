"""Inbound Freshdesk webhooks: check the shared secret, record the hint, and apply it in a job."""

import structlog
from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.dependencies import SessionDep, SettingsDep
from app.errors import InvalidSignature, UnreadableBody, field_error
from app.incidents.router import PROBLEM
from app.integrations.actions import ActionContext
from app.integrations.freshdesk import mapping, service
from app.integrations.freshdesk.client import TicketNotFound
from app.integrations.freshdesk.payloads import MalformedHint, read_hint
from app.integrations.freshdesk.verification import TOKEN_HEADER, token_refusal
from app.webhooks import service as receipts
from app.webhooks.apply import Applied
from app.webhooks.models import ReceiptStatus, WebhookReceipt
from app.webhooks.responses import bounded_body, refused

PROVIDER = "freshdesk"
log = structlog.get_logger(__name__)
router = APIRouter(tags=["webhooks"])


@router.post(
    "/webhooks/freshdesk",
    status_code=status.HTTP_202_ACCEPTED,
    responses={400: PROBLEM, 401: PROBLEM, 503: PROBLEM},
)
async def receive_freshdesk(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """A Freshdesk automation rule's webhook: recorded, answered at once, applied by a job."""
    raw = await bounded_body(session, request, settings.webhook_max_body_bytes, provider=PROVIDER)
    if isinstance(raw, JSONResponse):
        return raw
    refusal = token_refusal(request.headers.get(TOKEN_HEADER), settings.freshdesk.webhook_secrets)
    if refusal is not None:
        unauthenticated = InvalidSignature(
            f"Send the shared secret in the {TOKEN_HEADER} header; {refusal}.",
            errors=[field_error(f"header.{TOKEN_HEADER}", refusal)],
        )
        return await refused(session, request, raw, unauthenticated, provider=PROVIDER, reason=refusal)
    try:
        hint = read_hint(raw)
    except MalformedHint as exc:
        unreadable = UnreadableBody(
            f"Relay could not tell which ticket this webhook is about: {exc.message}.",
            errors=[field_error(exc.field, exc.message)],
        )
        reason = f"malformed body: {exc.message}"
        return await refused(session, request, raw, unreadable, provider=PROVIDER, reason=reason)
    recorded = await receipts.record(
        session,
        provider=PROVIDER,
        dedupe_key=hint.dedupe_key,
        event_type=hint.event,
        headers=request.headers,
        raw=raw,
        settings=settings.delivery,
    )
    return JSONResponse(
        {
            "receipt_id": recorded.receipt.id,
            "ticket_id": hint.ticket_id,
            "duplicate": recorded.duplicate,
        },
        status_code=status.HTTP_202_ACCEPTED,
    )


async def handle(session: AsyncSession, ctx: ActionContext, receipt: WebhookReceipt) -> Applied:
    """Re-fetch the ticket the webhook names and apply what it says now (the webhooks.apply job)."""
    try:
        hint = read_hint(receipt.body.encode())
    except MalformedHint as exc:
        return Applied(ReceiptStatus.failed, f"malformed body: {exc.message}")
    if PROVIDER in ctx.clients.sandboxed:
        return Applied(
            ReceiptStatus.ignored,
            "Freshdesk is not configured (RELAY_FRESHDESK_API_KEY): cannot fetch tickets",
        )
    client = ctx.clients.freshdesk
    try:
        ticket = await client.get_ticket(ticket_id=hint.ticket_id, include="requester")
    except TicketNotFound:
        return Applied(ReceiptStatus.failed, f"Freshdesk has no ticket {hint.ticket_id} (deleted or merged)")
    facts = mapping.ticket_facts(ticket, ctx.settings.freshdesk)
    outcome = await service.apply_ticket(session, facts, ctx.settings)
    incident = outcome.incident
    if not outcome.applied:
        return Applied(ReceiptStatus.ignored, outcome.note, incident.id if incident else None)
    note = outcome.note
    if incident is not None:
        conversations = await client.all_conversations(ticket_id=facts.ticket_id)
        replies = mapping.customer_replies(conversations, facts)
        added = await service.record_customer_replies(session, incident, facts.ticket_id, replies)
        if added:
            note += f"; {added} customer repl{'y' if added == 1 else 'ies'} added to the timeline"
    return Applied(ReceiptStatus.applied, note, incident.id if incident else None)
