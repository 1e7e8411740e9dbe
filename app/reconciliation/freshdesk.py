"""Freshdesk's pass: tickets updated since the last run, a page of a hundred per call, oldest change
first; then the linked tickets whose incident changed in Relay and whose last seen state no longer
fits. A version of a ticket that no webhook brought is applied by the webhook's own code."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db.session import unit_of_work
from app.incidents.models import Incident, IncidentStatus, Role
from app.integrations.errors import PermanentError, TransientError
from app.integrations.freshdesk import mapping
from app.integrations.freshdesk import repository as freshdesk_repo
from app.integrations.freshdesk import service as freshdesk_service
from app.integrations.freshdesk.models import TicketState
from app.people.models import Person
from app.reconciliation import drift
from app.reconciliation import repository as repo
from app.reconciliation.drift import Finding, Remedy, TicketView, TicketWant, ticket_status_name
from app.reconciliation.passes import Pass, changed_since, plan, record, relay_side_limit, save_state

KIND = freshdesk_repo.LINK_KIND
PROVIDER = "freshdesk"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _listed(p: Pass) -> dict[int, dict[str, Any]]:
    """The tickets updated in the window that Relay follows or that are marked as incident-related."""
    options = p.settings.reconciliation
    found: dict[int, dict[str, Any]] = {}
    last: Any = None
    for page in range(1, options.max_pages + 1):
        batch = await p.clients.freshdesk.list_tickets(
            updated_since=_iso(p.window_from), page=page, per_page=options.page_size
        )
        for ticket in batch:
            if isinstance(ticket.get("id"), int):
                found[ticket["id"]] = ticket
                last = ticket.get("updated_at")
        if len(batch) < options.page_size:
            break
    else:
        reached = mapping.parse_time(last)
        if reached is not None:  # oldest change first: the next run starts at the last one read
            p.tally.window_to = reached + timedelta(seconds=options.overlap_seconds)
        p.tally.failed(
            f"Freshdesk has more than {options.max_pages} pages of tickets updated since "
            f"{_iso(p.window_from)}; the next run goes on from there (raise RELAY_RECONCILIATION_MAX_PAGES)"
        )
    async with unit_of_work(p.sessionmaker) as session:
        followed = await repo.followed_tickets(session, found.keys())
    return {
        tid: ticket
        for tid, ticket in found.items()
        if tid in followed or mapping.ticket_facts(ticket, p.settings.freshdesk).marked
    }


async def _want(session: AsyncSession, incident: Incident) -> TicketWant:
    assert incident.id is not None
    agent = await repo.holder_identity(session, incident.id, Role.liaison, col(Person.freshdesk_agent_id))
    since = incident.closed_at if incident.status == IncidentStatus.closed else incident.resolved_at
    return TicketWant(incident.status, since, int(agent) if agent and agent.isdigit() else None)


def _desired(want: TicketWant) -> dict[str, Any]:
    return {
        "relay_status": want.relay_status,
        "status": min(want.accepted) if want.accepted else None,
        "responder_id": want.responder_id,
        "since": want.since.isoformat() if want.since else None,
    }


async def _relay_side(p: Pass, skip: set[int]) -> list[int]:
    """Linked tickets that may be stale: their incident changed in Relay, or a run flagged them."""
    limit = p.settings.reconciliation.max_objects
    async with unit_of_work(p.sessionmaker) as session:
        found = await repo.relay_side_links(session, KIND, p.window_from, limit + 1)
        links = [
            link
            for link in found[: relay_side_limit(p, len(found))]
            if link.external_id.isdigit() and int(link.external_id) not in skip
        ]
        states = await repo.states(session, KIND, [link.external_id for link in links])
        incidents = await repo.incidents(session, {link.incident_id for link in links})
        fetch: list[int] = []
        settled: list[int] = []
        for link in links:
            incident = incidents.get(link.incident_id)
            if incident is None:
                continue
            state = states.get(link.external_id)
            seen = drift.ticket_seen(state.seen if state else None)
            if seen is None or drift.ticket_findings(await _want(session, incident), seen):
                fetch.append(int(link.external_id))
                continue
            p.tally.checked += 1
            if state is not None and state.recheck and state.id is not None:
                settled.append(state.id)
        await repo.clear_recheck(session, settled)
    return fetch


async def _conversations(p: Pass, ticket: dict[str, Any], view: TicketView) -> list[dict[str, Any]] | None:
    """The ticket's conversations when the customer may have written since Relay last looked, else None."""
    async with unit_of_work(p.sessionmaker) as session:
        known = await freshdesk_repo.ticket(session, view.id)
        state = await repo.state(session, KIND, str(view.id))
    seen = drift.ticket_seen(state.seen if state else None)
    if isinstance(ticket.get("stats"), dict):
        if not drift.newer(view.requester_responded_at, seen.requester_responded_at if seen else None):
            return None
    elif known is not None and not drift.newer(view.updated_at, seen.updated_at if seen else None):
        return None  # without stats, read them for each new version, as the webhook does
    return await p.clients.freshdesk.all_conversations(ticket_id=view.id)


