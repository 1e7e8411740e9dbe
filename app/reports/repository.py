"""Every query the report feature makes."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.incidents.models import ActionItem, TimelineEntry
from app.people.models import Person
from app.reports.models import IncidentReport

TimelineRow = Row[*tuple[Any, ...]]
# Positions in a timeline row, in the order timeline_rows selects them.
ID, PARENT_ID, DELETED_AT = 0, 1, 8


async def sections(session: AsyncSession, incident_id: int) -> IncidentReport | None:
    return await session.scalar(select(IncidentReport).where(col(IncidentReport.incident_id) == incident_id))


async def timeline_rows(session: AsyncSession, incident_id: int) -> Sequence[TimelineRow]:
    """Every entry of the timeline in time order, as plain rows (a long timeline loads fast)."""
    rows = await session.execute(
        select(
            col(TimelineEntry.id),
            col(TimelineEntry.parent_id),
            col(TimelineEntry.kind),
            col(TimelineEntry.source),
            col(TimelineEntry.body),
            col(TimelineEntry.author_name),
            col(TimelineEntry.occurred_at),
            col(TimelineEntry.edited_at),
            col(TimelineEntry.deleted_at),
        )
        .where(col(TimelineEntry.incident_id) == incident_id)
        .order_by(col(TimelineEntry.occurred_at), col(TimelineEntry.id))
    )
    return rows.all()


async def action_items_with_owners(
    session: AsyncSession, incident_id: int
) -> list[tuple[ActionItem, str | None]]:
    rows = await session.execute(
        select(ActionItem, col(Person.name))
        .outerjoin(Person, col(Person.id) == col(ActionItem.owner_id))
        .where(col(ActionItem.incident_id) == incident_id)
        .order_by(col(ActionItem.id))
    )
    return [(row[0], row[1]) for row in rows.all()]
