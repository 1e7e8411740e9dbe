"""What the incident API takes and returns."""

from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.incidents.models import (
    ActionItemStatus,
    HypothesisConclusion,
    ImpactState,
    IncidentStatus,
    Role,
    Severity,
)
from app.schemas import Name, Text, Title, Url

Priority = str


class IncidentCreate(BaseModel):
    """A declaration."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Customers cannot log in",
                    "service": "auth-api",
                    "functionality": "Logging in",
                    "state": "down",
                    "audience": "all users",
                    "severity": "SEV1",
                    "affects_end_users": True,
                    "summary": "Support has several tickets; login returns 500 for everyone.",
                }
            ]
        }
    )

    title: Title
    service: Name
    functionality: Name
    state: ImpactState
    audience: Name
    severity: Severity
    affects_end_users: bool = False
    summary: Text | None = None
    force: bool = Field(
        default=False,
        description="Declare even though an open incident covers the same service and functionality.",
    )


class IncidentUpdate(BaseModel):
    """Fields to change; anything left out stays as it is."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"severity": "SEV2", "summary": "Only EU logins fail."}]},
    )

    title: Title | None = None
    summary: Text | None = None
    severity: Severity | None = None
    priority: Priority | None = Field(default=None, pattern=r"^P[1-5]$")
    affects_end_users: bool | None = None
    state: ImpactState | None = None
    audience: Name | None = None
    mitigation: Text | None = None
    durable_reason: Text | None = None
    report_url: Url | None = None
    video_url: Url | None = None
    notes_url: Url | None = None
    slack_channel_id: str | None = Field(default=None, pattern=r"^[CG][A-Z0-9]{2,39}$")
    report_completed: bool | None = None
    customer_confirmed: bool | None = None
    retrospective_at: AwareDatetime | None = Field(
        default=None, description="When the retrospective is scheduled; the clock stops reminding once set."
    )
    version: int | None = Field(default=None, description="Alternative to If-Match.")


class TransitionIn(BaseModel):
    """Move the incident to another status."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "mitigated", "mitigation": "Rolled back the 14:02 deploy."},
                {"status": "resolved", "durable_reason": "The rollback is the fix."},
                {"status": "duplicate", "duplicate_of": "INC-41"},
            ]
        }
    )

    status: IncidentStatus
    reason: Text | None = None
    mitigation: Text | None = None
    durable_reason: Text | None = None
    duplicate_of: str | None = Field(default=None, pattern=r"^INC-\d+$")
    customer_confirmed: bool = False


class IncidentPublic(BaseModel):
    reference: str
    title: str
    summary: str | None
    service: str
    functionality: str
    state: str
    audience: str
    severity: str
    priority: str
    affects_end_users: bool
    status: str
    channel_name: str
    slack_channel_id: str | None
    summary_line: str
    team: str | None
    duplicate_of: str | None
    mitigation: str | None
    durable_reason: str | None
    report_url: str | None
    video_url: str | None
    notes_url: str | None
    version: int
    declared_at: datetime
    investigating_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    report_completed_at: datetime | None
    customer_confirmed_at: datetime | None
    updated_at: datetime
    next_internal_update_due_at: datetime | None = None
    next_external_update_due_at: datetime | None = None
    retrospective_at: datetime | None = None
    retrospective_due_at: datetime | None = None
    autoclose_at: datetime | None = None


class RoleAssign(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"role": "commander", "person_id": 7}]})

    role: Role
    person_id: int


class RoleAssignmentPublic(BaseModel):
    id: int
    role: str
    person_id: int
    person_name: str
    assigned_by: str | None
    assigned_at: datetime
    relieved_at: datetime | None


class TimelineCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"body": "Emily found failing requests to the identity provider."}]}
    )

    body: Text
    kind: str = Field(default="note", pattern=r"^(note|communication)$")
    occurred_at: datetime | None = None
    parent_id: int | None = None


class TimelineEntryPublic(BaseModel):
    id: int
    kind: str
    source: str
    body: str
    author_id: int | None
    author_name: str | None
    parent_id: int | None
    data: dict[str, Any] | None
    occurred_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None


class HypothesisCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "statement": "The identity provider is rate limiting us.",
                    "test_plan": "Compare 429s in the IdP dashboard with our error rate.",
                    "proposed_fix": "Raise the client's backoff.",
                }
            ]
        }
    )

    statement: Text
    test_plan: Text | None = None
    proposed_fix: Text | None = None
    parent_id: int | None = None
    signal_expected_at: datetime | None = None


class HypothesisUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    test_plan: Text | None = None
    proposed_fix: Text | None = None
    fix_started_at: datetime | None = None
    signal_expected_at: datetime | None = None
    conclusion: HypothesisConclusion | None = None
    conclusion_notes: Text | None = None


class HypothesisPublic(BaseModel):
    id: int
    parent_id: int | None
    statement: str
    test_plan: str | None
    proposed_fix: str | None
    fix_started_at: datetime | None
    signal_expected_at: datetime | None
    conclusion: str
    conclusion_notes: str | None
    concluded_at: datetime | None
    author_name: str | None
    created_at: datetime


class MilestoneCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"label": "Possibly identified: bad deploy"}]})

    label: Title
    occurred_at: datetime | None = None


class MilestonePublic(BaseModel):
    id: int
    label: str
    author_name: str | None
    occurred_at: datetime


class ActionItemCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"title": "Add a regression test for the login hotfix", "owner_id": 7, "durable": True}
            ]
        }
    )

    title: Title
    owner_id: int | None = None
    due_date: date | None = None
    link: Url | None = None
    durable: bool = True


class ActionItemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    owner_id: int | None = None
    due_date: date | None = None
    link: Url | None = None
    durable: bool | None = None
    status: ActionItemStatus | None = None


class ActionItemPublic(BaseModel):
    id: int
    title: str
    owner_id: int | None
    due_date: date | None
    status: str
    link: str | None
    durable: bool
    durability_warnings: list[str]
    created_at: datetime
    completed_at: datetime | None


class LinkCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"kind": "issue", "external_id": "ops#412", "url": "https://github.com/acme/ops/issues/412"}
            ]
        }
    )

    kind: str = Field(pattern=r"^(pagerduty_incident|freshdesk_ticket|slack_channel|issue|document|other)$")
    external_id: Name
    url: Url | None = None
    title: Title | None = None


class LinkPublic(BaseModel):
    id: int
    kind: str
    external_id: str
    url: str | None
    title: str | None
    created_at: datetime
