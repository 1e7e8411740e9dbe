"""Optimistic concurrency: a row's ``version`` moves only from the value its writer read."""

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import SQLModel, col


async def bump_version(session: AsyncSession, row: SQLModel, expected: int, now: datetime) -> bool:
    """Compare-and-set a row's ``version`` (and ``updated_at``); False when someone else changed it first."""
    table: Any = type(row)
    result = await session.execute(
        update(table)
        .where(col(table.id) == row.id, col(table.version) == expected)  # type: ignore[attr-defined]
        .values(version=expected + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    if result.rowcount != 1:
        return False
    set_committed_value(row, "version", expected + 1)
    set_committed_value(row, "updated_at", now)
    return True
