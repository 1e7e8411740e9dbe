"""Edited status-update templates; a template nobody edited is its built-in default."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db.base import utc_column


class MessageTemplate(SQLModel, table=True):
    __tablename__ = "message_templates"
    __table_args__ = (sa.UniqueConstraint("name", "audience", name="uq_message_templates_name_audience"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40)
    audience: str = Field(max_length=20)
    body: str = Field(sa_type=sa.Text)
    updated_by: str | None = Field(default=None, max_length=200)
    updated_at: datetime = Field(sa_column=utc_column(nullable=False))
