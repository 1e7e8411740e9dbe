"""Inbound Freshdesk webhooks: check the shared secret, record the hint, and apply it in a job."""

from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.dependencies import SessionDep, SettingsDep
from app.errors import InvalidSignature, UnreadableBody, field_error
from app.incidents.router import PROBLEM
from app.integrations.actions import ActionContext
from app.integrations.freshdesk import mapping, service
from app.integrations.freshdesk import repository as repo
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


@dataclass(frozen=True)
class Fetched:
    """What the job read from Freshdesk before opening its transaction, or why it could not."""

    facts: mapping.TicketFacts | None = None
    conversations: list[dict[str, Any]] | None = None
    problem: Applied | None = None


async def fetch(ctx: ActionContext, receipt: WebhookReceipt) -> Fetched:
    """Re-fetch the ticket the webhook names, and its conversations when it follows an incident."""
    try:
        hint = read_hint(receipt.body.encode())
    except MalformedHint as exc:
        return Fetched(problem=Applied(ReceiptStatus.failed, f"malformed body: {exc.message}"))
    if PROVIDER in ctx.clients.sandboxed:
        why = "Freshdesk is not configured (RELAY_FRESHDESK_API_KEY): cannot fetch tickets"
        return Fetched(problem=Applied(ReceiptStatus.ignored, why))
    client = ctx.clients.freshdesk
    try:
        ticket = await client.get_ticket(ticket_id=hint.ticket_id, include="requester")
    except TicketNotFound:
        why = f"Freshdesk has no ticket {hint.ticket_id} (deleted or merged)"
        return Fetched(problem=Applied(ReceiptStatus.failed, why))
    facts = mapping.ticket_facts(ticket, ctx.settings.freshdesk)
    async with ctx.sessionmaker() as session:
        known = await repo.ticket(session, facts.ticket_id)
        by_hand = await repo.incident_link(session, facts.ticket_id)
    # Replies matter only on a ticket that follows (or is about to follow) an incident.
    follows = known is not None and known.incident_id is not None
    if facts.reference is None and not follows and by_hand is None:
        return Fetched(facts)
    return Fetched(facts, await client.all_conversations(ticket_id=facts.ticket_id))


async def handle(
    session: AsyncSession, ctx: ActionContext, receipt: WebhookReceipt, fetched: Fetched
) -> Applied:
    """Apply what the ticket says now (the webhooks.apply job, after fetch)."""
    del receipt  # everything it says was read by fetch
    if fetched.problem is not None or fetched.facts is None:
        return fetched.problem or Applied(ReceiptStatus.failed, "nothing was fetched")
    facts = fetched.facts
    outcome = await service.apply_ticket(session, facts, ctx.settings)
    incident = outcome.incident
    if not outcome.applied:
        return Applied(ReceiptStatus.ignored, outcome.note, incident.id if incident else None)
    note = outcome.note
    if incident is not None and fetched.conversations is not None:
        replies = mapping.customer_replies(fetched.conversations, facts)
        added = await service.record_customer_replies(session, incident, facts.ticket_id, replies)
        if added:
            note += f"; {added} customer repl{'y' if added == 1 else 'ies'} added to the timeline"
    return Applied(ReceiptStatus.applied, note, incident.id if incident else None)
