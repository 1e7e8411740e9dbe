"""Every query the communication feature and the process clock make."""

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.comms.models import MessageTemplate
from app.incidents.models import Incident, Milestone, RoleAssignment, TimelineEntry, TimelineKind
from app.people.models import Person, Team


async def template(session: AsyncSession, name: str, audience: str) -> MessageTemplate | None:
    return await session.scalar(
        select(MessageTemplate).where(
            col(MessageTemplate.name) == name, col(MessageTemplate.audience) == audience
        )
    )


async def templates(session: AsyncSession) -> list[MessageTemplate]:
    return list((await session.scalars(select(MessageTemplate))).all())


async def holder(session: AsyncSession, incident_id: int, role: str) -> Person | None:
    """The person who holds a single-holder role now, if anyone does."""
    return await session.scalar(
        select(Person)
        .join(RoleAssignment, col(RoleAssignment.person_id) == col(Person.id))
        .where(
            col(RoleAssignment.incident_id) == incident_id,
            col(RoleAssignment.role) == role,
            col(RoleAssignment.relieved_at).is_(None),
        )
        .order_by(col(RoleAssignment.assigned_at).desc())
        .limit(1)
    )


async def latest_milestone(session: AsyncSession, incident_id: int) -> str | None:
    return await session.scalar(
        select(col(Milestone.label))
        .where(col(Milestone.incident_id) == incident_id)
        .order_by(col(Milestone.occurred_at).desc(), col(Milestone.id).desc())
        .limit(1)
    )


async def team(session: AsyncSession, team_id: int | None) -> Team | None:
    return None if team_id is None else await session.get(Team, team_id)


async def communications(session: AsyncSession, incident_id: int) -> list[TimelineEntry]:
    """The incident's communication entries, newest first."""
    rows = await session.scalars(
        select(TimelineEntry)
        .where(
            col(TimelineEntry.incident_id) == incident_id,
            col(TimelineEntry.kind) == TimelineKind.communication,
            col(TimelineEntry.deleted_at).is_(None),
        )
        .order_by(col(TimelineEntry.occurred_at).desc(), col(TimelineEntry.id).desc())
    )
    return list(rows.all())


async def watched_ids(session: AsyncSession, statuses: Collection[str]) -> list[int]:
    """The incidents the clock looks at on a tick."""
    rows = await session.scalars(
        select(col(Incident.id)).where(col(Incident.status).in_(list(statuses))).order_by(col(Incident.id))
    )
    return [row for row in rows.all() if row is not None]


async def lock_for_tick(session: AsyncSession, incident_id: int) -> Incident | None:
    """The incident, locked; None when another worker (or a request) holds it right now (PostgreSQL)."""
    return await session.scalar(
        select(Incident)
        .where(col(Incident.id) == incident_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
