"""Applying a recorded PagerDuty webhook to Relay: the one bridge from PagerDuty's events to incidents.

Events can arrive late, twice, or out of order. Each event leaves one timeline entry keyed by its id
(a second delivery of it finds that entry and changes nothing), status only moves forward along the
lifecycle, and a priority change older than one already applied is not applied.
"""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.auth.models import Scope
from app.auth.service import Actor
from app.config import Settings
from app.deliveries import planning
from app.incidents import lifecycle
from app.incidents import repository as incidents_repo
from app.incidents import service as incident_service
from app.incidents.models import Incident, IncidentLink, IncidentStatus, TimelineKind
from app.incidents.schemas import IncidentCreate, TransitionIn
from app.integrations.actions import ActionContext
from app.integrations.errors import TransientError
from app.integrations.pagerduty import repository as repo
from app.integrations.pagerduty.payloads import (
    InvalidPayload,
    WebhookEvent,
    assignee_names,
    parse_event,
    priority_name,
    service_of,
)
from app.integrations.pagerduty.planning import NOTE_PREFIX
from app.webhooks.apply import Applied
from app.webhooks.models import ReceiptStatus, WebhookReceipt

SOURCE = repo.SOURCE
# How long an event that only references an unknown PagerDuty incident (a note, say) waits for the
# event that declares or links it: a burst of webhooks is applied side by side, in any order.
WAIT_FOR_INCIDENT = timedelta(minutes=2)
RELAY_PRIORITY = re.compile(r"^P[1-5]$")
# What a declared incident says about impact until the commander knows better.
DECLARED_STATE = "degraded"
DECLARED_AUDIENCE = "affected users"


@dataclass(frozen=True)
class Change:
    """One event about one linked incident, with who did it."""

    session: AsyncSession
    settings: Settings
    incident: Incident
    event: WebhookEvent
    actor: Actor

    async def record(self, kind: TimelineKind, body: str, **data: Any) -> None:
        """The event's entry on the timeline; its id is what makes a second delivery a no-op."""
        await incident_service.add_entry(
            self.session,
            self.incident,
            kind,
            body,
            actor=self.actor,
            source=SOURCE,
            occurred_at=self.event.occurred_at,
            external_id=self.event.id,
            data={"event_type": self.event.event_type, "pagerduty_incident": self.event.incident_id, **data},
        )

    def applied(self, note: str, status: ReceiptStatus = ReceiptStatus.applied) -> Applied:
        return Applied(status, note, self.incident.id)

    async def move_to(self, target: IncidentStatus) -> bool:
        """Move forward to ``target``; never back (a late event must not undo later progress)."""
        if not lifecycle.advances(IncidentStatus(self.incident.status), target):
            return False
        move = TransitionIn(status=target)
        await incident_service.transition(
            self.session, self.incident, move, self.actor, self.settings, source=SOURCE
        )
        return True


def _pd_label(event: WebhookEvent) -> str:
    incident = event.incident or {}
    number = incident.get("number")
    return f"PagerDuty incident #{number}" if number else f"PagerDuty incident {event.incident_id}"


async def _triggered(change: Change) -> Applied:
    data = change.event.incident or {}
    _, service_name = service_of(data)
    facts = [
        service_name,
        f"{data.get('urgency')} urgency" if data.get("urgency") else None,
        priority_name(data),
    ]
    assigned = assignee_names(data)
    body = f"Triggered in PagerDuty: {_pd_label(change.event)} {data.get('title', '')}".rstrip()
    body += f" ({', '.join(f for f in facts if f)})" if any(facts) else ""
    if assigned:
        body += f"; assigned to {', '.join(assigned)}"
    await change.record(TimelineKind.event, body, url=change.event.incident_url)
    return change.applied("recorded the trigger")


async def _acknowledged(change: Change) -> Applied:
    was = change.incident.status
    moved = await change.move_to(IncidentStatus.investigating)
    suffix = "" if moved else f" (Relay stays {was})"
    await change.record(TimelineKind.event, f"Acknowledged in PagerDuty by {change.actor.name}{suffix}")
    return change.applied("moved to investigating" if moved else f"recorded; the incident stays {was}")


async def _resolved(change: Change) -> Applied:
    # Relay owns "resolved" (a durable fix is its decision): PagerDuty's resolution means mitigated.
    was = change.incident.status
    moved = await change.move_to(IncidentStatus.mitigated)
    reason = (change.event.incident or {}).get("resolve_reason")
    body = f"Resolved in PagerDuty by {change.actor.name}"
    if isinstance(reason, dict) and reason.get("type"):
        body += f" ({reason['type']})"
    body += "" if moved else f" (Relay stays {was})"
    await change.record(TimelineKind.event, body)
    return change.applied("moved to mitigated" if moved else f"recorded; the incident stays {was}")