async def _repair(
    session: AsyncSession,
    p: Pass,
    incident: Incident,
    view: TicketView,
    finding: Finding,
    previous: TicketView | None,
) -> str | None:
    ref, label = incident.reference, f"Freshdesk ticket #{view.id}"
    have, want = ticket_status_name(finding.have), ticket_status_name(finding.want)
    if finding.field == "status" and finding.remedy is Remedy.leave:
        if previous is not None and previous.status == view.status:
            return None  # said so already, when the reply reopened it
        return (
            f"Reconciliation: {label} is {have} again: the customer answered after {ref} was "
            f"{incident.status}. Left {have} for the liaison to answer."
        )
    fields = {finding.field: finding.want}
    suffix = f"freshdesk:{view.id}:{finding.field}"
    payload = {"ticket_id": view.id, "fields": fields}
    await plan(session, p, incident, "freshdesk.update_ticket", suffix, payload)
    if finding.field == "status":
        return (
            f"Reconciliation: {label} was set to {have} in Freshdesk while {ref} is {incident.status}; "
            f"setting it to {want} again."
        )
    return (
        f"Reconciliation: {label} is assigned to agent {finding.have} in Freshdesk, not to {ref}'s "
        f"liaison ({finding.want}); assigning it to the liaison again."
    )


async def _settle(p: Pass, ticket: dict[str, Any]) -> None:
    """Apply a ticket version no webhook brought, then compare the ticket with what its incident wants."""
    facts = mapping.ticket_facts(ticket, p.settings.freshdesk)
    view = drift.ticket_view(ticket)
    conversations = await _conversations(p, ticket, view)
    async with unit_of_work(p.sessionmaker) as session:
        before = await freshdesk_repo.ticket(session, view.id)
        was_linked = (before is not None and before.state == TicketState.linked) or (
            await repo.link(session, KIND, str(view.id)) is not None
        )
        outcome = await freshdesk_service.apply_ticket(session, facts, p.settings)
        row = await freshdesk_repo.ticket(session, view.id)
        if row is None or row.state != TicketState.linked or row.incident_id is None:
            return
        incident = await repo.lock_incident(session, row.incident_id)
        if incident is None or incident.id is None:
            return
        p.tally.checked += 1
        ext = str(view.id)
        if outcome.applied and not was_linked:
            await record(
                session,
                p,
                incident,
                kind=KIND,
                external_id=ext,
                finding=Finding("link", incident.reference, None, Remedy.apply),
                body=(
                    f"Reconciliation: Freshdesk ticket #{view.id} names {incident.reference}, but its "
                    "webhook never arrived; it now follows the incident (acknowledgement planned)."
                ),
            )
        if conversations is not None:
            replies = mapping.customer_replies(conversations, facts)
            added = await freshdesk_service.record_customer_replies(session, incident, view.id, replies)
            if added:
                await record(
                    session,
                    p,
                    incident,
                    kind=KIND,
                    external_id=ext,
                    finding=Finding("replies", added, 0, Remedy.apply),
                    body=(
                        f"Reconciliation: {added} customer repl{'y' if added == 1 else 'ies'} on Freshdesk "
                        f"ticket #{view.id} never came through a webhook; added to the timeline."
                    ),
                )
        state = await repo.state(session, KIND, ext)
        previous = drift.ticket_seen(state.seen if state else None)
        want = await _want(session, incident)
        findings = drift.ticket_findings(want, view)
        underway = await repo.underway(session, [incident.id], PROVIDER)
        busy = changed_since(incident, p) or any(d.payload.get("ticket_id") == view.id for d in underway)
        repaired = False
        for finding in findings:
            if busy and finding.remedy is Remedy.repair:
                continue  # Relay's own update is on its way: judged once it has landed
            body = await _repair(session, p, incident, view, finding, previous)
            repaired = repaired or finding.remedy is Remedy.repair
            if body is not None:
                await record(session, p, incident, kind=KIND, external_id=ext, finding=finding, body=body)
        await save_state(
            session,
            kind=KIND,
            external_id=ext,
            incident_id=incident.id,
            desired=_desired(want),
            seen=view.as_seen(),
            recheck=repaired or (busy and any(f.remedy is Remedy.repair for f in findings)),
        )


async def reconcile(p: Pass) -> None:
    """Find and settle drift between Freshdesk tickets and the incidents they follow."""
    tickets = await _listed(p)
    for ticket_id in await _relay_side(p, set(tickets)):
        try:
            tickets[ticket_id] = await p.clients.freshdesk.get_ticket(
                ticket_id=ticket_id, include="requester,stats"
            )
        except PermanentError as exc:  # deleted or merged away: the others still get looked at
            p.tally.failed(f"Freshdesk ticket {ticket_id}: {exc.message}")
    for ticket_id, ticket in tickets.items():
        try:
            await _settle(p, ticket)
        except TransientError:
            raise  # Freshdesk is down or asks Relay to wait: the run stops and says so
        except PermanentError as exc:
            p.tally.failed(f"Freshdesk ticket {ticket_id}: {exc.message}")
        except Exception as exc:  # one ticket's failure must not keep the run from the others
            p.tally.failed(f"Freshdesk ticket {ticket_id}: {type(exc).__name__}: {exc}")
