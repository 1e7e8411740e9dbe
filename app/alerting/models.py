"""Alerting tables: integrations that raise incidents, and subscriptions that hear about them."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db.base import JSONType, utc_column


class Integration(SQLModel, table=True):
    """An alert source (Alertmanager, Grafana, a script) with its key, defaults and secret."""

    __tablename__ = "alert_integrations"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    # Public, in the URL path; the secret is what authenticates a caller.
    key: str = Field(max_length=64, unique=True)
    service: str = Field(max_length=100)
    team_id: int | None = Field(default=None, foreign_key="teams.id")
    severity: str = Field(sa_type=sa.String(10))
    secret_prefix: str = Field(max_length=16)
    # HMAC needs the secret itself on our side (so a hash of it would protect nothing); the bearer form
    # is compared with it in constant time. It is never returned after creation.
    signing_secret: str = Field(max_length=200)
    created_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    last_event_at: datetime | None = Field(default=None, sa_column=utc_column())
    # Kept rather than deleted, so that a key and the incident links naming its id are never reused.
    deleted_at: datetime | None = Field(default=None, sa_column=utc_column())


class EventType(StrEnum):
    declared = "incident.declared"
    status_changed = "incident.status_changed"
    role_changed = "incident.role_changed"
    update_posted = "incident.update_posted"
    resolved = "incident.resolved"
    closed = "incident.closed"


class SubscriptionStatus(StrEnum):
    active = "active"
    paused = "paused"


class Subscription(SQLModel, table=True):
    """A URL that receives signed incident events."""

    __tablename__ = "webhook_subscriptions"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=500)
    description: str | None = Field(default=None, max_length=200)
    event_types: list[str] = Field(sa_type=JSONType)
    status: str = Field(default=SubscriptionStatus.active, sa_type=sa.String(10))
    secret_prefix: str = Field(max_length=16)
    signing_secret: str = Field(max_length=200)
    dead_in_a_row: int = 0
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    last_success_at: datetime | None = Field(default=None, sa_column=utc_column())
    last_failure_at: datetime | None = Field(default=None, sa_column=utc_column())
    paused_at: datetime | None = Field(default=None, sa_column=utc_column())
    paused_reason: str | None = Field(default=None, sa_type=sa.Text)
    created_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    updated_at: datetime = Field(sa_column=utc_column(nullable=False))
