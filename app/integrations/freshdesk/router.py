"""/api/v1/freshdesk: tickets offered as incidents, and what responders decide about them."""

from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import Authenticated, Reader, Writer
from app.dependencies import SessionDep, SettingsDep
from app.incidents import repository as incidents_repo
from app.incidents.router import ERRORS
from app.integrations.freshdesk import repository as repo
from app.integrations.freshdesk import service
from app.integrations.freshdesk.models import FreshdeskTicket, TicketState
from app.integrations.freshdesk.schemas import CandidateDeclare, CandidateLink, TicketPublic
from app.integrations.freshdesk.webhooks import router as webhooks_router

api = APIRouter(
    prefix="/api/v1/freshdesk", tags=["freshdesk"], responses=ERRORS, dependencies=[Authenticated]
)


async def _public(session: AsyncSession, tickets: list[FreshdeskTicket]) -> list[TicketPublic]:
    references = await incidents_repo.references_by_id(
        session, {t.incident_id for t in tickets if t.incident_id is not None}
    )
    return [
        TicketPublic(
            **ticket.model_dump(exclude={"id", "incident_id"}),
            incident=references.get(ticket.incident_id) if ticket.incident_id else None,
        )
        for ticket in tickets
    ]


@api.get("/candidates")
async def list_candidates(
    _actor: Reader,
    session: SessionDep,
    state: TicketState = TicketState.candidate,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[TicketPublic]:
    """Tickets marked as incident-related that name no incident yet, most recently updated first."""
    return await _public(session, await repo.tickets(session, state=state, limit=limit))


@api.post("/candidates/{ticket_id}/link")
async def link_candidate(
    ticket_id: int, link_in: CandidateLink, actor: Writer, session: SessionDep, settings: SettingsDep
) -> TicketPublic:
    """Link a candidate ticket to an open incident: the customer is acknowledged and the ticket follows it."""
    ticket, _ = await service.link_candidate(session, ticket_id, link_in.reference, actor, settings)
    return (await _public(session, [ticket]))[0]


@api.post("/candidates/{ticket_id}/declare", status_code=status.HTTP_201_CREATED)
async def declare_from_candidate(
    ticket_id: int, declare_in: CandidateDeclare, actor: Writer, session: SessionDep, settings: SettingsDep
) -> TicketPublic:
    """Declare an incident from a candidate ticket (409 names an open incident that covers it)."""
    ticket, _ = await service.declare_from(session, ticket_id, declare_in, actor, settings)
    return (await _public(session, [ticket]))[0]


@api.post("/candidates/{ticket_id}/dismiss")
async def dismiss_candidate(ticket_id: int, actor: Writer, session: SessionDep) -> TicketPublic:
    """Not an incident: the ticket leaves the candidates until it names an incident."""
    ticket = await service.dismiss(session, ticket_id, actor)
    return (await _public(session, [ticket]))[0]


router = APIRouter()
router.include_router(webhooks_router)
router.include_router(api)
