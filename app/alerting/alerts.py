"""The rules: what a trigger, an acknowledgement or a resolution does to incidents.

A trigger with a new key declares an incident (or joins the open one on the same service and
functionality); a trigger with an open key counts a repeat on one timeline entry; acknowledge moves a
declared incident to investigating; resolve moves it to mitigated once none of its alerts still fires.
Nothing here moves an incident backwards, and Relay's own process owns "resolved".
"""

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.alerting import repository as repo
from app.alerting.formats import EventAction, OutcomeName
from app.alerting.mapping import Alert, severity_for
from app.alerting.models import Integration
from app.auth.models import Scope
from app.auth.service import Actor
from app.config import Settings
from app.errors import DuplicateIncident
from app.incidents import repository as incidents_repo
from app.incidents import service as incident_service
from app.incidents.lifecycle import OPEN
from app.incidents.models import (
    ImpactState,
    Incident,
    IncidentLink,
    IncidentStatus,
    Severity,
    TimelineEntry,
    TimelineKind,
)
from app.incidents.schemas import IncidentCreate, TransitionIn

SOURCE = repo.ALERT_SOURCE
EXTERNAL_ID_MAX = 200


@dataclass(frozen=True)
class Outcome:
    outcome: OutcomeName
    incident: Incident | None
    message: str


def link_id(integration_id: int, dedup_key: str) -> str:
    """``<integration id>:<dedup_key>``, hashed when the key is too long to store whole."""
    plain = f"{integration_id}:{dedup_key}"
    if len(plain) <= EXTERNAL_ID_MAX:
        return plain
    return f"{integration_id}:sha256:{hashlib.sha256(dedup_key.encode()).hexdigest()}"


def _actor(integration: Integration) -> Actor:
    return Actor(name=integration.name, scope=Scope.write)


def _clip(text: str, limit: int, fallback: str = "alert") -> str:
    """One line of at most ``limit`` characters, never empty."""
    text = " ".join(text.split()) or " ".join(fallback.split()) or "alert"
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def apply(session: AsyncSession, integration: Integration, alert: Alert, settings: Settings) -> Outcome:
    """Apply one alert event; the caller holds the integration's row lock."""
    assert integration.id is not None
    integration.last_event_at = clock.now()
    external_id = link_id(integration.id, alert.dedup_key)
    link = await repo.alert_link(session, external_id)
    incident = await session.get(Incident, link.incident_id) if link else None
    if incident is not None and incident.status not in OPEN:
        incident = None  # its incident is over: a new trigger starts afresh
    if alert.action == EventAction.trigger:
        if incident is None:
            return await _open(session, integration, alert, link, external_id, settings)
        return await _repeat(session, integration, alert, incident, external_id)
    if incident is None:
        return Outcome("ignored", None, f"No open incident has the alert {alert.dedup_key}.")
    if alert.action == EventAction.acknowledge:
        return await _acknowledge(session, integration, alert, incident, external_id, settings)
    return await _resolve(session, integration, alert, incident, external_id, settings)


def _declaration(integration: Integration, alert: Alert) -> IncidentCreate:
    summary = alert.summary or alert.dedup_key
    severity = severity_for(alert, integration.severity)
    lines = [summary, "", f"Alert {alert.dedup_key} from {integration.name}."]
    if alert.source:
        lines.append(f"Source: {alert.source}")
    lines += [f"{text or 'Link'}: {href}" for href, text in alert.links]
    return IncidentCreate(
        title=_clip(summary, 200, alert.dedup_key),
        service=integration.service,
        functionality=_clip(alert.component or summary, 100, _clip(summary, 100, alert.dedup_key)),
        state=ImpactState.down if severity == Severity.SEV1 else ImpactState.degraded,
        audience=_clip(f"users of {integration.service}", 100),
        severity=severity,
        summary="\n".join(lines)[:20_000],
    )


async def _open(
    session: AsyncSession,
    integration: Integration,
    alert: Alert,
    link: IncidentLink | None,
    external_id: str,
    settings: Settings,
) -> Outcome:
    data = _declaration(integration, alert)
    incident = await incidents_repo.find_open_duplicate(session, data.service, data.functionality)
    declared = False
    if incident is None:
        try:
            async with session.begin_nested():
                incident = await incident_service.declare(
                    session, data, _actor(integration), settings, source=SOURCE
                )
            declared = True
        except DuplicateIncident as exc:  # declared by someone else since we looked
            incident = await incident_service.get_or_404(session, exc.extra["incident"]["reference"])
    assert incident.id is not None
    if declared and incident.team_id is None and integration.team_id is not None:
        incident.team_id = integration.team_id
    href = alert.links[0][0] if alert.links else None
    if link is None:
        session.add(
            IncidentLink(
                incident_id=incident.id,
                kind=repo.ALERT_LINK,
                external_id=external_id,
                url=href,
                title=_clip(alert.summary or alert.dedup_key, 300),
                created_at=clock.now(),
            )
        )
    else:
        # The key fired again after its incident ended: it now belongs to the new one.
        link.incident_id = incident.id
    entry = await repo.alert_entry(session, incident.id, external_id)
    if entry is None:
        await _add_counter(session, integration, alert, incident, external_id)
    else:
        _count(entry, integration, alert)
    if declared:
        return Outcome("declared", incident, f"Declared {incident.reference}.")
    return Outcome("added", incident, f"Added the alert to {incident.reference}, already open for it.")


