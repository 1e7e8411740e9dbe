"""PagerDuty's pass: what changed there since the last run, and what changed in Relay since then.

PagerDuty's list of incidents filters ``since``/``until`` on when an incident was created, not when it
last changed; its log entries are the account's record of changes, by the time they happened. So the
pass pages through ``GET /log_entries`` for the window (with the incidents included: each is taken as
its newest entry shows it) and, for linked incidents whose Relay side changed but that PagerDuty's log
does not mention, reads only those whose last seen state no longer matches what Relay wants.
"""

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import clock
from app.db.session import unit_of_work
from app.incidents.models import Incident, IncidentLink, Role
from app.integrations.actions import ActionContext
from app.integrations.errors import PermanentError
from app.integrations.pagerduty import mapping
from app.integrations.pagerduty import repository as pagerduty_repo
from app.people.models import Person
from app.reconciliation import drift
from app.reconciliation import repository as repo
from app.reconciliation.drift import Finding, PagerDutyView, PagerDutyWant, Remedy
from app.reconciliation.models import LinkState
from app.reconciliation.passes import (
    Pass,
    changed_since,
    plan,
    read_again,
    record,
    relay_side_limit,
    save_state,
)
from app.webhooks.apply import Applied
from app.webhooks.models import ReceiptStatus, WebhookReceipt

KIND = pagerduty_repo.LINK_KIND
PROVIDER = "pagerduty"
EVENT_FOR = {"acknowledged": "incident.acknowledged", "resolved": "incident.resolved"}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _label(view: PagerDutyView) -> str:
    return f"PagerDuty incident #{view.number}" if view.number else f"PagerDuty incident {view.id}"


async def _changed(p: Pass) -> dict[str, dict[str, Any]]:
    """PagerDuty incidents with a log entry in the window, each as its newest entry shows it."""
    options = p.settings.reconciliation
    newest: dict[str, tuple[datetime | None, dict[str, Any]]] = {}
    offset = 0
    for _ in range(options.max_pages):
        page = await p.clients.pagerduty.list_log_entries(
            since=_iso(p.window_from),
            # Whole seconds: rounded up, so that a change in the window's last second is in it.
            until=_iso(p.window_to + timedelta(seconds=1)),
            offset=offset,
            limit=options.page_size,
        )
        entries = [e for e in page.get("log_entries") or [] if isinstance(e, dict)]
        for entry in entries:
            incident = entry.get("incident")
            if not isinstance(incident, dict) or not incident.get("id"):
                continue
            at = drift.parse_time(entry.get("created_at"))
            known = newest.get(str(incident["id"]))
            if known is None or (at is not None and (known[0] is None or at >= known[0])):
                newest[str(incident["id"])] = (at, incident)
        offset += len(entries)
        if not page.get("more") or not entries:
            break
    else:
        read_again(
            p,
            f"PagerDuty logged more than {options.max_pages} pages of changes since "
            f"{_iso(p.window_from)}; the next run reads the same window again "
            "(raise RELAY_RECONCILIATION_MAX_PAGES)",
        )
    return {incident_id: data for incident_id, (_, data) in newest.items()}


async def _want(session: AsyncSession, incident: Incident) -> PagerDutyWant:
    assert incident.id is not None
    commander = await repo.holder_identity(
        session, incident.id, Role.commander, col(Person.pagerduty_user_id)
    )
    return PagerDutyWant(incident.status, incident.priority, commander)


async def _relay_side(p: Pass, skip: set[str]) -> list[str]:
    """Linked PagerDuty incidents that may be stale: their Relay incident changed, or a run flagged them."""
    limit = p.settings.reconciliation.max_objects
    async with unit_of_work(p.sessionmaker) as session:
        found = await repo.relay_side_links(session, KIND, p.window_from, limit + 1)
        links = [link for link in found[: relay_side_limit(p, len(found))] if link.external_id not in skip]
        states = await repo.states(session, KIND, [link.external_id for link in links])
        incidents = await repo.incidents(session, {link.incident_id for link in links})
        busy = {d.incident_id for d in await repo.underway(session, incidents.keys(), PROVIDER)}
        fetch: list[str] = []
        settled: list[int] = []
        for link in links:
            incident = incidents.get(link.incident_id)
            if incident is None:
                continue
            state = states.get(link.external_id)
            if incident.id in busy:  # Relay's own change is on its way: look once it has landed
                p.tally.checked += 1
                await _flag(session, link, state)
                continue
            seen = drift.pagerduty_seen(state.seen if state else None)
            if seen is None or drift.pagerduty_findings(await _want(session, incident), seen):
                fetch.append(link.external_id)
                continue
            p.tally.checked += 1
            if state is not None and state.recheck and state.id is not None:
                settled.append(state.id)
        await repo.clear_recheck(session, settled)
    return fetch


async def _flag(session: AsyncSession, link: IncidentLink, state: LinkState | None) -> None:
    await save_state(
        session,
        kind=link.kind,
        external_id=link.external_id,
        incident_id=link.incident_id,
        desired=state.desired if state is not None else None,
        seen=None,
        recheck=True,
    )


async def _apply_event(
    session: AsyncSession, p: Pass, view: PagerDutyView, data: dict[str, Any], event_type: str
) -> Applied:
    """Apply what PagerDuty shows as the webhook would have: the same handler, the same dedupe."""
    changed_by = data.get("last_status_change_by")
    event = {
        "id": f"reconciliation:{view.id}:{view.status}:{view.changed_at or p.run_id}",
        "event_type": event_type,
        "resource_type": "incident",
        "occurred_at": view.changed_at,
        "agent": changed_by if isinstance(changed_by, dict) else None,
        "client": None,
        "data": {**data, "type": "incident"},
    }
    # Never stored: the handler reads the body and when it arrived, nothing else.
    receipt = WebhookReceipt(provider=PROVIDER, body=json.dumps({"event": event}), received_at=clock.now())
    return await mapping.apply_event(session, ActionContext(p.clients, p.settings, p.sessionmaker), receipt)


