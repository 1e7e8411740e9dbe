"""Two ways to run delivery attempts: ARQ workers through Redis, or inside the API process."""

import asyncio
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import structlog
from arq.connections import ArqRedis
from redis.exceptions import RedisError

from app.deliveries.repository import Job

log = structlog.get_logger(__name__)
DELIVER = "deliver"


def redis_client(url: str) -> ArqRedis:
    """A lazy ARQ client: the API starts, and declarations succeed, while Redis is down."""
    return ArqRedis.from_url(url, socket_connect_timeout=1, socket_timeout=2)  # type: ignore[no-any-return]


class ArqDispatcher:
    """Enqueue one ARQ job per attempt; the job id makes a second enqueue of it a no-op."""

    def __init__(
        self,
        redis: ArqRedis,
        *,
        pause_after_failure: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._pause = pause_after_failure
        self._monotonic = monotonic
        self._paused_until = 0.0

    async def dispatch(self, jobs: Sequence[Job]) -> None:
        # A hint only speeds a delivery up (the sweep finds every due row): while Redis is unreachable,
        # skip hints for a while rather than make each request wait for a connection timeout.
        if self._monotonic() < self._paused_until:
            return
        try:
            for job in jobs:
                await self._redis.enqueue_job(
                    DELIVER, job.delivery_id, _job_id=job.job_id, _defer_until=job.not_before
                )
        except (OSError, RedisError) as exc:
            self._paused_until = self._monotonic() + self._pause
            log.warning("delivery_hint_failed", error=type(exc).__name__, paused_seconds=self._pause)


class InProcessDispatcher:
    """The embedded default: run attempts as tasks of this process; the sweep loop does retries."""

    def __init__(self, concurrency: int = 2) -> None:
        self.run: Callable[[int], Coroutine[Any, Any, str]] | None = None
        self._tasks: set[asyncio.Task[str]] = set()
        # Attempts share the process (and, on SQLite, the one write lock) with the API's own requests:
        # a few at a time keep requests quick while a burst of deliveries drains behind them.
        self._slots = asyncio.Semaphore(concurrency)

    async def dispatch(self, jobs: Sequence[Job]) -> None:
        if self.run is None:
            return
        for job in jobs:
            if job.not_before is not None:
                continue  # the sweep picks it up when it is due
            task = asyncio.create_task(self._attempt(self.run, job.delivery_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _attempt(self, run: Callable[[int], Coroutine[Any, Any, str]], delivery_id: int) -> str:
        async with self._slots:
            return await run(delivery_id)

    async def drain(self) -> None:
        """Wait for the attempts under way (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def sweep_forever(sweep: Callable[[], Coroutine[Any, Any, int]], interval: float) -> None:
    """The in-process stand-in for the workers' cron sweep."""
    while True:
        try:
            await sweep()
        except Exception:
            log.warning("sweep_failed", exc_info=True)
        await asyncio.sleep(interval)
