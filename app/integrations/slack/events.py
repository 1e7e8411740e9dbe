"""Applying a recorded Slack event: messages in an incident's channel become its timeline."""

import json

from sqlalchemy.ext.asyncio import AsyncSession

from app.integrations.actions import ActionContext
from app.integrations.slack import mapping
from app.integrations.slack import repository as repo
from app.webhooks.apply import Applied
from app.webhooks.models import ReceiptStatus, WebhookReceipt


async def handle(
    session: AsyncSession, ctx: ActionContext, receipt: WebhookReceipt, _fetched: object = None
) -> Applied:
    """The webhook handler registered for ``slack``: one ``event_callback``, applied once."""
    try:
        envelope = json.loads(receipt.body)
    except ValueError:
        return Applied(ReceiptStatus.failed, "the stored body is not JSON")
    event = envelope.get("event") if isinstance(envelope, dict) else None
    if not isinstance(event, dict):
        return Applied(ReceiptStatus.ignored, "no event in the callback")
    if event.get("type") != "message":
        return Applied(ReceiptStatus.ignored, f"{event.get('type')} events are not used")
    channel = event.get("channel")
    incident = await repo.incident_by_channel(session, str(channel)) if channel else None
    if incident is None:
        return Applied(ReceiptStatus.ignored, f"channel {channel} belongs to no incident")
    own = mapping.OwnIdentity.from_envelope(envelope)
    try:
        outcome = await mapping.apply_event(session, incident, event, own, ctx.settings)
    except ValueError as exc:  # a malformed ts: retrying would not make it readable
        return Applied(ReceiptStatus.failed, str(exc), incident.id)
    status = ReceiptStatus.applied if outcome.changed else ReceiptStatus.ignored
    return Applied(status, outcome.note, incident.id)
