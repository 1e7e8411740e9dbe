"""Both inbound formats become one ``Alert``, which the rules in ``alerts.py`` apply."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.alerting.formats import AlertmanagerWebhook, AlertSeverity, EventAction, EventIn
from app.errors import field_error
from app.incidents.models import Severity

SEVERITIES = {
    AlertSeverity.critical: Severity.SEV1,
    AlertSeverity.error: Severity.SEV2,
    AlertSeverity.warning: Severity.SEV3,
    AlertSeverity.info: Severity.SEV3,
}
MAX_LINKS = 5
MAX_ALERTS_KEPT = 20


@dataclass(frozen=True)
class Alert:
    """One event about one alert key, whatever format it came in."""

    action: EventAction
    dedup_key: str
    summary: str | None = None
    severity: AlertSeverity | None = None
    source: str | None = None
    component: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    links: tuple[tuple[str, str | None], ...] = ()
    occurred_at: datetime | None = None
    firing: int | None = None


def severity_for(alert: Alert, default: str) -> Severity:
    """The incident severity for an alert: its own mapped onto SEV1–SEV3, else the integration's."""
    return SEVERITIES[alert.severity] if alert.severity else Severity(default)


def event_errors(event: EventIn, key: str) -> list[dict[str, str]]:
    """What the schema alone cannot say about an event: fields one action needs and another does not."""
    errors = []
    if event.event_action == EventAction.trigger and event.payload is None:
        errors.append(field_error("payload", "required when event_action is trigger"))
    if event.event_action != EventAction.trigger and not event.dedup_key:
        errors.append(field_error("dedup_key", f"required when event_action is {event.event_action}"))
    if event.routing_key is not None and event.routing_key != key:
        errors.append(field_error("routing_key", "does not match the integration key in the URL"))
    return errors


def from_event(event: EventIn) -> Alert:
    """An Events API v2 event as an alert; a trigger without a dedup_key gets a new one."""
    payload = event.payload
    links = tuple((link.href, link.text) for link in event.links[:MAX_LINKS])
    if event.client_url:
        links += ((event.client_url, event.client),)
    if payload is None:
        return Alert(event.event_action, event.dedup_key or uuid.uuid4().hex, links=links)
    details: dict[str, Any] = {
        name: value
        for name, value in (
            ("group", payload.group),
            ("class", payload.class_),
            ("custom_details", payload.custom_details),
            ("client", event.client),
        )
        if value is not None
    }
    return Alert(
        action=event.event_action,
        dedup_key=event.dedup_key or uuid.uuid4().hex,
        summary=payload.summary,
        severity=payload.severity,
        source=payload.source,
        component=payload.component,
        details=details,
        links=links,
        occurred_at=payload.timestamp,
    )


def _severity_label(labels: dict[str, str]) -> AlertSeverity | None:
    value = labels.get("severity", "").strip().lower()
    return AlertSeverity(value) if value in AlertSeverity.__members__ else None


def from_alertmanager(body: AlertmanagerWebhook) -> Alert:
    """An Alertmanager group as one alert keyed by its groupKey: firing triggers, resolved resolves."""
    firing = [a for a in body.alerts if a.status == "firing"]
    labels, annotations = body.common_labels, body.common_annotations
    alertname = labels.get("alertname") or body.group_labels.get("alertname")
    summary = annotations.get("summary") or annotations.get("description") or alertname
    if summary is None:
        summary = ", ".join(f"{k}={v}" for k, v in sorted(body.group_labels.items())) or body.receiver
    urls = [body.external_url, *(a.generator_url for a in body.alerts)]
    links = tuple((url, None) for url in dict.fromkeys(u for u in urls if u))[:MAX_LINKS]
    details: dict[str, Any] = {
        "receiver": body.receiver,
        "group_labels": body.group_labels,
        "common_labels": labels,
        "alerts": [
            {
                "status": a.status,
                "labels": a.labels,
                "starts_at": a.starts_at.isoformat(),
                "fingerprint": a.fingerprint,
            }
            for a in body.alerts[:MAX_ALERTS_KEPT]
        ],
    }
    if annotations.get("description") and annotations.get("description") != summary:
        details["description"] = annotations["description"]
    starts = [a.starts_at for a in firing]
    return Alert(
        action=EventAction.trigger if body.status == "firing" else EventAction.resolve,
        dedup_key=body.group_key,
        summary=summary[:1024],
        severity=_severity_label(labels),
        source=f"alertmanager/{body.receiver}",
        component=alertname,
        details=details,
        links=links,
        occurred_at=min(starts) if starts else None,
        firing=len(firing),
    )
