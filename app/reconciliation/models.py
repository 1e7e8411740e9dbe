"""Reconciliation runs, and what Relay last saw of each external object it keeps in step."""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db.base import JSONType, utc_column


class Provider(StrEnum):
    pagerduty = "pagerduty"
    freshdesk = "freshdesk"
    slack = "slack"


class RunStatus(StrEnum):
    running = "running"
    finished = "finished"
    failed = "failed"  # the provider could not be read; the next run covers the same window again


class ReconciliationRun(SQLModel, table=True):
    """One provider's run: its window, what it checked, and the drift it found and repaired."""

    __tablename__ = "reconciliation_runs"
    __table_args__ = (sa.Index("ix_reconciliation_runs_provider_started", "provider", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=20)
    status: str = Field(default=RunStatus.running, sa_type=sa.String(20))
    trigger: str = Field(max_length=200)
    # The provider's name while the run is under way, NULL after: the unique constraint lets one
    # run per provider hold it, however many workers start one at the same moment.
    running: str | None = Field(default=None, max_length=20, unique=True)
    started_at: datetime = Field(sa_column=utc_column(nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=utc_column())
    lease_expires_at: datetime | None = Field(default=None, sa_column=utc_column())
    # Provider-side changes in [window_from, window_to) were read; the next run starts near window_to.
    window_from: datetime | None = Field(default=None, sa_column=utc_column())
    window_to: datetime | None = Field(default=None, sa_column=utc_column())
    checked: int = 0
    calls: int = 0
    drift_found: int = 0
    repaired: int = 0
    errors: int = 0
    error: str | None = Field(default=None, sa_type=sa.Text)
    # What drifted, one item per finding (bounded), for the API.
    drift: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)


class LinkState(SQLModel, table=True):
    """One external object linked to an incident: what Relay wants it to be and what it last saw."""

    __tablename__ = "reconciliation_states"
    __table_args__ = (
        sa.UniqueConstraint("kind", "external_id", name="uq_reconciliation_states_object"),
        sa.Index("ix_reconciliation_states_kind_checked", "kind", "checked_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The IncidentLink kind ("pagerduty_incident", "freshdesk_ticket") or "slack_summary".
    kind: str = Field(max_length=40)
    external_id: str = Field(max_length=200)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    desired: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    seen: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    seen_at: datetime | None = Field(default=None, sa_column=utc_column())
    checked_at: datetime | None = Field(default=None, sa_column=utc_column())
    # Look again next run: a repair or a delivery was on its way when this one looked.
    recheck: bool = False
