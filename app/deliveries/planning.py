"""Which deliveries each incident event causes."""

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerting import outbound as subscriptions
from app.comms import hooks as comms_hooks
from app.config import Settings
from app.incidents.models import Incident
from app.integrations.email import mapping as email_mapping
from app.integrations.freshdesk import planning as freshdesk
from app.integrations.pagerduty import planning as paging
from app.integrations.slack import planning as slack
from app.people.models import Team


async def on_declared(
    session: AsyncSession,
    incident: Incident,
    summary_line: str,
    team: Team | None,
    settings: Settings,
    *,
    source: str = "api",
) -> None:
    """Open the channel, post and pin the summary, announce it, and page when the severity says so."""
    await slack.on_declared(session, incident, summary_line, team, settings)
    if source != paging.SOURCE:  # an incident PagerDuty raised is paged already
        await paging.page(session, incident, team, settings)
    await subscriptions.on_declared(session, incident, settings)


class Audience(StrEnum):
    internal = "internal"
    external = "external"


@dataclass(frozen=True)
class StatusUpdate:
    """A status update as rendered for one audience, ready to go to every place that audience reads."""

    key: str  # unique per update: part of each delivery's idempotency key
    audience: Audience
    body: str
    template: str | None = None
    author_name: str | None = None
    author_id: int | None = None


class ChangeKind(StrEnum):
    status = "status"
    fields = "fields"
    role = "role"


@dataclass(frozen=True)
class IncidentChange:
    """What just changed on an incident, for the integrations that mirror it elsewhere."""

    kind: ChangeKind
    fields: frozenset[str] = field(default_factory=frozenset)
    previous_status: str | None = None
    role: str | None = None
    actor_name: str | None = None
    actor_id: int | None = None
    # Where the change came from ("api", "pagerduty", "slack"…): an integration does not echo its own.
    source: str = "api"


async def on_changed(
    session: AsyncSession, incident: Incident, change: IncidentChange, settings: Settings
) -> None:
    """Plan the deliveries that keep Slack, PagerDuty and Freshdesk in step with a change."""
    # Each integration adds its reaction here; a change none of them mirrors sends nothing.
    await freshdesk.on_changed(session, incident, change, settings)
    await subscriptions.on_changed(session, incident, change, settings)
    await comms_hooks.on_changed(session, incident, change, settings)
    await paging.on_changed(session, incident, change, settings)
    await slack.on_changed(session, incident, change, settings)


async def on_status_update(
    session: AsyncSession, incident: Incident, update: StatusUpdate, settings: Settings
) -> None:
    """Plan the deliveries that carry a status update to every place its audience reads."""
    # Each integration adds its reaction here (incident channel, announcements, tickets, email…).
    await freshdesk.on_status_update(session, incident, update, settings)
    await subscriptions.on_status_update(session, incident, update, settings)
    await email_mapping.on_status_update(session, incident, update, settings)
    await paging.on_status_update(session, incident, update, settings)
    await slack.on_status_update(session, incident, update, settings)
