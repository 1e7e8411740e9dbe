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
    functions = [func(deliver, keep_result=0, max_tries=1)]
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
    ]
    on_startup = startup
    on_shutdown = shutdown
    keep_result = 0
    max_jobs = 20
    job_timeout = 120
    # A delivery that waits on another is queued when its parent finishes: poll often so that a chain
    # (create channel, post summary, pin it) takes milliseconds per step rather than ARQ's default 0.5 s.
    poll_delay = 0.05
