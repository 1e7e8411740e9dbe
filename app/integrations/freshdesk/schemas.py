"""What the Freshdesk API of Relay takes and returns."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.incidents.models import ImpactState, Severity
from app.schemas import Name, Text, Title


class CandidateLink(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reference": "INC-42"}]})

    reference: str = Field(pattern=r"^(?i:INC)-\d+$", description="The open incident the ticket follows.")


class CandidateDeclare(BaseModel):
    """A declaration from a ticket: the title and summary default to the ticket's subject."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "service": "auth-api",
                    "functionality": "Logging in",
                    "state": "down",
                    "audience": "all users",
                    "severity": "SEV2",
                    "affects_end_users": True,
                }
            ]
        }
    )

    title: Title | None = None
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


class TicketPublic(BaseModel):
    ticket_id: int
    state: str
    incident: str | None = Field(description="The incident the ticket follows, once linked.")
    subject: str | None
    requester_name: str | None
    requester_email: str | None
    url: str | None
    note: str | None
    ticket_updated_at: datetime | None
    created_at: datetime
    updated_at: datetime
