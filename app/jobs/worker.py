"""ARQ worker: ``relay worker`` runs ``WorkerSettings``."""

from typing import Any

from arq import cron, func
from arq.connections import RedisSettings

import app.db.models  # noqa: F401  (every table is mapped before the first query)
from app import logging as relay_logging
from app.comms import tick as process_clock
from app.config import Settings, get_settings
from app.db.session import create_engine, create_sessionmaker
from app.deliveries import runner
from app.integrations.clients import Clients
from app.jobs.queue import ArqDispatcher
from app.reconciliation import jobs as reconciliation_jobs
from app.reconciliation import service as reconciliation
from app.reconciliation.models import Provider


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx.get("settings") or get_settings()
    relay_logging.configure(settings.log_level, json=settings.log_json)
    engine = create_engine(settings.database.url, pool_size=settings.database.pool_size)
    dispatcher = ArqDispatcher(ctx["redis"])
    ctx["engine"] = engine
    ctx["runtime"] = runner.Runtime(
        settings=settings,
        sessionmaker=create_sessionmaker(engine, dispatcher=dispatcher),
        clients=Clients.from_settings(settings),
        dispatcher=dispatcher,
    )


async def shutdown(ctx: dict[str, Any]) -> None:
    if "runtime" in ctx:
        await ctx["runtime"].clients.aclose()
    if "engine" in ctx:
        await ctx["engine"].dispose()


async def deliver(ctx: dict[str, Any], delivery_id: int) -> str:
    """Attempt one delivery."""
    return await runner.deliver(ctx["runtime"], delivery_id)


async def sweep_deliveries(ctx: dict[str, Any]) -> int:
    """Enqueue every delivery that is due."""
    return await runner.sweep(ctx["runtime"])


async def run_process_clock(ctx: dict[str, Any]) -> int:
    """Send the reminders, escalations and closes that are due (each once, however many workers tick)."""
    rt: runner.Runtime = ctx["runtime"]
    return await process_clock.tick(rt.settings, rt.sessionmaker)


async def run_reconciliation(ctx: dict[str, Any], provider: str, trigger: str) -> int:
    """One provider's reconciliation run, as an admin asked for it; returns the runs made."""
    rt: runner.Runtime = ctx["runtime"]
    runs = await reconciliation.reconcile(
        rt.settings, rt.sessionmaker, rt.clients, [Provider(provider)], trigger
    )
    return len(runs)


async def reconcile_on_schedule(ctx: dict[str, Any]) -> int:
    """Every configured provider's run; a provider already under way elsewhere is left to that run."""
    rt: runner.Runtime = ctx["runtime"]
    if not rt.settings.reconciliation.enabled:
        return 0
    runs = await reconciliation.reconcile(
        rt.settings, rt.sessionmaker, rt.clients, None, reconciliation_jobs.SCHEDULE
    )
    return len(runs)


def redis_settings(settings: Settings) -> RedisSettings:
    if not settings.redis.url:
        raise SystemExit(
            "relay worker needs RELAY_REDIS_URL. "
            "Without Redis, `relay serve` delivers inside the API process."
        )
    return RedisSettings.from_dsn(settings.redis.url)


def every(seconds: int) -> set[int]:
    return set(range(0, 60, seconds))


class WorkerSettings:
    # Results are not kept: a job id only blocks a second enqueue while the first is queued or running.
    functions = [
        func(deliver, keep_result=0, max_tries=1),
        func(
            run_reconciliation,
            keep_result=0,
            max_tries=1,
            timeout=get_settings().reconciliation.run_timeout_seconds,
        ),
    ]
    cron_jobs = [
        cron(
            sweep_deliveries,
            second=every(get_settings().delivery.sweep_interval_seconds),
            run_at_startup=True,
            keep_result=0,
        ),
        # The result is kept a while so that the job id stops a second worker enqueuing the same tick.
        cron(
            run_process_clock,
            second=every(get_settings().policy.tick_seconds),
            keep_result=120,
            timeout=300,
        ),
        # Kept for an interval too: however many workers run the cron, one of them runs each round.
        cron(
            reconcile_on_schedule,
            minute=set(range(0, 60, get_settings().reconciliation.interval_minutes)),
            second=30,
            keep_result=get_settings().reconciliation.interval_minutes * 60,
            timeout=get_settings().reconciliation.run_timeout_seconds * 3,
        ),
    ]
    on_startup = startup
    on_shutdown = shutdown
    keep_result = 0
    max_jobs = 20
    job_timeout = 120
    # A delivery that waits on another is queued when its parent finishes: poll often so that a chain
    # (create channel, post summary, pin it) takes milliseconds per step rather than ARQ's default 0.5 s.
    poll_delay = 0.05
