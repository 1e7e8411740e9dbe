"""Tickets and incidents: linking, candidates, customer replies, and what Freshdesk refused."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.auth.service import Actor
from app.config import Settings
from app.errors import Conflict, NotFound, ValidationFailed, field_error
from app.incidents import lifecycle
from app.incidents import repository as incidents_repo
from app.incidents import service as incident_service
from app.incidents.models import Incident, IncidentLink, IncidentStatus, TimelineKind
from app.incidents.schemas import IncidentCreate
from app.integrations.freshdesk import planning
from app.integrations.freshdesk import repository as repo
from app.integrations.freshdesk.client import describe_errors
from app.integrations.freshdesk.mapping import CustomerReply, TicketFacts
from app.integrations.freshdesk.models import FreshdeskTicket, TicketState
from app.integrations.freshdesk.schemas import CandidateDeclare

SOURCE = "freshdesk"


@dataclass(frozen=True)
class TicketOutcome:
    """What applying one version of a ticket did."""

    applied: bool
    note: str
    incident: Incident | None = None


async def _open_target(session: AsyncSession, reference: str) -> tuple[Incident | None, str]:
    """The incident a ticket should follow, and why not when there is none (merged ones lead on)."""
    incident = await incidents_repo.get_by_reference(session, reference)
    if incident is not None and incident.status == IncidentStatus.duplicate and incident.duplicate_of_id:
        incident = await session.get(Incident, incident.duplicate_of_id)
    if incident is None:
        return None, f"{reference} does not exist"
    if incident.status in lifecycle.TERMINAL:
        return None, f"{incident.reference} is {incident.status}"
    return incident, ""


async def link(
    session: AsyncSession, ticket: FreshdeskTicket, incident: Incident, settings: Settings, *, actor_name: str
) -> None:
    """Make the ticket follow the incident, and plan the acknowledgement, the note and the assignment."""
    assert incident.id is not None
    existing = await repo.incident_link(session, ticket.ticket_id)
    if existing is not None and existing.incident_id != incident.id:
        raise Conflict(f"Freshdesk ticket {ticket.ticket_id} is already linked to another incident.")
    now = clock.now()
    if existing is None:
        session.add(
            IncidentLink(
                incident_id=incident.id,
                kind=repo.LINK_KIND,
                external_id=str(ticket.ticket_id),
                url=ticket.url,
                title=(ticket.subject or "")[:300] or None,
                created_at=now,
            )
        )
    ticket.state = TicketState.linked
    ticket.incident_id = incident.id
    ticket.note = None
    ticket.updated_at = now
    who = f" from {ticket.requester_name}" if ticket.requester_name else ""
    await incident_service.add_entry(
        session,
        incident,
        TimelineKind.event,
        f"Freshdesk ticket #{ticket.ticket_id}{who} linked: {ticket.subject or '(no subject)'}",
        source=SOURCE,
        author_name=actor_name,
        data={"ticket_id": ticket.ticket_id, "url": ticket.url},
    )
    await planning.on_link(session, incident, ticket, settings)


def _refresh(ticket: FreshdeskTicket, facts: TicketFacts) -> None:
    ticket.subject = facts.subject or ticket.subject
    ticket.requester_name = facts.requester_name or ticket.requester_name
    ticket.requester_email = facts.requester_email or ticket.requester_email
    ticket.url = facts.url
    ticket.ticket_updated_at = facts.updated_at or ticket.ticket_updated_at
    ticket.updated_at = clock.now()


async def apply_ticket(session: AsyncSession, facts: TicketFacts, settings: Settings) -> TicketOutcome:
    """Link, offer as a candidate, or ignore one version of a ticket; each version once."""
    tid = facts.ticket_id
    ticket = await repo.ticket(session, tid, for_update=True)
    seen = ticket.ticket_updated_at if ticket is not None else None
    if seen is not None and facts.updated_at is not None and facts.updated_at <= seen:
        incident = await session.get(Incident, ticket.incident_id) if ticket and ticket.incident_id else None
        return TicketOutcome(
            False, f"ticket {tid} as of {facts.updated_at.isoformat()} was already applied", incident
        )
    linked_by_hand: int | None = None
    if ticket is None:
        by_hand = await repo.incident_link(session, tid)  # linked through /incidents/{ref}/links
        if by_hand is None and not facts.marked:
            return TicketOutcome(False, f"ticket {tid} is not marked as incident-related")
        now = clock.now()
        ticket = FreshdeskTicket(ticket_id=tid, created_at=now, updated_at=now)
        linked_by_hand = by_hand.incident_id if by_hand is not None else None
        session.add(ticket)
    _refresh(ticket, facts)
    await session.flush()
    if linked_by_hand is not None:
        # First sight of a ticket a responder linked by hand: now that Relay knows who asked, the
        # customer gets the same acknowledgement, note and assignment as any linked ticket.
        target = await session.get(Incident, linked_by_hand)
        if target is not None:
            await link(session, ticket, target, settings, actor_name="Freshdesk")
            return TicketOutcome(True, f"ticket {tid} follows {target.reference}", target)
    if ticket.state == TicketState.linked and ticket.incident_id is not None:
        incident = await session.get(Incident, ticket.incident_id)
        return TicketOutcome(
            True, f"ticket {tid} follows {incident.reference if incident else '?'}", incident
        )
    if ticket.state == TicketState.dismissed and facts.reference is None:
        return TicketOutcome(True, f"ticket {tid} was dismissed by a responder ({ticket.note})")
    if facts.reference is not None:
        incident, why_not = await _open_target(session, facts.reference)
        if incident is not None:
            await link(session, ticket, incident, settings, actor_name="Freshdesk")
            return TicketOutcome(True, f"ticket {tid} linked to {incident.reference}", incident)
        ticket.note = f"{settings.freshdesk.incident_field} names {facts.reference}, but {why_not}"
    elif facts.named_value is not None:
        ticket.note = (
            f"{settings.freshdesk.incident_field} holds {facts.named_value!r}, not an INC-<n> reference"
        )
    else:
        ticket.note = "marked as incident-related; names no incident"
    ticket.state = TicketState.candidate
    return TicketOutcome(True, f"ticket {tid} is a candidate: {ticket.note}")


async def record_customer_replies(
    session: AsyncSession, incident: Incident, ticket_id: int, replies: list[CustomerReply]
) -> int:
    """Put new customer replies on the timeline; one after the resolved message confirms the close."""
    assert incident.id is not None
    known = await repo.timeline_external_ids(session, incident.id, SOURCE)
    added = 0
    for reply in replies:
        external_id = f"conversation:{reply.conversation_id}"
        if external_id in known:
            continue
        await incident_service.add_entry(
            session,
            incident,
            TimelineKind.communication,
            f"Customer reply on Freshdesk ticket #{ticket_id}: {reply.text}",
            source=SOURCE,
            author_name=reply.author,
            occurred_at=reply.created_at,
            external_id=external_id,
            data={"ticket_id": ticket_id, "conversation_id": reply.conversation_id, "direction": "inbound"},
        )
        added += 1
        if _confirms(incident, reply):
            await incident_service.lock(session, incident, None)
            incident.customer_confirmed_at = reply.created_at
            await incident_service.add_entry(
                session,
                incident,
                TimelineKind.event,
                f"The customer answered on Freshdesk ticket #{ticket_id} after the resolved message; "
                "this counts as their confirmation for closing.",
                source=SOURCE,
                data={"ticket_id": ticket_id, "conversation_id": reply.conversation_id},
            )
    return added


def _confirms(incident: Incident, reply: CustomerReply) -> bool:
    return (
        incident.status == IncidentStatus.resolved
        and incident.customer_confirmed_at is None
        and incident.resolved_at is not None
        and reply.created_at > incident.resolved_at
    )


async def record_refusal(
    session: AsyncSession, ticket_id: int, fields: dict[str, Any], errors: list[dict[str, Any]]
) -> bool:
    """Put on the incident's timeline that Freshdesk refused a ticket update, in Freshdesk's words."""
    ticket = await repo.ticket(session, ticket_id)
    if ticket is None or ticket.incident_id is None:
        return False
    incident = await session.get(Incident, ticket.incident_id)
    if incident is None:
        return False
    status = fields.get("status")
    what = {planning.RESOLVED: "mark as Resolved", planning.CLOSED: "close"}.get(
        status if isinstance(status, int) else 0, "update"
    )
    await incident_service.add_entry(
        session,
        incident,
        TimelineKind.event,
        f"Freshdesk refused to {what} ticket #{ticket_id}: {describe_errors(errors)}. "
        "Fill these in on the ticket, then retry the delivery.",
        source=SOURCE,
        data={"ticket_id": ticket_id, "fields": fields, "errors": errors},
    )
    return True


async def _candidate_or_404(session: AsyncSession, ticket_id: int) -> FreshdeskTicket:
    ticket = await repo.ticket(session, ticket_id, for_update=True)
    if ticket is None:
        raise NotFound(
            f"Relay has not seen Freshdesk ticket {ticket_id}. Tag it as incident-related (or name the "
            "incident in its incident field) so that the automation rule sends it to Relay."
        )
    if ticket.state == TicketState.linked:
        references = await incidents_repo.references_by_id(session, {ticket.incident_id or 0})
        following = references.get(ticket.incident_id or 0, "an incident")
        raise Conflict(f"Freshdesk ticket {ticket_id} already follows {following}.")
    return ticket


async def link_candidate(
    session: AsyncSession, ticket_id: int, reference: str, actor: Actor, settings: Settings
) -> tuple[FreshdeskTicket, Incident]:
    """A responder links a candidate ticket to an open incident."""
    ticket = await _candidate_or_404(session, ticket_id)
    incident, why_not = await _open_target(session, reference)
    if incident is None:
        raise ValidationFailed(
            f"Cannot link ticket {ticket_id}: {why_not}.",
            errors=[field_error("reference", f"{why_not}; name an open incident")],
        )
    await link(session, ticket, incident, settings, actor_name=actor.name)
    return ticket, incident


async def declare_from(
    session: AsyncSession, ticket_id: int, data: CandidateDeclare, actor: Actor, settings: Settings
) -> tuple[FreshdeskTicket, Incident]:
    """A responder declares an incident from a candidate ticket; the ticket then follows it."""
    ticket = await _candidate_or_404(session, ticket_id)
    subject = ticket.subject or f"Freshdesk ticket #{ticket_id}"
    declaration = IncidentCreate(
        title=data.title or subject[:200],
        summary=data.summary or f"Reported in Freshdesk ticket #{ticket_id}: {subject}",
        **data.model_dump(exclude={"title", "summary"}),
    )
    incident = await incident_service.declare(session, declaration, actor, settings, source=SOURCE)
    await link(session, ticket, incident, settings, actor_name=actor.name)
    return ticket, incident


async def dismiss(session: AsyncSession, ticket_id: int, actor: Actor) -> FreshdeskTicket:
    """A responder decides a candidate is not an incident."""
    ticket = await _candidate_or_404(session, ticket_id)
    ticket.state = TicketState.dismissed
    ticket.note = f"dismissed by {actor.name}"
    ticket.updated_at = clock.now()
    return ticket
