"""The queries that tie Relay's records to PagerDuty's: links, mapped services, people, events seen."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.incidents.models import Incident, IncidentLink, TimelineEntry, TimelineKind
from app.people.models import OwnedService, Person, Team

LINK_KIND = "pagerduty_incident"
SOURCE = "pagerduty"


async def incident_for(session: AsyncSession, pagerduty_id: str) -> Incident | None:
    """The Relay incident a PagerDuty incident is linked to, locked until the transaction ends.

    The lock makes events about one incident apply one after another, each seeing what the
    previous one changed, instead of failing each other's version checks.
    """
    return await session.scalar(
        select(Incident)
        .join(IncidentLink, col(IncidentLink.incident_id) == col(Incident.id))
        .where(col(IncidentLink.kind) == LINK_KIND, col(IncidentLink.external_id) == pagerduty_id)
        .with_for_update(of=Incident)
        .execution_options(populate_existing=True)
    )


async def link_of(session: AsyncSession, incident_id: int) -> IncidentLink | None:
    """The PagerDuty incident linked to a Relay incident (the first, when several joined it)."""
    return await session.scalar(
        select(IncidentLink)
        .where(col(IncidentLink.incident_id) == incident_id, col(IncidentLink.kind) == LINK_KIND)
        .order_by(col(IncidentLink.id))
        .limit(1)
    )


async def links(session: AsyncSession, incident_id: int, kind: str) -> list[IncidentLink]:
    rows = await session.scalars(
        select(IncidentLink)
        .where(col(IncidentLink.incident_id) == incident_id, col(IncidentLink.kind) == kind)
        .order_by(col(IncidentLink.id))
    )
    return list(rows.all())


async def team_for_service(session: AsyncSession, pagerduty_service_id: str) -> Team | None:
    """The team whose PagerDuty service this is."""
    return await session.scalar(
        select(Team).where(col(Team.pagerduty_service_id) == pagerduty_service_id).order_by(col(Team.id))
    )


async def first_service_of(session: AsyncSession, team_id: int) -> str | None:
    """One of the team's services (alphabetically first), to name a declared incident's service."""
    name: str | None = await session.scalar(
        select(col(OwnedService.name))
        .where(col(OwnedService.team_id) == team_id)
        .order_by(col(OwnedService.name))
        .limit(1)
    )
    return name


async def person_by_user(session: AsyncSession, pagerduty_user_id: str) -> Person | None:
    return await session.scalar(select(Person).where(col(Person.pagerduty_user_id) == pagerduty_user_id))


async def event_applied(session: AsyncSession, incident_id: int, event_id: str) -> bool:
    """Whether a PagerDuty event already left its entry on the incident's timeline."""
    found = await session.scalar(
        select(col(TimelineEntry.id)).where(
            col(TimelineEntry.incident_id) == incident_id,
            col(TimelineEntry.source) == SOURCE,
            col(TimelineEntry.external_id) == event_id,
        )
    )
    return found is not None


async def latest_priority_change(session: AsyncSession, incident_id: int) -> datetime | None:
    """When the newest priority change PagerDuty sent (and Relay applied) happened."""
    rows = await session.scalars(
        select(TimelineEntry).where(
            col(TimelineEntry.incident_id) == incident_id,
            col(TimelineEntry.source) == SOURCE,
            col(TimelineEntry.kind) == TimelineKind.field_change,
        )
    )
    times = [entry.occurred_at for entry in rows if (entry.data or {}).get("field") == "priority"]
    return max(times, default=None)
