"""Every query the incident feature makes."""

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.incidents.lifecycle import OPEN
from app.incidents.models import (
    ActionItem,
    Hypothesis,
    Incident,
    IncidentLink,
    Milestone,
    ReferenceCounter,
    RoleAssignment,
    TimelineEntry,
)
from app.people.models import OwnedService, Person, Team

REFERENCE_COUNTER = "INC"
Child = TypeVar("Child", Hypothesis, Milestone, ActionItem, IncidentLink)


async def next_number(session: AsyncSession) -> int:
    """The next incident number. The row lock it takes serialises declarations until commit."""
    value = await session.scalar(
        update(ReferenceCounter)
        .where(col(ReferenceCounter.name) == REFERENCE_COUNTER)
        .values(value=col(ReferenceCounter.value) + 1)
        .returning(col(ReferenceCounter.value))
    )
    if value is None:
        raise RuntimeError("reference counter missing: run `relay migrate`")
    return int(value)


def parse_reference(reference: str) -> int | None:
    prefix, _, number = reference.upper().partition("-")
    if prefix != "INC" or not number.isdigit():
        return None
    return int(number)


async def get_by_reference(session: AsyncSession, reference: str) -> Incident | None:
    number = parse_reference(reference)
    if number is None:
        return None
    return await session.scalar(select(Incident).where(col(Incident.number) == number))


async def find_open_duplicate(session: AsyncSession, service: str, functionality: str) -> Incident | None:
    return await session.scalar(
        select(Incident)
        .where(
            func.lower(col(Incident.service)) == service.lower(),
            func.lower(col(Incident.functionality)) == functionality.lower(),
            col(Incident.status).in_(list(OPEN)),
        )
        .order_by(col(Incident.number))
        .limit(1)
    )


async def channel_names_like(session: AsyncSession, base: str) -> set[str]:
    rows = await session.scalars(
        select(col(Incident.channel_name)).where(col(Incident.channel_name).startswith(base))
    )
    return set(rows.all())


async def team_for_service(session: AsyncSession, service: str) -> Team | None:
    return await session.scalar(
        select(Team)
        .join(OwnedService, col(OwnedService.team_id) == col(Team.id))
        .where(func.lower(col(OwnedService.name)) == service.lower())
    )


async def list_incidents(
    session: AsyncSession,
    *,
    statuses: Sequence[str],
    severities: Sequence[str],
    service: str | None,
    since: datetime | None,
    until: datetime | None,
    before_number: int | None,
    limit: int,
) -> list[Incident]:
    query = select(Incident).order_by(col(Incident.number).desc()).limit(limit)
    if statuses:
        query = query.where(col(Incident.status).in_(statuses))
    if severities:
        query = query.where(col(Incident.severity).in_(severities))
    if service:
        query = query.where(func.lower(col(Incident.service)) == service.lower())
    if since:
        query = query.where(col(Incident.declared_at) >= since)
    if until:
        query = query.where(col(Incident.declared_at) < until)
    if before_number is not None:
        query = query.where(col(Incident.number) < before_number)
    return list((await session.scalars(query)).all())


async def references_by_id(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(col(Incident.id), col(Incident.number)).where(col(Incident.id).in_(ids))
    )
    return {row.id: f"INC-{row.number}" for row in rows}


async def team_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(col(Team.id), col(Team.name)).where(col(Team.id).in_(ids)))
    return {row.id: row.name for row in rows}


async def role_assignments(
    session: AsyncSession, incident_id: int, *, current_only: bool
) -> list[tuple[RoleAssignment, str]]:
    query = (
        select(RoleAssignment, col(Person.name))
        .join(Person, col(Person.id) == col(RoleAssignment.person_id))
        .where(col(RoleAssignment.incident_id) == incident_id)
        .order_by(col(RoleAssignment.assigned_at), col(RoleAssignment.id))
    )
    if current_only:
        query = query.where(col(RoleAssignment.relieved_at).is_(None))
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def current_holders(session: AsyncSession, incident_id: int, role: str) -> list[RoleAssignment]:
    rows = await session.scalars(
        select(RoleAssignment).where(
            col(RoleAssignment.incident_id) == incident_id,
            col(RoleAssignment.role) == role,
            col(RoleAssignment.relieved_at).is_(None),
        )
    )
    return list(rows.all())


async def timeline(
    session: AsyncSession, incident_id: int, *, after: tuple[datetime, int] | None, limit: int
) -> list[TimelineEntry]:
    query = (
        select(TimelineEntry)
        .where(col(TimelineEntry.incident_id) == incident_id)
        .order_by(col(TimelineEntry.occurred_at), col(TimelineEntry.id))
        .limit(limit)
    )
    if after is not None:
        at, entry_id = after
        query = query.where(
            (col(TimelineEntry.occurred_at) > at)
            | ((col(TimelineEntry.occurred_at) == at) & (col(TimelineEntry.id) > entry_id))
        )
    return list((await session.scalars(query)).all())


async def children_of(session: AsyncSession, model: type[Child], incident_id: int) -> list[Child]:
    rows = await session.scalars(
        select(model).where(col(model.incident_id) == incident_id).order_by(col(model.id))
    )
    return list(rows.all())


async def action_items(session: AsyncSession, incident_id: int) -> list[ActionItem]:
    rows = await session.scalars(select(ActionItem).where(col(ActionItem.incident_id) == incident_id))
    return list(rows.all())
