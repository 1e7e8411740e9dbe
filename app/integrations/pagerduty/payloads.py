"""The Webhooks V3 envelope, read into what Relay needs. Pure: no I/O, no domain imports."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class InvalidPayload(Exception):
    """The body is not a Webhooks V3 envelope."""


@dataclass(frozen=True)
class UserRef:
    id: str | None
    name: str | None


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    event_type: str
    resource_type: str
    occurred_at: datetime | None
    agent: UserRef | None
    data: dict[str, Any]

    @property
    def incident(self) -> dict[str, Any] | None:
        """The whole incident, for events that carry it (triggered, acknowledged, resolved…)."""
        return self.data if self.data.get("type") == "incident" else None

    @property
    def incident_id(self) -> str | None:
        """The PagerDuty incident the event is about: the incident itself, or the one referenced."""
        if self.incident is not None:
            return _str(self.data.get("id"))
        reference = self.data.get("incident")
        return _str(reference.get("id")) if isinstance(reference, dict) else None

    @property
    def incident_url(self) -> str | None:
        if self.incident is not None:
            return _str(self.data.get("html_url"))
        reference = self.data.get("incident")
        return _str(reference.get("html_url")) if isinstance(reference, dict) else None

    @property
    def agent_name(self) -> str:
        """Who did it in PagerDuty, or "PagerDuty" itself for automation."""
        return (self.agent.name if self.agent else None) or "PagerDuty"


def _str(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _user(value: object) -> UserRef | None:
    if not isinstance(value, dict):
        return None
    return UserRef(id=_str(value.get("id")), name=_str(value.get("summary") or value.get("name")))


def parse_event(raw: bytes | str) -> WebhookEvent:
    """The event inside a raw webhook body; ``InvalidPayload`` when it is not one."""
    try:
        envelope = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidPayload(f"the body is not JSON: {exc}") from exc
    event = envelope.get("event") if isinstance(envelope, dict) else None
    if not isinstance(event, dict) or not event.get("id") or not event.get("event_type"):
        raise InvalidPayload("the body has no event with an id and an event_type")
    data = event.get("data")
    return WebhookEvent(
        id=str(event["id"]),
        event_type=str(event["event_type"]),
        resource_type=str(event.get("resource_type") or ""),
        occurred_at=_time(event.get("occurred_at")),
        agent=_user(event.get("agent")),
        data=data if isinstance(data, dict) else {},
    )


def priority_name(incident: dict[str, Any]) -> str | None:
    """The incident's priority as PagerDuty names it (``P1``…), or None."""
    priority = incident.get("priority")
    return _str(priority.get("summary") or priority.get("name")) if isinstance(priority, dict) else None


def service_of(incident: dict[str, Any]) -> tuple[str | None, str | None]:
    """The id and name of the PagerDuty service the incident is on."""
    service = incident.get("service")
    if not isinstance(service, dict):
        return None, None
    return _str(service.get("id")), _str(service.get("summary") or service.get("name"))


def assignee_names(incident: dict[str, Any]) -> list[str]:
    users = [_user(item) for item in incident.get("assignees") or []]
    return [user.name for user in users if user is not None and user.name]