def _counter_data(integration: Integration, alert: Alert) -> dict[str, Any]:
    now = clock.now().isoformat()
    return {
        "integration_id": integration.id,
        "integration": integration.name,
        "dedup_key": alert.dedup_key,
        "status": "triggered",
        "count": 1,
        "first_seen_at": now,
        "last_seen_at": now,
        "summary": alert.summary or alert.dedup_key,
        "severity": alert.severity,
        "source": alert.source,
        "firing": alert.firing,
        "links": [{"href": href, "text": text} for href, text in alert.links],
        "details": alert.details,
    }


def _counter_body(data: dict[str, Any]) -> str:
    body = f"Alert from {data['integration']}: {data['summary']}"
    if data.get("firing"):
        body += f" ({data['firing']} firing)"
    if data["count"] > 1:
        body += f" — fired {data['count']} times, last at {data['last_seen_at']}"
    if data["status"] != "triggered":
        body += f" [{data['status']}]"
    return body


async def _add_counter(
    session: AsyncSession, integration: Integration, alert: Alert, incident: Incident, external_id: str
) -> TimelineEntry:
    data = _counter_data(integration, alert)
    return await incident_service.add_entry(
        session,
        incident,
        TimelineKind.event,
        _counter_body(data),
        source=SOURCE,
        author_name=integration.name,
        external_id=external_id,
        occurred_at=alert.occurred_at,
        data=data,
    )


def _update(entry: TimelineEntry, **changes: Any) -> str:
    """Change the counter entry's data (a new dict, so the JSON column sees it); the previous status."""
    data = dict(entry.data or {})
    previous = str(data.get("status", "triggered"))
    data.update({k: v for k, v in changes.items() if v is not None})
    entry.data = data
    entry.body = _counter_body(data)
    entry.edited_at = clock.now()
    return previous


def _count(entry: TimelineEntry, integration: Integration, alert: Alert) -> str:
    count = int((entry.data or {}).get("count", 0)) + 1
    return _update(
        entry,
        count=count,
        status="triggered",
        last_seen_at=clock.now().isoformat(),
        firing=alert.firing,
        integration=integration.name,
    )


async def _repeat(
    session: AsyncSession, integration: Integration, alert: Alert, incident: Incident, external_id: str
) -> Outcome:
    assert incident.id is not None
    entry = await repo.alert_entry(session, incident.id, external_id)
    if entry is None:
        await _add_counter(session, integration, alert, incident, external_id)
        return Outcome("counted", incident, f"Counted the alert on {incident.reference}.")
    previous = _count(entry, integration, alert)
    if previous == "resolved":
        await incident_service.add_entry(
            session,
            incident,
            TimelineKind.event,
            f"Alert from {integration.name} fired again after it resolved: "
            f"{alert.summary or alert.dedup_key}",
            source=SOURCE,
            author_name=integration.name,
            parent_id=entry.id,
        )
    return Outcome("counted", incident, f"Counted a repeat of the alert on {incident.reference}.")


async def _acknowledge(
    session: AsyncSession,
    integration: Integration,
    alert: Alert,
    incident: Incident,
    external_id: str,
    settings: Settings,
) -> Outcome:
    assert incident.id is not None
    entry = await repo.alert_entry(session, incident.id, external_id)
    if entry is not None and (entry.data or {}).get("status") == "triggered":
        _update(entry, status="acknowledged")
    if incident.status != IncidentStatus.declared:
        return Outcome("noted", incident, f"{incident.reference} is already {incident.status}.")
    move = TransitionIn(
        status=IncidentStatus.investigating,
        reason=f"alert {alert.dedup_key} acknowledged in {integration.name}",
    )
    await incident_service.transition(session, incident, move, _actor(integration), settings, source=SOURCE)
    return Outcome("acknowledged", incident, f"{incident.reference} is now investigating.")


async def _resolve(
    session: AsyncSession,
    integration: Integration,
    alert: Alert,
    incident: Incident,
    external_id: str,
    settings: Settings,
) -> Outcome:
    assert incident.id is not None
    entry = await repo.alert_entry(session, incident.id, external_id)
    if entry is not None:
        _update(entry, status="resolved", firing=0 if alert.firing is not None else None)
    others = [
        e
        for e in await repo.alert_entries(session, incident.id)
        if e.external_id != external_id and (e.data or {}).get("status") != "resolved"
    ]
    if others:
        return Outcome(
            "noted", incident, f"{len(others)} other alert(s) on {incident.reference} have not resolved."
        )
    if incident.status not in (IncidentStatus.declared, IncidentStatus.investigating):
        return Outcome("noted", incident, f"{incident.reference} is already {incident.status}.")
    move = TransitionIn(
        status=IncidentStatus.mitigated, reason=f"alert {alert.dedup_key} resolved in {integration.name}"
    )
    await incident_service.transition(session, incident, move, _actor(integration), settings, source=SOURCE)
    return Outcome("mitigated", incident, f"{incident.reference} is now mitigated.")
