"""Shared fixtures: a real database (PostgreSQL by default, SQLite on request), the app, tokens."""

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from arq.connections import ArqRedis
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.auth.models import Scope
from app.auth.service import create_token
from app.config import (
    DatabaseSettings,
    DeliverySettings,
    PagerDutySettings,
    RedisSettings,
    Settings,
    SlackSettings,
)
from app.db import migrations
from app.db.models import metadata
from app.db.session import create_engine, create_sessionmaker, unit_of_work
from app.main import create_app

PG_ADMIN_DSN = os.environ.get("RELAY_TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/test")
# Separate names let several checkouts run their suites side by side on one machine.
# Each pytest-xdist worker (gw0, gw1…) gets its own database and Redis database.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
PG_DATABASE = os.environ.get("RELAY_TEST_PG_DATABASE", "relay_test") + (f"_{_WORKER}" if _WORKER else "")
_REDIS_BASE = os.environ.get("RELAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REDIS_URL = _REDIS_BASE.rsplit("/", 1)[0] + f"/{int(_REDIS_BASE.rsplit('/', 1)[1]) - _WORKER}"
SLACK_API = "https://slack.test/api"
PAGERDUTY_API = "https://pagerduty.test"
KEEP_TABLES = {"alembic_version", "reference_counters"}
RelayApp = Callable[[Settings], AbstractAsyncContextManager[FastAPI]]


def _backend() -> str:
    return os.environ.get("RELAY_TEST_DATABASE", "postgresql")


async def recreate_pg_database(name: str) -> str:
    """Drop and create a scratch PostgreSQL database; return its SQLAlchemy URL."""
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.exit(f"PostgreSQL is not reachable at {PG_ADMIN_DSN}: {exc}. Start it (make services).", 2)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    admin = make_url(PG_ADMIN_DSN)
    return str(
        admin.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if _backend() == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'relay.db'}"
    else:
        url = asyncio.run(recreate_pg_database(PG_DATABASE))
    migrations.upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database=DatabaseSettings(url=database_url),
        redis=RedisSettings(url=None),
        _env_file=None,
    )


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


async def _clean(engine: AsyncEngine) -> None:
    tables = [t for t in reversed(metadata.sorted_tables) if t.name not in KEEP_TABLES]
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await conn.execute(table.delete())
        await conn.execute(text("UPDATE reference_counters SET value = 0"))


@pytest.fixture
async def clean_database(engine: AsyncEngine) -> None:
    """Each test starts from empty tables; tests commit for real, as the service does."""
    await _clean(engine)


@pytest.fixture
async def session(
    sessionmaker: async_sessionmaker[AsyncSession], clean_database: None
) -> AsyncIterator[AsyncSession]:
    async with unit_of_work(sessionmaker) as session:
        yield session


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app for one test: its in-process sweep must not touch another test's rows."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI, clean_database: None) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
        yield client
    await app.state.dispatcher.drain()  # no delivery of this test runs into the next one


async def make_token(
    maker: async_sessionmaker[AsyncSession], scope: Scope, person_id: int | None = None
) -> str:
    async with unit_of_work(maker) as session:
        _, secret = await create_token(session, name=f"test-{scope}", scope=scope, person_id=person_id)
    return secret


@pytest.fixture
async def writer(sessionmaker: async_sessionmaker[AsyncSession], clean_database: None) -> dict[str, str]:
    return {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.write)}"}


@pytest.fixture
async def reader(sessionmaker: async_sessionmaker[AsyncSession], clean_database: None) -> dict[str, str]:
    return {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.read)}"}


@pytest.fixture
async def admin(sessionmaker: async_sessionmaker[AsyncSession], clean_database: None) -> dict[str, str]:
    return {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.admin)}"}


@pytest.fixture
def tmp_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as path:
        yield Path(path)


@pytest.fixture
async def redis() -> AsyncIterator["ArqRedis"]:
    """A real Redis database of the tests' own, emptied before each test."""
    client = ArqRedis.from_url(REDIS_URL)
    try:
        await client.ping()
    except OSError as exc:
        pytest.exit(f"Redis is not reachable at {REDIS_URL}: {exc}. Start it (make services).", 2)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


def provider_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings with every provider configured against hosts that respx intercepts."""
    values: dict[str, Any] = {
        "database": DatabaseSettings(url=database_url),
        "redis": RedisSettings(url=REDIS_URL),
        "slack": SlackSettings(api_url=SLACK_API, bot_token=SecretStr("xoxb-test-token")),
        "pagerduty": PagerDutySettings(
            api_url=PAGERDUTY_API,
            api_token=SecretStr("pd-test-token"),
            from_email="relay@example.com",
            default_service_id="PSERVICE",
        ),
        "delivery": DeliverySettings(backoff_base_seconds=0.05, backoff_max_seconds=0.2),
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def relay_app() -> RelayApp:
    """Start an app with given settings (lifespan included)."""

    @asynccontextmanager
    async def start(settings: Settings) -> AsyncIterator[FastAPI]:
        application = create_app(settings)
        async with application.router.lifespan_context(application):
            yield application

    return start
