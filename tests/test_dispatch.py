"""Hints to the workers: an unreachable Redis is skipped for a while, never waited on by every request."""

from typing import Any

import pytest

from app.deliveries.repository import Job
from app.jobs.queue import ArqDispatcher, redis_client


async def test_an_unreachable_redis_is_left_alone_until_the_pause_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redis = redis_client("redis://127.0.0.1:9/0")  # nothing listens on the discard port
    attempts: list[int] = []
    enqueue = redis.enqueue_job

    async def counting_enqueue(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args[1])
        return await enqueue(*args, **kwargs)

    monkeypatch.setattr(redis, "enqueue_job", counting_enqueue)
    now = [0.0]
    dispatcher = ArqDispatcher(redis, pause_after_failure=60, monotonic=lambda: now[0])
    try:
        await dispatcher.dispatch([Job(delivery_id=1, attempts=0)])
        await dispatcher.dispatch([Job(delivery_id=2, attempts=0)])
        assert attempts == [1], "the second hint is skipped while Redis is known to be down"

        now[0] = 61.0
        await dispatcher.dispatch([Job(delivery_id=3, attempts=0)])
        assert attempts == [1, 3], "after the pause Redis is tried again"
    finally:
        await redis.aclose()
