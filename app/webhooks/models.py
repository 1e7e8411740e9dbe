"""Inbound webhook receipts: every request a provider sends, kept before anything acts on it."""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db.base import JSONType, utc_column


class ReceiptStatus(StrEnum):
    received = "received"  # verified and stored; a job applies it
    applied = "applied"  # it changed Relay
    ignored = "ignored"  # understood, nothing to do (a ping, an unknown type, an event already seen)
    failed = "failed"  # could not be applied; the reason says why
    refused = "refused"  # failed authentication or could not be read; never applied


class WebhookReceipt(SQLModel, table=True):
    __tablename__ = "webhook_receipts"
    __table_args__ = (
        # A provider's retry of an event it already delivered finds this row and is not applied twice.
        sa.UniqueConstraint("provider", "dedupe_key", name="uq_webhook_receipts_dedupe"),
        sa.Index("ix_webhook_receipts_provider_time", "provider", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=20)
    dedupe_key: str | None = Field(default=None, max_length=200)
    event_type: str | None = Field(default=None, max_length=100)
    status: str = Field(default=ReceiptStatus.received, sa_type=sa.String(20))
    reason: str | None = Field(default=None, sa_type=sa.Text)
    headers: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    body: str = Field(sa_type=sa.Text)
    incident_id: int | None = Field(default=None, foreign_key="incidents.id", index=True)
    duplicates: int = 0
    received_at: datetime = Field(sa_column=utc_column(nullable=False))
    processed_at: datetime | None = Field(default=None, sa_column=utc_column())
