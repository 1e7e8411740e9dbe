"""Incident tables: the incident, its roles, timeline, hypotheses, milestones, action items, links."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db.base import JSONType, utc_column


class Severity(StrEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"


class ImpactState(StrEnum):
    down = "down"
    degraded = "degraded"
    insecure = "insecure"


class IncidentStatus(StrEnum):
    declared = "declared"
    investigating = "investigating"
    mitigated = "mitigated"
    resolved = "resolved"
    closed = "closed"
    duplicate = "duplicate"
    cancelled = "cancelled"


class Role(StrEnum):
    commander = "commander"
    note_taker = "note_taker"
    liaison = "liaison"
    sme = "sme"
    interpreter = "interpreter"
    support_steward = "support_steward"
    tech_lead = "tech_lead"


class HypothesisConclusion(StrEnum):
    open = "open"
    confirmed = "confirmed"
    ruled_out = "ruled_out"


class ActionItemStatus(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class TimelineKind(StrEnum):
    note = "note"
    status_change = "status_change"
    role_change = "role_change"
    field_change = "field_change"
    communication = "communication"
    message = "message"
    event = "event"
    milestone = "milestone"
    hypothesis = "hypothesis"
    action_item = "action_item"


class ReferenceCounter(SQLModel, table=True):
    """Gapless counters for public references; one row per prefix, bumped in the declaring transaction."""

    __tablename__ = "reference_counters"

    name: str = Field(primary_key=True, max_length=20)
    value: int = Field(default=0)


class Incident(SQLModel, table=True):
    __tablename__ = "incidents"
    __table_args__ = (sa.Index("ix_incidents_open_lookup", "service", "functionality", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    title: str = Field(max_length=200)
    summary: str | None = Field(default=None, sa_type=sa.Text)
    service: str = Field(max_length=100)
    functionality: str = Field(max_length=100)
    state: str = Field(sa_type=sa.String(20))
    audience: str = Field(max_length=100)
    severity: str = Field(sa_type=sa.String(10), index=True)
    priority: str = Field(sa_type=sa.String(4))
    affects_end_users: bool = False
    status: str = Field(sa_type=sa.String(20), index=True)
    channel_name: str = Field(max_length=80, unique=True)
    slack_channel_id: str | None = Field(default=None, max_length=40, index=True)
    # The pinned summary in that channel, kept current with chat.update.
    slack_summary_ts: str | None = Field(default=None, max_length=40)
    team_id: int | None = Field(default=None, foreign_key="teams.id", index=True)
    declared_by_id: int | None = Field(default=None, foreign_key="people.id")
    duplicate_of_id: int | None = Field(default=None, foreign_key="incidents.id")
    mitigation: str | None = Field(default=None, sa_type=sa.Text)
    durable_reason: str | None = Field(default=None, sa_type=sa.Text)
    cancel_reason: str | None = Field(default=None, sa_type=sa.Text)
    report_url: str | None = Field(default=None, max_length=500)
    video_url: str | None = Field(default=None, max_length=500)
    notes_url: str | None = Field(default=None, max_length=500)
    version: int = Field(default=1)
    declared_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))
    investigating_at: datetime | None = Field(default=None, sa_column=utc_column())
    mitigated_at: datetime | None = Field(default=None, sa_column=utc_column())
    resolved_at: datetime | None = Field(default=None, sa_column=utc_column())
    closed_at: datetime | None = Field(default=None, sa_column=utc_column())
    ended_at: datetime | None = Field(default=None, sa_column=utc_column())
    report_completed_at: datetime | None = Field(default=None, sa_column=utc_column())
    customer_confirmed_at: datetime | None = Field(default=None, sa_column=utc_column())
    # Set by the process clock once the resolved message has gone out and the wait has passed.
    autoclose_at: datetime | None = Field(default=None, sa_column=utc_column())
    # The process clock: when each audience last got a status update, and the scheduled retrospective.
    last_internal_update_at: datetime | None = Field(default=None, sa_column=utc_column())
    last_external_update_at: datetime | None = Field(default=None, sa_column=utc_column())
    retrospective_at: datetime | None = Field(default=None, sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column(nullable=False))

    @property
    def reference(self) -> str:
        return f"INC-{self.number}"


class RoleAssignment(SQLModel, table=True):
    __tablename__ = "role_assignments"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    role: str = Field(sa_type=sa.String(30))
    person_id: int = Field(foreign_key="people.id")
    assigned_by: str | None = Field(default=None, max_length=200)
    assigned_at: datetime = Field(sa_column=utc_column(nullable=False))
    relieved_at: datetime | None = Field(default=None, sa_column=utc_column())


class TimelineEntry(SQLModel, table=True):
    __tablename__ = "timeline_entries"
    __table_args__ = (
        sa.UniqueConstraint("incident_id", "source", "external_id", name="uq_timeline_entries_external"),
        sa.Index("ix_timeline_entries_incident_time", "incident_id", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id")
    kind: str = Field(sa_type=sa.String(30))
    source: str = Field(default="api", max_length=30)
    body: str = Field(sa_type=sa.Text)
    author_id: int | None = Field(default=None, foreign_key="people.id")
    author_name: str | None = Field(default=None, max_length=200)
    external_id: str | None = Field(default=None, max_length=200)
    parent_id: int | None = Field(default=None, foreign_key="timeline_entries.id")
    data: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    occurred_at: datetime = Field(sa_column=utc_column(nullable=False))
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    edited_at: datetime | None = Field(default=None, sa_column=utc_column())
    deleted_at: datetime | None = Field(default=None, sa_column=utc_column())


class Hypothesis(SQLModel, table=True):
    __tablename__ = "hypotheses"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="hypotheses.id")
    statement: str = Field(sa_type=sa.Text)
    test_plan: str | None = Field(default=None, sa_type=sa.Text)
    proposed_fix: str | None = Field(default=None, sa_type=sa.Text)
    fix_started_at: datetime | None = Field(default=None, sa_column=utc_column())
    signal_expected_at: datetime | None = Field(default=None, sa_column=utc_column())
    conclusion: str = Field(default=HypothesisConclusion.open, sa_type=sa.String(20))
    conclusion_notes: str | None = Field(default=None, sa_type=sa.Text)
    concluded_at: datetime | None = Field(default=None, sa_column=utc_column())
    author_name: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_column=utc_column(nullable=False))


class Milestone(SQLModel, table=True):
    __tablename__ = "milestones"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    label: str = Field(max_length=300)
    author_name: str | None = Field(default=None, max_length=200)
    occurred_at: datetime = Field(sa_column=utc_column(nullable=False))


class ActionItem(SQLModel, table=True):
    __tablename__ = "action_items"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    title: str = Field(max_length=300)
    owner_id: int | None = Field(default=None, foreign_key="people.id")
    due_date: date | None = None
    status: str = Field(default=ActionItemStatus.open, sa_type=sa.String(20))
    link: str | None = Field(default=None, max_length=500)
    durable: bool = True
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    completed_at: datetime | None = Field(default=None, sa_column=utc_column())


class IncidentLink(SQLModel, table=True):
    """An external object that belongs to an incident (PagerDuty incident, Freshdesk ticket…)."""

    __tablename__ = "incident_links"
    __table_args__ = (sa.UniqueConstraint("kind", "external_id", name="uq_incident_links_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    kind: str = Field(max_length=40)
    external_id: str = Field(max_length=200)
    url: str | None = Field(default=None, max_length=500)
    title: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
