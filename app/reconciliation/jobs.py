"""Reconciliation as jobs: ARQ workers in production, tasks of the API process in embedded mode."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

import structlog
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.integrations.clients import Clients
from app.jobs.queue import redis_client
from app.reconciliation import service
from app.reconciliation.models import Provider

log = structlog.get_logger(__name__)
RUN_JOB = "run_reconciliation"
SCHEDULE = "schedule"


def job_id(provider: Provider) -> str:
    """While a provider's run is queued or running, a second one asked for is the same job."""
    return f"reconcile:{provider}"


class Reconciler(Protocol):
    """Starts runs outside the request that asks for them."""

    async def start(self, providers: Sequence[Provider], trigger: str) -> dict[Provider, bool]:
        """Queue a run per provider; False for one whose run is already queued or under way."""
        ...


class ArqReconciler:
    """Production: one ARQ job per provider, run by whichever worker takes it."""

    def __init__(self, redis: ArqRedis) -> None:
        self._redis = redis

    async def start(self, providers: Sequence[Provider], trigger: str) -> dict[Provider, bool]:
        queued = {}
        for provider in providers:
            job = await self._redis.enqueue_job(RUN_JOB, provider.value, trigger, _job_id=job_id(provider))
            queued[provider] = job is not None
        return queued


class InProcessReconciler:
    """Embedded mode: runs are tasks of the API process, and a loop stands in for the workers' cron."""

    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.clients = Clients.from_settings(settings)
        self._tasks: dict[Provider, asyncio.Task[None]] = {}
        self._schedule: asyncio.Task[None] | None = None

    def schedule(self) -> None:
        if self.settings.reconciliation.enabled:
            self._schedule = asyncio.create_task(self._every_interval())

    async def _every_interval(self) -> None:
        while True:
            await asyncio.sleep(self.settings.reconciliation.interval_minutes * 60)
            await self.start(service.configured(self.settings), SCHEDULE)
            await self.drain()

    async def _run(self, provider: Provider, trigger: str) -> None:
        try:
            await service.reconcile(self.settings, self.sessionmaker, self.clients, [provider], trigger)
        except Exception:
            log.warning("reconciliation_failed", provider=provider, exc_info=True)
        finally:
            self._tasks.pop(provider, None)

    async def start(self, providers: Sequence[Provider], trigger: str) -> dict[Provider, bool]:
        queued = {}
        for provider in providers:
            queued[provider] = provider not in self._tasks
            if queued[provider]:
                self._tasks[provider] = asyncio.create_task(self._run(provider, trigger))
        return queued

    async def drain(self) -> None:
        """Wait for the runs under way (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def aclose(self) -> None:
        tasks = [*self._tasks.values(), *([self._schedule] if self._schedule else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.clients.aclose()


@asynccontextmanager
async def runtime(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Reconciler]:
    """With Redis, queue runs for the workers; without it, run them (and the schedule) in this process."""
    if settings.redis.url:
        redis = redis_client(settings.redis.url)
        try:
            yield ArqReconciler(redis)
        finally:
            await redis.aclose()
        return
    reconciler = InProcessReconciler(settings, sessionmaker)
    reconciler.schedule()
    try:
        yield reconciler
    finally:
        await reconciler.aclose()
