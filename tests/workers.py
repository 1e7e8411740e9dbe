"""Real ARQ workers for tests: run in this process until the queue has nothing due."""

import asyncio
import time
from typing import Any

from arq import Worker, func
from arq.connections import ArqRedis, RedisSettings

from app.config import Settings
from app.deliveries import runner
from app.jobs import worker as relay_worker


async def sweep(settings: Settings, redis: ArqRedis) -> int:
    """One run of the workers' periodic sweep."""
    ctx: dict[str, Any] = {"settings": settings, "redis": redis}
    await relay_worker.startup(ctx)
    try:
        return await runner.sweep(ctx["runtime"])
    finally:
        await relay_worker.shutdown(ctx)


async def drain(settings: Settings, redis: ArqRedis, *, timeout: float = 20) -> None:
    """Run a worker until no job is due and none is running."""
    assert settings.redis.url
    worker = Worker(
        functions=[func(relay_worker.deliver, keep_result=0, max_tries=1)],
        redis_settings=RedisSettings.from_dsn(settings.redis.url),
        on_startup=relay_worker.startup,
        on_shutdown=relay_worker.shutdown,
        ctx={"settings": settings},
        keep_result=0,
        poll_delay=0.02,
        handle_signals=False,
    )
    task = asyncio.create_task(worker.async_run())
    deadline = time.monotonic() + timeout
    idle_checks = 0
    try:
        while idle_checks < 3:
            await asyncio.sleep(0.05)
            if task.done():
                task.result()
            now_ms = int(time.time() * 1000)
            due = await redis.zcount(worker.queue_name, "-inf", now_ms)
            idle_checks = idle_checks + 1 if due == 0 and not worker.tasks else 0
            if time.monotonic() > deadline:
                raise TimeoutError("the worker did not become idle")
    finally:
        await worker.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
