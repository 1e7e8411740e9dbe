"""What the people and teams API takes and returns."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.schemas import Name

ExternalId = str


class PersonCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Emily Chen", "email": "emily@example.com", "slack_user_id": "U024BE7LH"}]
        }
    )

    name: Name
    email: EmailStr | None = None
    slack_user_id: ExternalId | None = Field(default=None, pattern=r"^[UW][A-Z0-9]{2,39}$")
    pagerduty_user_id: ExternalId | None = Field(default=None, pattern=r"^P[A-Z0-9]{2,39}$")
    freshdesk_agent_id: ExternalId | None = Field(default=None, pattern=r"^\d{1,20}$")


class PersonUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    email: EmailStr | None = None
    slack_user_id: ExternalId | None = Field(default=None, pattern=r"^[UW][A-Z0-9]{2,39}$")
    pagerduty_user_id: ExternalId | None = Field(default=None, pattern=r"^P[A-Z0-9]{2,39}$")
    freshdesk_agent_id: ExternalId | None = Field(default=None, pattern=r"^\d{1,20}$")


class PersonPublic(BaseModel):
    id: int
    name: str
    email: str | None
    slack_user_id: str | None
    pagerduty_user_id: str | None
    freshdesk_agent_id: str | None
    created_at: datetime


class TeamCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Core Services",
                    "services": ["auth-api", "sessions"],
                    "slack_channel": "core-services",
                    "pagerduty_service_id": "PIJ90N7",
                }
            ]
        }
    )

    name: Name
    services: list[Name] = Field(default_factory=list)
    members: list[int] = Field(
        default_factory=list, description="Ids of the people on the team; invited to its incident channels."
    )
    slack_channel: str | None = Field(default=None, pattern=r"^[a-z0-9_-]{1,80}$")
    pagerduty_service_id: ExternalId | None = Field(default=None, max_length=40)
    pagerduty_escalation_policy_id: ExternalId | None = Field(default=None, max_length=40)


class TeamUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    services: list[Name] | None = None
    members: list[int] | None = None
    slack_channel: str | None = Field(default=None, pattern=r"^[a-z0-9_-]{1,80}$")
    pagerduty_service_id: ExternalId | None = Field(default=None, max_length=40)
    pagerduty_escalation_policy_id: ExternalId | None = Field(default=None, max_length=40)


class TeamPublic(BaseModel):
    id: int
    name: str
    services: list[str]
    members: list[int]
    slack_channel: str | None
    pagerduty_service_id: str | None
    pagerduty_escalation_policy_id: str | None
    created_at: datetime
