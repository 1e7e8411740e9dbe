"""What the integrations and subscriptions API takes and returns."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.alerting.models import EventType
from app.incidents.models import Severity
from app.schemas import Name, Url


class IntegrationCreate(BaseModel):
    """An alert source and the defaults its incidents get."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Prometheus EU", "service": "checkout-api", "team_id": 3, "severity": "SEV2"}
            ]
        },
    )

    name: Name
    service: Name = Field(description="The impacted service of the incidents this integration declares.")
    team_id: int | None = Field(
        default=None, description="The team that owns these incidents when no team owns the service."
    )
    severity: Severity = Field(
        default=Severity.SEV2, description="Used when an alert carries no severity Relay can map."
    )


class IntegrationPublic(BaseModel):
    id: int
    name: str
    key: str
    service: str
    team_id: int | None
    severity: str
    secret_prefix: str
    events_url: str
    alertmanager_url: str
    created_by: str | None
    created_at: datetime
    last_event_at: datetime | None


class IntegrationCreated(IntegrationPublic):
    secret: str = Field(description="Shown this once: the bearer token, and the key of HMAC signatures.")


class SubscriptionCreate(BaseModel):
    """A URL to send incident events to."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.example.com/relay",
                    "event_types": ["incident.declared", "incident.status_changed", "incident.resolved"],
                    "description": "Status page",
                }
            ]
        },
    )

    url: Url
    event_types: list[EventType] = Field(min_length=1)
    description: Name | None = None


class SubscriptionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    event_types: list[EventType] | None = Field(default=None, min_length=1)
    description: Name | None = None


class SubscriptionPublic(BaseModel):
    id: int
    url: str
    description: str | None
    event_types: list[str]
    status: str = Field(description="active, or paused after deliveries kept failing (resume to restart).")
    dead_in_a_row: int
    last_error: str | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    paused_at: datetime | None
    paused_reason: str | None
    secret_prefix: str
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class SubscriptionCreated(SubscriptionPublic):
    secret: str = Field(description="Shown this once: the key of the signatures on every event.")
