"""What the communication API takes and returns."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.comms.defaults import TemplateName
from app.config import SeverityPolicy
from app.deliveries.planning import Audience
from app.schemas import Text

TemplateBody = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
VariableValue = Annotated[str, StringConstraints(max_length=500)]


class StatusUpdateCreate(BaseModel):
    """A status update for one audience: a template, free text, or a template with a note."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"audience": "internal", "template": "update", "text": "Rolling back the 14:02 deploy."},
                {"audience": "external", "template": "investigating"},
                {"audience": "internal", "text": "Logins work again for EU users; US still failing."},
            ]
        },
    )

    audience: Audience
    template: TemplateName | None = None
    text: Text | None = Field(
        default=None, description="The whole message without a template; with one, its `note`."
    )
    variables: dict[str, VariableValue] = Field(
        default_factory=dict,
        max_length=20,
        description="Extra values for the template, e.g. the customer's `name`.",
    )


class StatusUpdatePublic(BaseModel):
    id: int
    audience: str
    template: str | None
    body: str
    author_name: str | None
    sent_at: datetime
    next_update_due_at: datetime | None = Field(
        default=None, description="When this audience expects the next update (None when none is owed)."
    )


class TemplatePublic(BaseModel):
    name: str
    audience: str
    body: str
    customized: bool
    updated_by: str | None = None
    updated_at: datetime | None = None


class TemplateEdit(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "body": "UPDATE on {{ incident.reference }}: {{ note }}\n"
                    "Next update in {{ next_update_in }}.\n{{ responder }}"
                }
            ]
        },
    )

    body: TemplateBody


class CalendarPublic(BaseModel):
    timezone: str
    working_days: list[str]
    hours: str
    holidays: list[str]


class EscalationPublic(BaseModel):
    channel: str = Field(description="Where the ping goes when the owning team has no Slack channel.")
    mention: str | None


class PolicyPublic(BaseModel):
    """The process clock's rules, per severity, and the calendar that working-time rules count in."""

    severities: dict[str, SeverityPolicy]
    retrospective_max_days: int
    updates_while_mitigated: bool
    escalation: EscalationPublic
    calendar: CalendarPublic
