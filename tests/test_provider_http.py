"""How provider responses are classified, and how long a failed delivery waits."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from app import clock
from app.clock import FrozenClock
from app.config import DeliverySettings
from app.deliveries.service import backoff, dependency, resolve_payload
from app.integrations.errors import PermanentError, TransientError
from app.integrations.http import build_http_client, retry_after, send
from app.integrations.slack.client import SlackClient, SlackError

BASE = "https://provider.test"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    client = build_http_client(BASE, timeout=1)
    yield client
    await client.aclose()


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 429])
async def test_server_errors_and_rate_limits_are_transient(http: httpx.AsyncClient, status: int) -> None:
    with respx.mock:
        respx.post(f"{BASE}/x").mock(return_value=httpx.Response(status, headers={"Retry-After": "7"}))
        with pytest.raises(TransientError) as caught:
            await send(http, "POST", "x")
    assert caught.value.retry_after == 7


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_other_client_errors_are_permanent_and_keep_the_providers_words(
    http: httpx.AsyncClient, status: int
) -> None:
    with respx.mock:
        respx.post(f"{BASE}/x").mock(
            return_value=httpx.Response(status, json={"error": "Invalid Input Provided"})
        )
        with pytest.raises(PermanentError) as caught:
            await send(http, "POST", "x")
    assert f"HTTP {status}" in caught.value.message
    assert "Invalid Input Provided" in caught.value.message


async def test_timeouts_and_refused_connections_are_transient(http: httpx.AsyncClient) -> None:
    with respx.mock:
        respx.post(f"{BASE}/slow").mock(side_effect=httpx.ReadTimeout("slow"))
        respx.post(f"{BASE}/down").mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(TransientError, match="timed out"):
            await send(http, "POST", "slow")
        with pytest.raises(TransientError, match="could not reach"):
            await send(http, "POST", "down")


def test_retry_after_reads_seconds_dates_and_ratelimit_reset() -> None:
    clock.install(FrozenClock(datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)))
    try:
        request = httpx.Request("POST", BASE)
        as_date = httpx.Response(
            429, headers={"Retry-After": "Thu, 01 Jan 2026 12:01:00 GMT"}, request=request
        )
        assert retry_after(as_date) == 60
        assert retry_after(httpx.Response(429, headers={"ratelimit-reset": "12"}, request=request)) == 12
        assert retry_after(httpx.Response(429, headers={"Retry-After": "soon"}, request=request)) is None
        assert retry_after(httpx.Response(429, request=request)) is None
    finally:
        clock.install(clock.Clock())


async def test_slack_ok_false_is_permanent_unless_slack_says_later(http: httpx.AsyncClient) -> None:
    slack = SlackClient(http)
    with respx.mock:
        route = respx.post(f"{BASE}/chat.postMessage")
        route.mock(return_value=httpx.Response(200, json={"ok": False, "error": "channel_not_found"}))
        with pytest.raises(SlackError) as caught:
            await slack.chat_post_message(channel="C1", text="hi")
        assert caught.value.error == "channel_not_found"
        route.mock(return_value=httpx.Response(200, json={"ok": False, "error": "ratelimited"}))
        with pytest.raises(TransientError):
            await slack.chat_post_message(channel="C1", text="hi")


def test_backoff_grows_with_jitter_and_respects_the_provider() -> None:
    settings = DeliverySettings(backoff_base_seconds=2, backoff_max_seconds=60)
    first = [backoff(1, settings, None) for _ in range(50)]
    assert all(timedelta(seconds=1) <= d <= timedelta(seconds=2) for d in first)
    assert len(set(first)) > 1, "jitter spreads retries out"
    assert all(timedelta(seconds=8) <= backoff(4, settings, None) <= timedelta(seconds=16) for _ in range(20))
    assert backoff(30, settings, None) <= timedelta(seconds=60)
    assert backoff(1, settings, 30) >= timedelta(seconds=30)


def test_payload_markers_take_the_earlier_result() -> None:
    payload = {"channel": dependency("channel_id"), "text": dependency("channel_id", "see <#{}>"), "n": [1]}
    assert resolve_payload(payload, {"channel_id": "C9"}) == {"channel": "C9", "text": "see <#C9>", "n": [1]}
