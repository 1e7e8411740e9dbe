"""Failures of our own parts: a worker killed mid-job, Redis down while an incident is declared."""

import asyncio
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import respx
from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.models import Scope
from app.config import RedisSettings
from app.deliveries.models import Delivery
from app.incidents.models import IncidentLink
from tests.conftest import REDIS_URL, RelayApp, make_token, provider_settings
from tests.factories import declaration
from tests.fake_providers import fake_slack
from tests.processes import BIN, free_port, relay_env
from tests.test_fanout import mock_slack
from tests.workers import drain, sweep

pytestmark = pytest.mark.usefixtures("clean_database")


async def statuses(maker: async_sessionmaker[AsyncSession]) -> dict[str, tuple[str, int]]:
    async with maker() as session:
        rows = (await session.scalars(select(Delivery))).all()
    return {d.idempotency_key.split(":", 1)[1]: (d.status, d.attempts) for d in rows}


async def wait_for(condition: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.1)


@contextmanager
def worker_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen([str(BIN / "relay"), "worker"], env=env, stdout=out, stderr=out)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)


@pytest.mark.usefixtures("redis")
async def test_a_worker_killed_mid_job_is_finished_by_another_exactly_once(
    database_url: str,
    relay_app: RelayApp,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    with fake_slack(hold_first={"conversations.create"}) as slack:
        settings = provider_settings(database_url)
        env = relay_env(
            database_url,
            RELAY_REDIS_URL=REDIS_URL,
            RELAY_SLACK_API_URL=slack.url,
            RELAY_SLACK_BOT_TOKEN="xoxb-test",
            RELAY_DELIVERY_LEASE_SECONDS="2",
            RELAY_DELIVERY_SWEEP_INTERVAL_SECONDS="1",
        )
        token = await make_token(sessionmaker, Scope.write)
        async with relay_app(settings) as app:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://r"
            ) as client:
                response = await client.post(
                    "/api/v1/incidents",
                    json=declaration(severity="SEV3"),
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert response.status_code == 201

        with worker_process(env, tmp_path / "first.log") as first:
            assert await asyncio.to_thread(slack.held.wait, 30), "the first worker never called Slack"
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        assert (await statuses(sessionmaker))["slack:create_channel"] == ("in_flight", 1)

        with worker_process(env, tmp_path / "second.log"):

            async def all_done() -> bool:
                return {s for s, _ in (await statuses(sessionmaker)).values()} == {"done"}

            await wait_for(all_done)

    final = await statuses(sessionmaker)
    assert final["slack:create_channel"] == ("done", 2)
    assert len(slack.calls("conversations.create")) == 2, (
        "at least once to Slack: the killed call and the retry"
    )
    assert len(slack.calls("pins.add")) == 1
    summaries = [c for c in slack.calls("chat.postMessage") if c["channel"] == "C0FAKE" and "blocks" in c]
    assert len(summaries) == 1, "everything after the channel happened once"
    async with sessionmaker() as session:
        links = (await session.scalars(select(IncidentLink))).all()
    assert [(link.kind, link.external_id) for link in links] == [("slack_channel", "C0FAKE")]


@contextmanager
def redis_server(port: int, tmp_path: Path) -> Iterator[None]:
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, check=False
            ).stdout.strip()
            != "PONG"
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_deliveries_wait_while_redis_is_down_and_go_out_when_it_is_back(
    database_url: str,
    relay_app: RelayApp,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    settings = provider_settings(database_url, redis=RedisSettings(url=url))
    token = await make_token(sessionmaker, Scope.write)
    with redis_server(port, tmp_path):
        async with relay_app(settings) as app:
            pass  # the API started against a live Redis ...
    async with relay_app(settings) as app:  # ... which is now stopped
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client:
            response = await client.post(
                "/api/v1/incidents",
                json=declaration(severity="SEV3"),
                headers={"Authorization": f"Bearer {token}"},
            )
    assert response.status_code == 201, "a declaration must not depend on Redis"
    assert {s for s, _ in (await statuses(sessionmaker)).values()} == {"pending"}

    with redis_server(port, tmp_path), respx.mock() as router:
        routes = mock_slack(router)
        back = ArqRedis.from_url(url)
        try:
            assert await sweep(settings, back) == 1, "the sweep finds the hint that never reached Redis"
            await drain(settings, back)
        finally:
            await back.aclose()
    assert {s for s, _ in (await statuses(sessionmaker)).values()} == {"done"}
    assert routes["create"].call_count == 1