async def _adopt(
    session: AsyncSession, p: Pass, view: PagerDutyView, data: dict[str, Any]
) -> IncidentLink | None:
    """A PagerDuty incident Relay never heard of: what its incident.triggered webhook would have done."""
    if view.status == "resolved":
        return None  # it ended before Relay could follow it
    applied = await _apply_event(session, p, view, data, "incident.triggered")
    link = await repo.link(session, KIND, view.id)
    if applied.status != ReceiptStatus.applied or link is None:
        return None
    incident = await session.get(Incident, link.incident_id)
    if incident is not None:
        await record(
            session,
            p,
            incident,
            kind=KIND,
            external_id=view.id,
            finding=Finding("link", incident.reference, None, Remedy.apply),
            body=(
                f"Reconciliation: {_label(view)} ({view.status}) was not linked to any Relay incident: "
                f"its webhook never arrived. Now it follows {incident.reference}."
            ),
        )
    return link


async def _repair(
    session: AsyncSession, p: Pass, incident: Incident, view: PagerDutyView, finding: Finding
) -> str:
    ref, label = incident.reference, _label(view)
    suffix = f"pagerduty:{view.id}:{finding.field}"
    if finding.field == "status":
        payload: dict[str, Any] = {"incident_id": view.id, "status": finding.want, "from_email": None}
        if finding.want == "resolved":
            payload["resolution"] = f"{ref} is {incident.status} in Relay."
        await plan(session, p, incident, "pagerduty.update_status", suffix, payload)
        return (
            f"Reconciliation: {label} is {view.status} in PagerDuty while {ref} is {incident.status}; "
            f"setting it {finding.want} again."
        )
    if finding.field == "priority":
        payload = {"incident_id": view.id, "priority": finding.want, "from_email": None}
        await plan(session, p, incident, "pagerduty.set_priority", suffix, payload)
        return (
            f"Reconciliation: {label} has priority {finding.have} in PagerDuty, {ref} has {finding.want}; "
            f"setting {finding.want} again."
        )
    payload = {"incident_id": view.id, "assignee_ids": [finding.want], "from_email": None}
    await plan(session, p, incident, "pagerduty.reassign", suffix, payload)
    return f"Reconciliation: {label} is not assigned to {ref}'s commander in PagerDuty; assigning them again."


async def _settle(p: Pass, data: dict[str, Any]) -> None:
    """Compare one PagerDuty incident with its Relay incident; apply its inputs, repair the rest."""
    view = drift.pagerduty_view(data)
    if view is None:
        return
    async with unit_of_work(p.sessionmaker) as session:
        link = await repo.link(session, KIND, view.id) or await _adopt(session, p, view, data)
        if link is None:
            return
        incident = await repo.lock_incident(session, link.incident_id)
        if incident is None or incident.id is None:
            return
        p.tally.checked += 1
        findings = drift.pagerduty_findings(await _want(session, incident), view)
        repairs = [f for f in findings if f.remedy is Remedy.repair]
        # A change Relay made since the run began, or a delivery of Relay's on its way, may be the
        # repair already: judge it once it has landed.
        busy = bool(repairs) and (
            changed_since(incident, p) or bool(await repo.underway(session, [incident.id], PROVIDER))
        )
        for finding in [f for f in findings if not (busy and f.remedy is Remedy.repair)]:
            if finding.remedy is Remedy.apply:
                applied = await _apply_event(session, p, view, data, EVENT_FOR[view.status])
                body = (
                    f"Reconciliation: {_label(view)} was {view.status} in PagerDuty and its webhook "
                    f"never arrived; applied as PagerDuty's {view.status[:-1]}: {applied.note}."
                )
            else:
                body = await _repair(session, p, incident, view, finding)
            await record(session, p, incident, kind=KIND, external_id=view.id, finding=finding, body=body)
        await save_state(
            session,
            kind=KIND,
            external_id=view.id,
            incident_id=incident.id,
            desired=asdict(await _want(session, incident)),
            seen=view.as_seen(),
            # Look again next run: to see the repair land, or once Relay's own delivery has.
            recheck=bool(repairs),
        )


async def reconcile(p: Pass) -> None:
    """Find and settle drift between PagerDuty incidents and the Relay incidents they belong to."""
    changed = await _changed(p)
    for incident_id in await _relay_side(p, set(changed)):
        try:
            changed[incident_id] = await p.clients.pagerduty.get_incident(incident_id=incident_id)
        except PermanentError as exc:  # deleted, or never existed: the others still get looked at
            p.tally.failed(f"PagerDuty incident {incident_id}: {exc.message}")
    for incident_id, data in changed.items():
        if "status" not in data:  # the log entry named the incident without including it
            try:
                data = await p.clients.pagerduty.get_incident(incident_id=incident_id)
            except PermanentError as exc:
                p.tally.failed(f"PagerDuty incident {incident_id}: {exc.message}")
                continue
        try:
            await _settle(p, data)
        except PermanentError as exc:
            p.tally.failed(f"PagerDuty incident {incident_id}: {exc.message}")
        except Exception as exc:  # one incident's failure must not keep the run from the others
            p.tally.failed(f"PagerDuty incident {incident_id}: {type(exc).__name__}: {exc}")