async def _priority_updated(change: Change) -> Applied:
    incident, event = change.incident, change.event
    assert incident.id is not None
    name = priority_name(event.incident or {})
    if name is None or not RELAY_PRIORITY.match(name):
        await change.record(
            TimelineKind.event, f"Priority set to {name or 'none'} in PagerDuty by {change.actor.name}"
        )
        return change.applied(f"PagerDuty priority {name} has no Relay equivalent; recorded only")
    latest = await repo.latest_priority_change(change.session, incident.id)
    if latest is not None and event.occurred_at is not None and event.occurred_at < latest:
        return change.applied(
            f"priority {name} from {event.occurred_at.isoformat()} is older than the change already applied",
            ReceiptStatus.ignored,
        )
    previous = incident.priority
    if previous != name:
        await incident_service.lock(change.session, incident, None)
        incident.priority = name
    await change.record(
        TimelineKind.field_change,
        f"Priority {previous} → {name} (set in PagerDuty by {change.actor.name})",
        field="priority",
        to=name,
        **{"from": previous},
    )
    if previous != name:
        await planning.on_changed(
            change.session,
            incident,
            planning.IncidentChange(
                planning.ChangeKind.fields,
                fields=frozenset({"priority"}),
                actor_name=change.actor.name,
                actor_id=change.actor.person_id,
                source=SOURCE,
            ),
            change.settings,
        )
    return change.applied(f"priority {previous} → {name}")


async def _annotated(change: Change) -> Applied:
    content = str(change.event.data.get("content") or "").strip()
    if content.startswith(NOTE_PREFIX):
        return change.applied("a note Relay itself added; not imported back", ReceiptStatus.ignored)
    await change.record(
        TimelineKind.note, content or "(empty note)", pagerduty_note_id=change.event.data.get("id")
    )
    return change.applied("note added to the timeline")


async def _reassigned(change: Change) -> Applied:
    names = assignee_names(change.event.incident or {})
    to = ", ".join(names) or "nobody"
    await change.record(TimelineKind.event, f"Reassigned in PagerDuty to {to} by {change.actor.name}")
    return change.applied("recorded")


async def _escalated(change: Change) -> Applied:
    names = assignee_names(change.event.incident or {})
    to = f"; now assigned to {', '.join(names)}" if names else ""
    await change.record(TimelineKind.event, f"Escalated in PagerDuty{to}")
    return change.applied("recorded")


async def _responder_added(change: Change) -> Applied:
    data = change.event.data
    user = data.get("user") if isinstance(data.get("user"), dict) else {}
    policy = data.get("escalation_policy") if isinstance(data.get("escalation_policy"), dict) else {}
    who = (user or {}).get("summary") or (policy or {}).get("summary") or "a responder"
    body = f"Responder requested in PagerDuty by {change.actor.name}: {who}"
    if data.get("message"):
        body += f" — {data['message']}"
    await change.record(TimelineKind.event, body)
    return change.applied("recorded")


async def _status_update_published(change: Change) -> Applied:
    message = str(change.event.data.get("message") or "").strip()
    await change.record(
        TimelineKind.communication, f"Status update published in PagerDuty by {change.actor.name}: {message}"
    )
    return change.applied("recorded")


REACTIONS: dict[str, Callable[[Change], Awaitable[Applied]]] = {
    "incident.triggered": _triggered,
    "incident.acknowledged": _acknowledged,
    "incident.resolved": _resolved,
    "incident.priority_updated": _priority_updated,
    "incident.annotated": _annotated,
    "incident.reassigned": _reassigned,
    "incident.escalated": _escalated,
    "incident.responder.added": _responder_added,
    "incident.status_update_published": _status_update_published,
}


def _severity(data: dict[str, Any]) -> str:
    """P1 pages like SEV1, P2 like SEV2; otherwise the urgency decides."""
    priority = (priority_name(data) or "").upper()
    if priority in ("P1", "P2"):
        return "SEV" + priority[1]
    if priority:
        return "SEV3"
    return "SEV2" if data.get("urgency") == "high" else "SEV3"


async def _link(session: AsyncSession, incident: Incident, event: WebhookEvent) -> None:
    assert incident.id is not None
    assert event.incident_id is not None
    data = event.incident or {}
    title = (
        f"#{data.get('number')} {data.get('title', '')}".strip() if data.get("number") else data.get("title")
    )
    link = IncidentLink(
        incident_id=incident.id,
        kind=repo.LINK_KIND,
        external_id=event.incident_id,
        url=event.incident_url,
        title=str(title)[:300] if title else None,
        created_at=clock.now(),
    )
    try:
        async with session.begin_nested():
            session.add(link)
    except IntegrityError as exc:
        # Another event of the same PagerDuty incident is being applied right now; this one waits.
        raise TransientError(
            f"PagerDuty incident {event.incident_id} is being linked by another event"
        ) from exc


