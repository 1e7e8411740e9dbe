"""What the Freshdesk API of Relay takes and returns."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.incidents.schemas import IncidentCreate
from app.schemas import Title


class CandidateLink(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reference": "INC-42"}]})

    reference: str = Field(pattern=r"^(?i:INC)-\d+$", description="The open incident the ticket follows.")


class CandidateDeclare(IncidentCreate):
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

    title: Title | None = None  # type: ignore[assignment]


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
