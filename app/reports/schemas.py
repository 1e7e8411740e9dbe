"""What the report API takes and returns."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.incidents.schemas import ActionItemPublic, HypothesisPublic, MilestonePublic
from app.metrics.schemas import Durations
from app.schemas import Text


class ReportUpdate(BaseModel):
    """The sections the team writes; anything left out stays as it is, null clears it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "contributing_factors": "The deploy pipeline let a config change skip canarying.",
                    "went_well": "Support spotted the pattern within minutes.",
                    "version": 0,
                }
            ]
        },
    )

    contributing_factors: Text | None = None
    went_well: Text | None = None
    went_badly: Text | None = None
    lessons: Text | None = None
    version: int | None = Field(default=None, description="Alternative to If-Match.")


class ReportSections(BaseModel):
    contributing_factors: str | None
    went_well: str | None
    went_badly: str | None
    lessons: str | None
    version: int = Field(description="0 until someone writes a section; send it back as If-Match.")
    updated_by: str | None
    updated_at: datetime | None


class ReportEntry(BaseModel):
    """A timeline entry in display order: replies follow their parent, one level deeper."""

    id: int
    parent_id: int | None
    depth: int
    kind: str
    source: str
    body: str
    author_name: str | None
    occurred_at: datetime
    edited_at: datetime | None


class ReportActionItem(ActionItemPublic):
    owner_name: str | None


class ReportPublic(BaseModel):
    """A blameless incident report, generated from the record."""

    reference: str
    title: str
    summary_line: str
    summary: str | None
    status: str
    service: str
    functionality: str
    state: str
    audience: str
    affects_end_users: bool
    severity: str
    priority: str
    team: str | None
    channel_name: str
    mitigation: str | None
    durable_reason: str | None
    generated_at: datetime
    durations: Durations
    timeline: list[ReportEntry]
    hypotheses: list[HypothesisPublic]
    milestones: list[MilestonePublic]
    action_items: list[ReportActionItem]
    sections: ReportSections
