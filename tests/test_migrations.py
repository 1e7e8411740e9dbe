"""The schema is made by migrations alone: they match the models and go down cleanly."""

import asyncio
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from app.db import migrations
from app.db.models import metadata
from app.db.session import create_engine
from tests.conftest import PG_DATABASE, _backend, recreate_pg_database


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def _inspect(url: str) -> tuple[list[Any], set[str]]:
    engine = create_engine(url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
        tables = await conn.run_sync(_tables)
    await engine.dispose()
    return diff, tables


def test_upgrade_matches_the_models_and_downgrade_reaches_base(tmp_path: Path) -> None:
    if _backend() == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
    else:
        url = asyncio.run(recreate_pg_database(f"{PG_DATABASE}_migrations"))
    migrations.upgrade(url)
    diff, tables = asyncio.run(_inspect(url))
    assert diff == []
    assert set(metadata.tables) <= tables

    migrations.downgrade(url, "base")
    _, tables = asyncio.run(_inspect(url))
    assert tables == {"alembic_version"}

    migrations.upgrade(url)
    diff, _ = asyncio.run(_inspect(url))
    assert diff == []
