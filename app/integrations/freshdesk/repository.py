"""Every query the Freshdesk integration makes."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.incidents.models import IncidentLink, TimelineEntry
from app.integrations.freshdesk.models import FreshdeskTicket, TicketState

LINK_KIND = "freshdesk_ticket"


async def ticket(
    session: AsyncSession, ticket_id: int, *, for_update: bool = False
) -> FreshdeskTicket | None:
    query = select(FreshdeskTicket).where(col(FreshdeskTicket.ticket_id) == ticket_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def tickets(session: AsyncSession, *, state: str, limit: int) -> list[FreshdeskTicket]:
    rows = await session.scalars(
        select(FreshdeskTicket)
        .where(col(FreshdeskTicket.state) == state)
        .order_by(col(FreshdeskTicket.updated_at).desc(), col(FreshdeskTicket.id).desc())
        .limit(limit)
    )
    return list(rows.all())


async def linked_tickets(session: AsyncSession, incident_id: int) -> list[FreshdeskTicket]:
    """The tickets following an incident, in the order they were linked."""
    rows = await session.scalars(
        select(FreshdeskTicket)
        .where(
            col(FreshdeskTicket.incident_id) == incident_id,
            col(FreshdeskTicket.state) == TicketState.linked,
        )
        .order_by(col(FreshdeskTicket.id))
    )
    return list(rows.all())


async def incident_link(session: AsyncSession, ticket_id: int) -> IncidentLink | None:
    return await session.scalar(
        select(IncidentLink).where(
            col(IncidentLink.kind) == LINK_KIND, col(IncidentLink.external_id) == str(ticket_id)
        )
    )


async def links_of(session: AsyncSession, incident_id: int) -> list[IncidentLink]:
    rows = await session.scalars(
        select(IncidentLink)
        .where(col(IncidentLink.incident_id) == incident_id)
        .order_by(col(IncidentLink.id))
    )
    return list(rows.all())


async def timeline_external_ids(session: AsyncSession, incident_id: int, source: str) -> set[str]:
    """What the incident's timeline already holds from ``source``, by the source's own ids."""
    rows = await session.scalars(
        select(col(TimelineEntry.external_id)).where(
            col(TimelineEntry.incident_id) == incident_id,
            col(TimelineEntry.source) == source,
            col(TimelineEntry.external_id).is_not(None),
        )
    )
    return {row for row in rows.all() if row is not None}
