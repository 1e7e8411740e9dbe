"""The queries the Slack integration makes."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.deliveries.models import Delivery
from app.incidents.models import Incident, RoleAssignment, TimelineEntry
from app.people.models import OwnedService, Person, TeamMember

SOURCE = "slack"


async def incident_by_channel(session: AsyncSession, channel_id: str) -> Incident | None:
    """The incident whose channel this is (the newest, should a channel ever be adopted twice)."""
    return await session.scalar(
        select(Incident)
        .where(col(Incident.slack_channel_id) == channel_id)
        .order_by(col(Incident.number).desc())
        .limit(1)
    )


async def entry_by_ts(session: AsyncSession, incident_id: int, ts: str) -> TimelineEntry | None:
    return await session.scalar(
        select(TimelineEntry).where(
            col(TimelineEntry.incident_id) == incident_id,
            col(TimelineEntry.source) == SOURCE,
            col(TimelineEntry.external_id) == ts,
        )
    )


async def present_ts(session: AsyncSession, incident_id: int, ts: Sequence[str]) -> set[str]:
    """Which of these message timestamps are already on the incident's timeline."""
    if not ts:
        return set()
    rows = await session.scalars(
        select(col(TimelineEntry.external_id)).where(
            col(TimelineEntry.incident_id) == incident_id,
            col(TimelineEntry.source) == SOURCE,
            col(TimelineEntry.external_id).in_(list(ts)),
        )
    )
    return {row for row in rows if row}


async def orphan_replies(
    session: AsyncSession, incident_id: int, thread_ts: str, posted_at: datetime
) -> list[TimelineEntry]:
    """Replies stored before their thread's parent arrived (events can be applied out of order)."""
    rows = await session.scalars(
        select(TimelineEntry).where(
            col(TimelineEntry.incident_id) == incident_id,
            # Replies come after their parent: the (incident, time) index keeps this to the newest entries.
            col(TimelineEntry.occurred_at) >= posted_at,
            col(TimelineEntry.source) == SOURCE,
            col(TimelineEntry.parent_id).is_(None),
            col(TimelineEntry.data)["thread_ts"].as_string() == thread_ts,
        )
    )
    return list(rows.all())


async def slack_ids(session: AsyncSession, person_ids: Sequence[int]) -> list[str]:
    """The Slack user ids of these people, in the order given; people without one are left out."""
    if not person_ids:
        return []
    rows = await session.execute(
        select(col(Person.id), col(Person.slack_user_id)).where(
            col(Person.id).in_(list(person_ids)), col(Person.slack_user_id).is_not(None)
        )
    )
    found = {row.id: row.slack_user_id for row in rows}
    return [found[pid] for pid in dict.fromkeys(person_ids) if found.get(pid)]


async def team_member_ids(session: AsyncSession, team_id: int) -> list[int]:
    rows = await session.scalars(select(col(TeamMember.person_id)).where(col(TeamMember.team_id) == team_id))
    return list(rows.all())


async def role_holder_ids(session: AsyncSession, incident_id: int, role: str) -> list[int]:
    rows = await session.scalars(
        select(col(RoleAssignment.person_id)).where(
            col(RoleAssignment.incident_id) == incident_id,
            col(RoleAssignment.role) == role,
            col(RoleAssignment.relieved_at).is_(None),
        )
    )
    return list(rows.all())


async def service_names(session: AsyncSession, limit: int) -> list[str]:
    rows = await session.scalars(select(col(OwnedService.name)).order_by(col(OwnedService.name)).limit(limit))
    return list(rows.all())


async def deliveries_with_prefix(session: AsyncSession, prefix: str) -> list[Delivery]:
    rows = await session.scalars(
        select(Delivery)
        .where(col(Delivery.idempotency_key).startswith(prefix, autoescape=True))
        .order_by(col(Delivery.id))
    )
    return list(rows.all())


async def rename_author(session: AsyncSession, person_id: int, old: str, new: str) -> None:
    """Entries written while the person was known only by a placeholder get their real name."""
    await session.execute(
        update(TimelineEntry)
        .where(col(TimelineEntry.author_id) == person_id, col(TimelineEntry.author_name) == old)
        .values(author_name=new)
        .execution_options(synchronize_session=False)
    )
