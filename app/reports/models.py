"""The parts of an incident report the team writes; everything else is generated from the record."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db.base import utc_column


class IncidentReport(SQLModel, table=True):
    __tablename__ = "incident_reports"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", unique=True)
    contributing_factors: str | None = Field(default=None, sa_type=sa.Text)
    went_well: str | None = Field(default=None, sa_type=sa.Text)
    went_badly: str | None = Field(default=None, sa_type=sa.Text)
    lessons: str | None = Field(default=None, sa_type=sa.Text)
    version: int = Field(default=1)
    updated_by: str | None = Field(default=None, max_length=200)
    updated_at: datetime = Field(sa_column=utc_column(nullable=False))
