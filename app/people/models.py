"""People with their identities on each system, and teams that own services."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db.base import utc_column


class Person(SQLModel, table=True):
    __tablename__ = "people"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320, unique=True)
    slack_user_id: str | None = Field(default=None, max_length=40, unique=True)
    pagerduty_user_id: str | None = Field(default=None, max_length=40, unique=True)
    freshdesk_agent_id: str | None = Field(default=None, max_length=40, unique=True)
    created_at: datetime = Field(sa_column=utc_column(nullable=False))


class Team(SQLModel, table=True):
    __tablename__ = "teams"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    slack_channel: str | None = Field(default=None, max_length=80)
    pagerduty_service_id: str | None = Field(default=None, max_length=40)
    pagerduty_escalation_policy_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(sa_column=utc_column(nullable=False))


class OwnedService(SQLModel, table=True):
    """A service and the team that owns it (the ownership database)."""

    __tablename__ = "services"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    team_id: int = Field(foreign_key="teams.id", index=True)


class TeamMember(SQLModel, table=True):
    """Who belongs to a team: they are invited to the channels of the incidents the team owns."""

    __tablename__ = "team_members"

    team_id: int = Field(foreign_key="teams.id", primary_key=True)
    person_id: int = Field(foreign_key="people.id", primary_key=True, index=True)
