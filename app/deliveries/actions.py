"""Every action a delivery can name, and what a finished one changes in Relay."""

from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import clock
from app.alerting.actions import ACTIONS as SUBSCRIPTIONS
from app.deliveries.models import Delivery
from app.incidents.models import Incident, IncidentLink
from app.integrations.actions import Action
from app.integrations.email.actions import ACTIONS as EMAIL
from app.integrations.freshdesk import webhooks as freshdesk_webhooks
from app.integrations.freshdesk.actions import ACTIONS as FRESHDESK
from app.integrations.pagerduty.actions import ACTIONS as PAGERDUTY
from app.integrations.pagerduty.mapping import apply_event as apply_pagerduty_event
from app.integrations.slack import events as slack_events
from app.integrations.slack import tasks as slack_tasks
from app.integrations.slack.actions import ACTIONS as SLACK
from app.webhooks.apply import Fetch, Handler, apply_receipt

# Inbound webhooks, by provider: how a recorded receipt changes Relay.
WEBHOOK_HANDLERS: dict[str, Handler] = {
    "freshdesk": freshdesk_webhooks.handle,
    "pagerduty": apply_pagerduty_event,
    "slack": slack_events.handle,
}
WEBHOOK_FETCHERS: dict[str, Fetch] = {"freshdesk": freshdesk_webhooks.fetch}

ACTIONS: dict[str, Action] = {
    **SLACK,
    **slack_tasks.ACTIONS,
    **PAGERDUTY,
    **FRESHDESK,
    **SUBSCRIPTIONS,
    **EMAIL,
    "webhooks.apply": partial(apply_receipt, handlers=WEBHOOK_HANDLERS, fetchers=WEBHOOK_FETCHERS),
}


async def _link(
    session: AsyncSession, incident_id: int, kind: str, external_id: str, url: str | None
) -> None:
    # A webhook may have linked it first (PagerDuty's incident.triggered can beat the create's answer).
    existing = await session.scalar(
        select(IncidentLink).where(
            col(IncidentLink.kind) == kind, col(IncidentLink.external_id) == external_id
        )
    )
    if existing is not None:
        return
    session.add(
        IncidentLink(
            incident_id=incident_id, kind=kind, external_id=external_id, url=url, created_at=clock.now()
        )
    )


async def apply_result(session: AsyncSession, delivery: Delivery, result: dict[str, Any]) -> None:
    """Record on the incident what a delivery created elsewhere (channel id, PagerDuty incident)."""
    if delivery.incident_id is None:
        return
    if delivery.action == "slack.create_channel":
        incident = await session.get(Incident, delivery.incident_id)
        if incident is not None and incident.slack_channel_id is None:
            incident.slack_channel_id = result["channel_id"]
            await _link(session, delivery.incident_id, "slack_channel", result["channel_id"], None)
    elif delivery.action == "pagerduty.create_incident" and result.get("id"):
        await _link(session, delivery.incident_id, "pagerduty_incident", result["id"], result.get("html_url"))
    await slack_tasks.apply_result(session, delivery, result)
