"""Reconciliation runs: one per provider at a time across workers, the API, and the ARQ jobs."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from arq import Worker, func
from arq.connections import ArqRedis, RedisSettings
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app import clock
from app.auth.models import Scope
from app.config import ReconciliationSettings
from app.config import RedisSettings as RelayRedis
from app.db.session import unit_of_work
from app.jobs import worker as relay_worker
from app.reconciliation.models import ReconciliationRun, RunStatus
from tests.conftest import REDIS_URL, RelayApp, make_token
from tests.reconciliation_support import fakes, settings_for

pytestmark = pytest.mark.usefixtures("clean_database")


async def all_runs(maker: async_sessionmaker[AsyncSession]) -> list[ReconciliationRun]:
    async with maker() as session:
        rows = await session.scalars(select(ReconciliationRun).order_by(col(ReconciliationRun.id)))
        return list(rows.all())


async def test_two_workers_starting_a_run_at_once_produce_one_run(
    database_url: str, redis: ArqRedis, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    with fakes() as fake:
        settings = settings_for(database_url, fake, redis=RelayRedis(url=REDIS_URL))
        # The first run waits inside its first PagerDuty call while the second one starts.
        fake.pagerduty.hold_first.add("/log_entries")
        contexts: list[dict[str, Any]] = [{"settings": settings, "redis": redis} for _ in range(2)]
        for ctx in contexts:  # each worker with its own engine and clients, as separate processes have
            await relay_worker.startup(ctx)
        try:
            first = asyncio.create_task(relay_worker.run_reconciliation(contexts[0], "pagerduty", "worker 1"))
            assert await asyncio.to_thread(fake.pagerduty.held.wait, 10)
            second = await relay_worker.run_reconciliation(contexts[1], "pagerduty", "worker 2")
            fake.pagerduty.release.set()
            made = await first
        finally:
            for ctx in contexts:
                await relay_worker.shutdown(ctx)
        log_calls = len(fake.pagerduty.calls("GET", "/log_entries"))
    assert (made, second) == (1, 0)
    [run] = await all_runs(sessionmaker)
    assert (run.provider, run.trigger, run.status, run.running) == ("pagerduty", "worker 1", "finished", None)
    assert log_calls == 1


async def test_a_run_whose_worker_died_frees_its_provider_once_its_lease_runs_out(
    database_url: str, redis: ArqRedis, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    now = clock.now()
    async with unit_of_work(sessionmaker) as session:
        session.add(
            ReconciliationRun(
                provider="freshdesk",
                trigger="schedule",
                running="freshdesk",
                started_at=now - timedelta(hours=1),
                lease_expires_at=now - timedelta(minutes=50),
            )
        )
    with fakes() as fake:
        ctx: dict[str, Any] = {"settings": settings_for(database_url, fake), "redis": redis}
        await relay_worker.startup(ctx)
        try:
            made = await relay_worker.run_reconciliation(ctx, "freshdesk", "admin: ops")
        finally:
            await relay_worker.shutdown(ctx)
    dead, fresh = await all_runs(sessionmaker)
    assert made == 1
    assert (dead.status, dead.running) == (RunStatus.failed, None)
    assert dead.error is not None
    assert dead.error.startswith("abandoned")
    assert (fresh.status, fresh.trigger) == (RunStatus.finished, "admin: ops")


async def test_the_api_shows_runs_to_readers_and_lets_only_admins_start_one(
    client: httpx.AsyncClient,
    reader: dict[str, str],
    writer: dict[str, str],
    admin: dict[str, str],
) -> None:
    assert (await client.get("/api/v1/reconciliation")).status_code == 401
    listing = await client.get("/api/v1/reconciliation", headers=reader)
    assert listing.status_code == 200
    assert listing.json() == {
        "providers": [
            {"provider": name, "configured": False, "last_run": None}
            for name in ("pagerduty", "freshdesk", "slack")
        ],
        "runs": [],
    }
    refused = await client.post("/api/v1/reconciliation", json={"provider": "slack"}, headers=writer)
    assert refused.status_code == 403
    unknown = await client.post("/api/v1/reconciliation", json={"provider": "jira"}, headers=admin)
    assert unknown.status_code == 422
    assert unknown.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in unknown.json()["errors"]] == ["provider"]
    unconfigured = await client.post("/api/v1/reconciliation", json={"provider": "slack"}, headers=admin)
    assert unconfigured.status_code == 409
    assert unconfigured.json()["errors"] == [{"field": "provider", "message": "slack is not configured"}]
    nothing = await client.post("/api/v1/reconciliation", headers=admin)
    assert nothing.status_code == 409


async def test_with_redis_an_admin_s_run_is_an_arq_job_a_worker_runs(
    database_url: str,
    relay_app: RelayApp,
    redis: ArqRedis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    del redis  # taken for its empty queue
    assert "cron:reconcile_on_schedule" in {job.name for job in relay_worker.WorkerSettings.cron_jobs}
    admin = {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.admin)}"}
    with fakes() as fake:
        settings = settings_for(database_url, fake, redis=RelayRedis(url=REDIS_URL))
        async with relay_app(settings) as app:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
                started = await client.post("/api/v1/reconciliation", headers=admin)
                again = await client.post("/api/v1/reconciliation", json={"provider": "slack"}, headers=admin)
        assert await all_runs(sessionmaker) == []  # nothing ran inside the requests
        worker = Worker(
            functions=[func(relay_worker.run_reconciliation, name="run_reconciliation")],
            redis_settings=RedisSettings.from_dsn(REDIS_URL),
            on_startup=relay_worker.startup,
            on_shutdown=relay_worker.shutdown,
            ctx={"settings": settings},
            burst=True,
            poll_delay=0.02,
            handle_signals=False,
        )
        try:
            await worker.async_run()
        finally:
            await worker.close()
    assert started.status_code == 202
    assert started.json()["runs"] == [
        {"provider": name, "queued": True} for name in ("pagerduty", "freshdesk", "slack")
    ]
    assert again.json()["runs"] == [{"provider": "slack", "queued": False}]  # already queued
    assert worker.jobs_complete == 3
    runs = await all_runs(sessionmaker)
    assert sorted(run.provider for run in runs) == ["freshdesk", "pagerduty", "slack"]
    assert {(run.status, run.trigger) for run in runs} == {(RunStatus.finished, "admin: test-admin")}


async def test_a_run_that_hits_its_page_limit_says_so_and_the_next_reads_the_same_window(
    database_url: str, redis: ArqRedis, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    with fakes() as fake:
        limits = ReconciliationSettings(enabled=False, page_size=1, max_pages=2)
        ctx: dict[str, Any] = {
            "settings": settings_for(database_url, fake, reconciliation=limits),
            "redis": redis,
        }
        for n in range(3):
            fake.pagerduty.add_incident(f"PMANY{n}", f"key-{n}", f"Alert {n}")
        await relay_worker.startup(ctx)
        try:
            await relay_worker.run_reconciliation(ctx, "pagerduty", "first")
            await relay_worker.run_reconciliation(ctx, "pagerduty", "second")
        finally:
            await relay_worker.shutdown(ctx)
        pages = [call.query["offset"] for call in fake.pagerduty.calls("GET", "/log_entries")]
    first, second = await all_runs(sessionmaker)
    assert pages == [["0"], ["1"], ["0"], ["1"]]  # two pages each, never the third
    assert first.error is not None
    assert "more than 2 pages of changes" in first.error
    assert first.drift_found == 2  # what it did read, it settled
    assert second.window_from == first.window_from
