"""The two inbound formats: PagerDuty's Events API v2 and Alertmanager's webhook (version 4)."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.schemas import Url

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


class EventAction(StrEnum):
    trigger = "trigger"
    acknowledge = "acknowledge"
    resolve = "resolve"


class AlertSeverity(StrEnum):
    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"


class EventPayload(BaseModel):
    """What the alert is about; ``summary``, ``source`` and ``severity`` are required to trigger."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1024)]
    source: Short
    severity: AlertSeverity
    timestamp: datetime | None = None
    component: Short | None = None
    group: Short | None = None
    class_: Short | None = Field(default=None, alias="class")
    custom_details: dict[str, Any] | str | None = None


class EventLink(BaseModel):
    model_config = ConfigDict(extra="forbid")

    href: Url
    text: Annotated[str, StringConstraints(max_length=300)] | None = None


class EventImage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    src: Url
    href: Url | None = None
    alt: Annotated[str, StringConstraints(max_length=300)] | None = None


class EventIn(BaseModel):
    """One event, shaped like PagerDuty's Events API v2 so that existing senders fit."""

    model_config = ConfigDict(extra="forbid")

    event_action: EventAction
    dedup_key: Short | None = Field(
        default=None,
        description="Identifies the alert: a trigger with an open key counts a repeat; "
        "required to acknowledge or resolve. Generated and returned when a trigger omits it.",
    )
    payload: EventPayload | None = None
    links: list[EventLink] = Field(default_factory=list, max_length=20)
    images: list[EventImage] = Field(default_factory=list, max_length=20)
    routing_key: Short | None = Field(
        default=None, description="Accepted from PagerDuty senders; must equal the key in the path."
    )
    client: Short | None = None
    client_url: Url | None = None


OutcomeName = Literal["declared", "added", "counted", "acknowledged", "mitigated", "noted", "ignored"]


class EventAccepted(BaseModel):
    """What Relay did with an alert."""

    status: Literal["success"] = "success"
    message: str
    dedup_key: str
    outcome: OutcomeName
    incident: str | None = Field(description="The incident's reference, e.g. INC-42; null when ignored.")


class AlertmanagerAlert(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(min_length=1)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: str | None = Field(default=None, alias="generatorURL", max_length=2000)
    fingerprint: str | None = Field(default=None, max_length=100)


class AlertmanagerWebhook(BaseModel):
    """Alertmanager's webhook body: one group of alerts, firing or resolved."""

    model_config = ConfigDict(populate_by_name=True)

    version: Literal["4"]
    group_key: Annotated[str, StringConstraints(min_length=1, max_length=2000)] = Field(alias="groupKey")
    truncated_alerts: int = Field(default=0, ge=0, alias="truncatedAlerts")
    status: Literal["firing", "resolved"]
    receiver: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str | None = Field(default=None, alias="externalURL", max_length=2000)
    alerts: list[AlertmanagerAlert] = Field(min_length=1, max_length=1000)


EVENT_EXAMPLES: dict[str, dict[str, Any]] = {
    "trigger": {
        "summary": "Trigger (declares an incident, or counts a repeat of an open dedup_key)",
        "value": {
            "event_action": "trigger",
            "dedup_key": "checkout-5xx",
            "payload": {
                "summary": "Checkout error rate above 5% for 10 minutes",
                "source": "prometheus-eu-1",
                "severity": "critical",
                "component": "Checkout",
                "group": "payments",
                "class": "http-errors",
                "timestamp": "2026-11-23T10:02:00Z",
                "custom_details": {"error_rate": "7.2%", "region": "eu-west-1"},
            },
            "links": [{"href": "https://grafana.example.com/d/checkout", "text": "Dashboard"}],
        },
    },
    "acknowledge": {
        "summary": "Acknowledge (declared → investigating)",
        "value": {"event_action": "acknowledge", "dedup_key": "checkout-5xx"},
    },
    "resolve": {
        "summary": "Resolve (→ mitigated; Relay's own process resolves the incident)",
        "value": {"event_action": "resolve", "dedup_key": "checkout-5xx"},
    },
}

ALERTMANAGER_EXAMPLES: dict[str, dict[str, Any]] = {
    "firing": {
        "summary": "A group with two firing alerts",
        "value": {
            "version": "4",
            "groupKey": '{}/{severity="critical"}:{alertname="CheckoutErrors"}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "relay",
            "groupLabels": {"alertname": "CheckoutErrors"},
            "commonLabels": {"alertname": "CheckoutErrors", "severity": "critical", "service": "checkout"},
            "commonAnnotations": {"summary": "Checkout returns 5xx"},
            "externalURL": "http://alertmanager.example.com:9093",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "CheckoutErrors", "severity": "critical", "instance": "web-1"},
                    "annotations": {"summary": "Checkout returns 5xx"},
                    "startsAt": "2026-11-23T10:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus.example.com/graph?g0.expr=checkout_errors",
                    "fingerprint": "1a2b3c4d5e6f7a8b",
                },
                {
                    "status": "firing",
                    "labels": {"alertname": "CheckoutErrors", "severity": "critical", "instance": "web-2"},
                    "annotations": {"summary": "Checkout returns 5xx"},
                    "startsAt": "2026-11-23T10:00:30Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus.example.com/graph?g0.expr=checkout_errors",
                    "fingerprint": "9f8e7d6c5b4a3f2e",
                },
            ],
        },
    },
}
