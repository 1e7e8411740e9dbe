"""API tokens; only a hash of each token is stored."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db.base import utc_column


class Scope(StrEnum):
    read = "read"
    write = "write"
    admin = "admin"

    def allows(self, needed: "Scope") -> bool:
        order = [Scope.read, Scope.write, Scope.admin]
        return order.index(self) >= order.index(needed)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    scope: str = Field(sa_type=sa.String(10))
    person_id: int | None = Field(default=None, foreign_key="people.id")
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    last_used_at: datetime | None = Field(default=None, sa_column=utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column())
