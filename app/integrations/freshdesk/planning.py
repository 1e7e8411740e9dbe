"""Which Freshdesk deliveries an incident's events cause on the tickets that follow it."""

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.deliveries import repository as deliveries_repo
from app.deliveries import service as deliveries
from app.deliveries.models import SUCCEEDED, Delivery
from app.incidents import repository as incidents_repo
from app.incidents.models import Incident, IncidentStatus, Role
from app.integrations.freshdesk import messages
from app.integrations.freshdesk import repository as repo
from app.integrations.freshdesk.models import FreshdeskTicket
from app.people.models import Person

if TYPE_CHECKING:  # the shared planning module imports this one
    from app.deliveries.planning import IncidentChange, StatusUpdate

# Freshdesk's ticket statuses.
RESOLVED = 4
CLOSED = 5


def incident_url(incident: Incident, settings: Settings) -> str:
    """The page the customer is pointed at."""
    return settings.freshdesk.incident_url.format(
        base_url=settings.base_url.rstrip("/"), reference=incident.reference
    )


def ticket_context(incident: Incident, ticket: FreshdeskTicket, settings: Settings) -> messages.TicketContext:
    return messages.TicketContext(
        name=ticket.requester_name or "there",
        context=incident.summary or incident.title,
        link=incident_url(incident, settings),
        reference=incident.reference,
    )


async def _add(
    session: AsyncSession,
    incident: Incident,
    action: str,
    key: str,
    payload: dict[str, Any],
    settings: Settings,
    depends_on: Delivery | None = None,
) -> Delivery:
    return await deliveries.add(
        session,
        provider="freshdesk",
        action=action,
        payload=payload,
        idempotency_key=f"{incident.reference}:freshdesk:{key}",
        settings=settings.delivery,
        incident_id=incident.id,
        depends_on=depends_on,
    )


async def _internal_note(session: AsyncSession, incident: Incident, settings: Settings) -> str:
    assert incident.id is not None
    links = [messages.InternalLink("Relay", incident.reference, incident_url(incident, settings))]
    channel = f"#{incident.channel_name}"
    slack_url = (
        f"https://slack.com/app_redirect?channel={incident.slack_channel_id}"
        if incident.slack_channel_id
        else None
    )
    links.append(messages.InternalLink("Slack", channel, slack_url))
    for link in await repo.links_of(session, incident.id):
        if link.kind == "pagerduty_incident":
            links.append(messages.InternalLink("PagerDuty", link.title or link.external_id, link.url))
    heading = f"{incident.reference} ({incident.severity}, {incident.status}): {incident.title}"
    return messages.internal_note(heading, links)


async def _assign(
    session: AsyncSession,
    incident: Incident,
    tickets: list[FreshdeskTicket],
    settings: Settings,
    depends_on: Delivery | None = None,
) -> None:
    """Hand the tickets to the liaison, who owns the conversation with the customer, when known."""
    assert incident.id is not None
    holders = await incidents_repo.current_holders(session, incident.id, Role.liaison)
    if not holders:
        return
    liaison = holders[-1]
    person = await session.get(Person, liaison.person_id)
    if person is None or not person.freshdesk_agent_id:
        return
    for ticket in tickets:
        await _add(
            session,
            incident,
            "freshdesk.update_ticket",
            f"{ticket.ticket_id}:assign:{liaison.id}",
            {"ticket_id": ticket.ticket_id, "fields": {"responder_id": int(person.freshdesk_agent_id)}},
            settings,
            depends_on,
        )


async def on_link(
    session: AsyncSession, incident: Incident, ticket: FreshdeskTicket, settings: Settings
) -> None:
    """Acknowledge the customer, leave the agents the internal links, assign the liaison; in that order."""
    tid = ticket.ticket_id
    template = settings.freshdesk.acknowledge_template or messages.ACKNOWLEDGE
    acknowledge = await _add(
        session,
        incident,
        "freshdesk.reply",
        f"{tid}:acknowledge",
        {"ticket_id": tid, "body": messages.render(template, ticket_context(incident, ticket, settings))},
        settings,
    )
    note = await _add(
        session,
        incident,
        "freshdesk.add_note",
        f"{tid}:internal_links",
        {"ticket_id": tid, "body": await _internal_note(session, incident, settings), "private": True},
        settings,
        acknowledge,
    )
    await _assign(session, incident, [ticket], settings, note)


async def on_status_update(
    session: AsyncSession, incident: Incident, update: "StatusUpdate", settings: Settings
) -> None:
    """An external status update, as a reply on every linked ticket."""
    if update.audience != "external":
        return
    assert incident.id is not None
    for ticket in await repo.linked_tickets(session, incident.id):
        await _add(
            session,
            incident,
            "freshdesk.reply",
            f"{ticket.ticket_id}:update:{update.key}",
            {"ticket_id": ticket.ticket_id, "body": messages.as_html(update.body)},
            settings,
        )


async def _resolved(
    session: AsyncSession, incident: Incident, tickets: list[FreshdeskTicket], settings: Settings
) -> None:
    assert incident.resolved_at is not None
    stamp = int(incident.resolved_at.timestamp())  # a second resolution after a regression is told again
    template = settings.freshdesk.resolved_template or messages.RESOLVED
    for ticket in tickets:
        tid = ticket.ticket_id
        reply = await _add(
            session,
            incident,
            "freshdesk.reply",
            f"{tid}:resolved:{stamp}",
            {"ticket_id": tid, "body": messages.render(template, ticket_context(incident, ticket, settings))},
            settings,
        )
        # After the reply: an agent's reply can itself change the ticket's status.
        await _add(
            session,
            incident,
            "freshdesk.update_ticket",
            f"{tid}:status_resolved:{stamp}",
            {"ticket_id": tid, "fields": {"status": RESOLVED}},
            settings,
            reply,
        )


async def _closed(
    session: AsyncSession, incident: Incident, tickets: list[FreshdeskTicket], settings: Settings
) -> None:
    stamp = int(incident.resolved_at.timestamp()) if incident.resolved_at else 0
    for ticket in tickets:
        tid = ticket.ticket_id
        resolving = await deliveries_repo.by_key(
            session, f"{incident.reference}:freshdesk:{tid}:status_resolved:{stamp}"
        )
        # Closed must land after Resolved, or a late Resolved would reopen the closed ticket.
        wait_for = resolving if resolving is not None and resolving.status not in SUCCEEDED else None
        await _add(
            session,
            incident,
            "freshdesk.update_ticket",
            f"{tid}:status_closed",
            {"ticket_id": tid, "fields": {"status": CLOSED}},
            settings,
            wait_for,
        )


async def on_changed(
    session: AsyncSession, incident: Incident, change: "IncidentChange", settings: Settings
) -> None:
    """Resolved: the resolved reply, then status Resolved; closed: status Closed; a new liaison: assign."""
    assert incident.id is not None
    if change.kind == "role" and change.role == Role.liaison:
        tickets = await repo.linked_tickets(session, incident.id)
        await _assign(session, incident, tickets, settings)
        return
    if change.kind != "status" or incident.status not in (IncidentStatus.resolved, IncidentStatus.closed):
        return
    tickets = await repo.linked_tickets(session, incident.id)
    if incident.status == IncidentStatus.resolved:
        await _resolved(session, incident, tickets, settings)
    else:
        await _closed(session, incident, tickets, settings)
