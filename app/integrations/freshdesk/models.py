"""The Freshdesk tickets Relay follows: candidates for an incident, and tickets linked to one."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db.base import utc_column


class TicketState(StrEnum):
    candidate = "candidate"  # marked incident-related, names no incident yet: a responder decides
    linked = "linked"  # follows an incident: replies go out, customer replies come in
    dismissed = "dismissed"  # a responder decided it is not an incident


class FreshdeskTicket(SQLModel, table=True):
    __tablename__ = "freshdesk_tickets"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(sa_type=sa.BigInteger, unique=True)
    state: str = Field(default=TicketState.candidate, sa_type=sa.String(20), index=True)
    incident_id: int | None = Field(default=None, foreign_key="incidents.id", index=True)
    subject: str | None = Field(default=None, max_length=300)
    requester_name: str | None = Field(default=None, max_length=200)
    requester_email: str | None = Field(default=None, max_length=320)
    url: str | None = Field(default=None, max_length=500)
    # Why it is a candidate rather than linked (e.g. it names an incident that does not exist).
    note: str | None = Field(default=None, sa_type=sa.Text)
    # The ticket version last applied: a webhook for this version or an older one changes nothing.
    ticket_updated_at: datetime | None = Field(default=None, sa_column=utc_column())
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    updated_at: datetime = Field(sa_column=utc_column(nullable=False))
