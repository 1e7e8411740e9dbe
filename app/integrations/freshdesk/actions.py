"""Freshdesk deliveries: replies to the customer, private notes, ticket updates."""

from typing import Any

import structlog

from app.db.session import unit_of_work
from app.integrations.actions import Action, ActionContext, Result
from app.integrations.freshdesk import service
from app.integrations.freshdesk.client import FreshdeskValidationError

log = structlog.get_logger(__name__)


async def reply(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """A public reply on the ticket; the requester gets it by email."""
    ticket_id = int(payload["ticket_id"])
    data = await ctx.clients.freshdesk.reply(ticket_id=ticket_id, body=payload["body"])
    return {"ticket_id": ticket_id, "conversation_id": data.get("id")}


async def add_note(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """A note on the ticket, private to agents unless ``private`` is false."""
    ticket_id = int(payload["ticket_id"])
    data = await ctx.clients.freshdesk.add_note(
        ticket_id=ticket_id, body=payload["body"], private=bool(payload.get("private", True))
    )
    return {"ticket_id": ticket_id, "note_id": data.get("id")}


async def update_ticket(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """Change ticket fields (status, responder); a validation refusal goes on the incident's timeline."""
    ticket_id = int(payload["ticket_id"])
    fields: dict[str, Any] = payload["fields"]
    try:
        data = await ctx.clients.freshdesk.update_ticket(ticket_id=ticket_id, fields=fields)
    except FreshdeskValidationError as exc:
        # Freshdesk will say the same until someone fills the fields in: the delivery ends dead with
        # Freshdesk's words, and the team sees why on the timeline.
        async with unit_of_work(ctx.sessionmaker) as session:
            recorded = await service.record_refusal(session, ticket_id, fields, exc.errors)
        log.warning("freshdesk_update_refused", ticket_id=ticket_id, on_timeline=recorded, error=exc.message)
        raise
    return {"ticket_id": ticket_id, **{name: data.get(name) for name in fields}}


ACTIONS: dict[str, Action] = {
    "freshdesk.reply": reply,
    "freshdesk.add_note": add_note,
    "freshdesk.update_ticket": update_ticket,
}
