"""The outbox: one row per side effect on another system, written with the change that causes it."""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db.base import JSONType, utc_column


class DeliveryStatus(StrEnum):
    pending = "pending"
    in_flight = "in_flight"
    done = "done"
    sandboxed = "sandboxed"
    failed_will_retry = "failed_will_retry"
    dead = "dead"


WAITING = (DeliveryStatus.pending, DeliveryStatus.failed_will_retry)
SUCCEEDED = (DeliveryStatus.done, DeliveryStatus.sandboxed)


class Delivery(SQLModel, table=True):
    __tablename__ = "deliveries"
    __table_args__ = (sa.Index("ix_deliveries_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int | None = Field(default=None, foreign_key="incidents.id", index=True)
    provider: str = Field(max_length=20)
    action: str = Field(max_length=60)
    payload: dict[str, Any] = Field(sa_type=JSONType)
    idempotency_key: str = Field(max_length=200, unique=True)
    status: str = Field(default=DeliveryStatus.pending, sa_type=sa.String(20))
    attempts: int = 0
    max_attempts: int = 8
    depends_on_id: int | None = Field(default=None, foreign_key="deliveries.id", index=True)
    next_attempt_at: datetime = Field(sa_column=utc_column(nullable=False))
    lease_expires_at: datetime | None = Field(default=None, sa_column=utc_column())
    claim_token: str | None = Field(default=None, max_length=36)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    result: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    # What went out (or, when sandboxed, what would have): method, URL, headers without secrets, body.
    request: list[dict[str, Any]] | None = Field(default=None, sa_type=JSONType)
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    updated_at: datetime = Field(sa_column=utc_column(nullable=False))
    completed_at: datetime | None = Field(default=None, sa_column=utc_column())