async def adopt(
    session: AsyncSession, settings: Settings, event: WebhookEvent, actor: Actor
) -> Incident | str:
    """The Relay incident for a PagerDuty incident Relay has not seen: linked, declared, or why not."""
    data = event.incident
    if data is None:
        return (
            f"PagerDuty incident {event.incident_id} is not linked to a Relay incident, "
            f"and {event.event_type} does not carry the incident to declare it from"
        )
    key = str(data.get("incident_key") or "")
    paged = (
        await incidents_repo.get_by_reference(session, key) if incidents_repo.parse_reference(key) else None
    )
    if paged is not None:  # the incident Relay paged for: its key is the reference
        await _link(session, paged, event)
        return paged
    policy = settings.pagerduty.auto_declare
    if policy == "none":
        return (
            f"{_pd_label(event)} is not linked to a Relay incident and RELAY_PAGERDUTY_AUTO_DECLARE is none"
        )
    service_id, service_name = service_of(data)
    team = await repo.team_for_service(session, service_id) if service_id else None
    if policy == "mapped" and team is None:
        return (
            f"PagerDuty service {service_name or service_id} is not mapped to a team "
            "(Team.pagerduty_service_id) and RELAY_PAGERDUTY_AUTO_DECLARE is mapped"
        )
    owned = await repo.first_service_of(session, team.id) if team and team.id else None
    service = (owned or service_name or service_id or "unknown service")[:100]
    functionality = (service_name or service)[:100]
    existing = await incidents_repo.find_open_duplicate(session, service, functionality)
    if existing is not None:  # an open incident already covers it: the page joins that one
        await _link(session, existing, event)
        return existing
    declared = await incident_service.declare(
        session,
        IncidentCreate(
            title=str(data.get("title") or _pd_label(event))[:200],
            service=service,
            functionality=functionality,
            state=DECLARED_STATE,
            audience=DECLARED_AUDIENCE,
            severity=_severity(data),
            summary=(
                f"Declared from {_pd_label(event)} ({event.incident_url or 'no link'}). "
                f"Impact state ({DECLARED_STATE}) and audience ({DECLARED_AUDIENCE}) are placeholders "
                "until the commander sets them."
            ),
            force=True,
        ),
        actor,
        settings,
        source=SOURCE,
    )
    priority = priority_name(data)
    if priority and RELAY_PRIORITY.match(priority):
        declared.priority = priority
    await _link(session, declared, event)
    return declared


async def _actor(session: AsyncSession, event: WebhookEvent) -> Actor:
    """Who acted in PagerDuty, as Relay records them: the person when Relay knows their user id."""
    person = await repo.person_by_user(session, event.agent.id) if event.agent and event.agent.id else None
    return Actor(name=event.agent_name, scope=Scope.write, person_id=person.id if person else None)


async def apply_event(
    session: AsyncSession, ctx: ActionContext, receipt: WebhookReceipt, _fetched: object = None
) -> Applied:
    """Apply one PagerDuty webhook (the ``webhooks.apply`` job's handler for provider ``pagerduty``)."""
    try:
        event = parse_event(receipt.body)
    except InvalidPayload as exc:
        return Applied(ReceiptStatus.failed, str(exc))
    if event.event_type == "pagey.ping":
        return Applied(ReceiptStatus.ignored, "PagerDuty's test ping")
    react = REACTIONS.get(event.event_type)
    if react is None or event.incident_id is None:
        return Applied(ReceiptStatus.ignored, f"Relay does not act on {event.event_type}")
    actor = await _actor(session, event)
    incident = await repo.incident_for(session, event.incident_id)
    if incident is None:
        adopted = await adopt(session, ctx.settings, event, actor)
        if isinstance(adopted, str):
            waited = clock.now() - receipt.received_at
            if (
                event.incident is None
                and ctx.settings.pagerduty.auto_declare != "none"
                and (waited < WAIT_FOR_INCIDENT)
            ):
                raise TransientError(f"waiting for the event that declares {event.incident_id}: {adopted}")
            return Applied(ReceiptStatus.ignored, adopted)
        incident = adopted
    assert incident.id is not None
    if await repo.event_applied(session, incident.id, event.id):
        return Applied(ReceiptStatus.ignored, f"event {event.id} was already applied", incident.id)
    return await react(Change(session, ctx.settings, incident, event, actor))
