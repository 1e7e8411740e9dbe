"""Incident events for subscribers: one signed delivery per subscriber, in order for each incident."""

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.alerting import repository as repo
from app.alerting.models import EventType
from app.config import Settings
from app.deliveries import service as deliveries
from app.deliveries.models import WAITING, DeliveryStatus
from app.incidents import conventions
from app.incidents import repository as incidents_repo
from app.incidents.models import Incident, IncidentStatus

if TYPE_CHECKING:  # planning imports this module
    from app.deliveries.planning import IncidentChange, StatusUpdate

ACTION = "webhook.send"
PROVIDER = "webhook"
# Event ids that must not change if the same event is planned twice are derived from this namespace.
_EVENTS = uuid.UUID("6f1c7a52-3c1e-4f53-9a55-2f0f6a9e1d01")
_UNFINISHED = (*WAITING, DeliveryStatus.in_flight)


def key_prefix(subscription_id: int) -> str:
    """The start of the idempotency key of every delivery to one subscription."""
    return f"subscription:{subscription_id}:"


async def on_declared(session: AsyncSession, incident: Incident, settings: Settings) -> None:
    """Tell subscribers an incident was declared."""
    await _publish(session, incident, EventType.declared, {}, settings, name="declared")


async def on_changed(
    session: AsyncSession, incident: Incident, change: "IncidentChange", settings: Settings
) -> None:
    """Tell subscribers about a status or role change (and, separately, a resolution or a close)."""
    data: dict[str, Any] = {"actor": change.actor_name}
    if change.kind == "status":
        data.update(previous_status=change.previous_status, status=incident.status)
        await _publish(session, incident, EventType.status_changed, data, settings)
        if incident.status == IncidentStatus.resolved:
            await _publish(session, incident, EventType.resolved, data, settings)
        elif incident.status == IncidentStatus.closed:
            await _publish(session, incident, EventType.closed, data, settings)
    elif change.kind == "role":
        data.update(role=change.role)
        await _publish(session, incident, EventType.role_changed, data, settings)


async def on_status_update(
    session: AsyncSession, incident: Incident, update: "StatusUpdate", settings: Settings
) -> None:
    """Pass a posted status update on to subscribers."""
    data = {
        "audience": str(update.audience),
        "body": update.body,
        "template": update.template,
        "author_name": update.author_name,
    }
    await _publish(session, incident, EventType.update_posted, data, settings, name=f"update:{update.key}")


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def snapshot(session: AsyncSession, incident: Incident, settings: Settings) -> dict[str, Any]:
    """The incident as subscribers see it in every event."""
    teams = await incidents_repo.team_names(session, {incident.team_id} if incident.team_id else set())
    return {
        "reference": incident.reference,
        "title": incident.title,
        "summary": incident.summary,
        "summary_line": conventions.incident_summary_line(incident, settings.zone),
        "service": incident.service,
        "functionality": incident.functionality,
        "state": incident.state,
        "audience": incident.audience,
        "severity": incident.severity,
        "priority": incident.priority,
        "affects_end_users": incident.affects_end_users,
        "status": incident.status,
        "team": teams.get(incident.team_id) if incident.team_id else None,
        "channel_name": incident.channel_name,
        "slack_channel_id": incident.slack_channel_id,
        "declared_at": _time(incident.declared_at),
        "investigating_at": _time(incident.investigating_at),
        "mitigated_at": _time(incident.mitigated_at),
        "resolved_at": _time(incident.resolved_at),
        "closed_at": _time(incident.closed_at),
        "updated_at": _time(incident.updated_at),
        "url": f"{settings.base_url.rstrip('/')}/api/v1/incidents/{incident.reference}",
    }


async def _publish(
    session: AsyncSession,
    incident: Incident,
    event_type: EventType,
    data: dict[str, Any],
    settings: Settings,
    *,
    name: str | None = None,
) -> None:
    assert incident.id is not None
    subscribers = [s for s in await repo.active_subscriptions(session) if event_type in s.event_types]
    if not subscribers:
        return
    unique = uuid.uuid5(_EVENTS, f"{incident.id}:{name}") if name else uuid.uuid4()
    event_id = f"evt_{unique.hex}"
    event = {
        "id": event_id,
        "type": str(event_type),
        "occurred_at": clock.now().isoformat(),
        "incident": await snapshot(session, incident, settings),
        "data": data,
    }
    for subscription in subscribers:
        assert subscription.id is not None
        prefix = key_prefix(subscription.id)
        # Each event waits for the previous one to the same subscriber about the same incident.
        previous = await repo.last_delivery(session, incident.id, prefix)
        await deliveries.add(
            session,
            provider=PROVIDER,
            action=ACTION,
            payload={"subscription_id": subscription.id, "event": event},
            idempotency_key=prefix + event_id,
            settings=settings.delivery,
            incident_id=incident.id,
            depends_on=previous if previous is not None and previous.status in _UNFINISHED else None,
        )
