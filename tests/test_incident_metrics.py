"""Response metrics: per-stage counts, medians and p90s that match a hand-computed set of incidents."""

from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.clock import FrozenClock
from app.config import PolicySettings, Settings
from app.metrics.summaries import percentile
from tests.conftest import RelayApp
from tests.test_incidents_api import Headers, declare
from tests.timekeeping import frozen_at

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UPDATE = "update"
Step = tuple[int, dict[str, Any] | str]

pytestmark = pytest.mark.usefixtures("clean_database")


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    with frozen_at(T0 - timedelta(days=40)) as frozen:
        yield frozen


@pytest.fixture
async def client(relay_app: RelayApp, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose SEV1 incidents owe an update every 15 minutes; the others every 30 (the default)."""
    cadence = settings.model_copy(update={"policy": PolicySettings(sev1={"internal_update_minutes": 15})})
    async with relay_app(cadence) as application:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
            yield client
        await application.state.dispatcher.drain()


async def incident(
    client: httpx.AsyncClient,
    headers: Headers,
    frozen: FrozenClock,
    service: str,
    severity: str,
    steps: Sequence[Step] = (),
) -> str:
    """Declare now, then apply each step (a transition, or an update sent) so many seconds later."""
    declared_at = frozen.now()
    ref = str((await declare(client, headers, service=service, severity=severity, force=True))["reference"])
    for offset, step in steps:
        frozen.advance(declared_at + timedelta(seconds=offset) - frozen.now())
        if step == UPDATE:
            body: dict[str, Any] = {"body": "Still on it", "kind": "communication"}
            response = await client.post(f"/api/v1/incidents/{ref}/timeline", json=body, headers=headers)
            assert response.status_code == 201, response.text
            continue
        assert isinstance(step, dict)
        if step["status"] == "closed":
            version = (await client.get(f"/api/v1/incidents/{ref}", headers=headers)).json()["version"]
            done = {"report_completed": True, "version": version}
            await client.patch(f"/api/v1/incidents/{ref}", json=done, headers=headers)
            step = {**step, "customer_confirmed": True}
        response = await client.post(f"/api/v1/incidents/{ref}/transitions", json=step, headers=headers)
        assert response.status_code == 200, response.text
    return ref


def to_day(frozen: FrozenClock, day: int) -> None:
    frozen.advance(T0 + timedelta(days=day) - frozen.now())


RESOLVE = {"status": "resolved", "durable_reason": "The fix is the durable resolution"}


async def record_incidents(client: httpx.AsyncClient, writer: Headers, frozen: FrozenClock) -> None:
    """The set the expected figures below were computed from by hand."""
    await incident(client, writer, frozen, "auth-api", "SEV2")  # 40 days early: outside the default window
    to_day(frozen, 0)
    await incident(  # A
        client,
        writer,
        frozen,
        "auth-api",
        "SEV1",
        [
            (60, UPDATE),
            (120, {"status": "investigating"}),
            (600, {"status": "mitigated"}),
            (900, UPDATE),
            (1800, UPDATE),
            (3600, RESOLVE),
            (7200, {"status": "closed"}),
        ],
    )
    to_day(frozen, 1)
    await incident(  # B
        client,
        writer,
        frozen,
        "auth-api",
        "SEV2",
        [(300, {"status": "investigating"}), (600, UPDATE), (1800, {"status": "mitigated"}), (5400, RESOLVE)],
    )
    to_day(frozen, 2)
    # C: resolved without passing through mitigated, so it was mitigated when it was resolved.
    await incident(
        client, writer, frozen, "search", "SEV2", [(60, {"status": "investigating"}), (2400, RESOLVE)]
    )
    to_day(frozen, 3)
    await incident(  # D: regressed; acknowledged the first time it left declared, mitigated the last time
        client,
        writer,
        frozen,
        "search",
        "SEV1",
        [
            (180, {"status": "investigating"}),
            (300, UPDATE),
            (900, {"status": "mitigated"}),
            (1200, {"status": "investigating"}),
            (1500, UPDATE),
            (2100, {"status": "mitigated"}),
        ],
    )
    to_day(frozen, 4)
    await incident(
        client, writer, frozen, "search", "SEV2", [(300, {"status": "cancelled", "reason": "Test"})]
    )
    to_day(frozen, 5)
    await incident(client, writer, frozen, "auth-api", "SEV3")  # F: still declared
    frozen.advance(timedelta(minutes=50))


def stage(count: int, median: float | None, p90: float | None) -> dict[str, Any]:
    return {"count": count, "median_seconds": median, "p90_seconds": p90}


async def test_the_numbers_match_a_hand_computed_set_of_incidents(
    client: httpx.AsyncClient, writer: Headers, reader: Headers, frozen: FrozenClock
) -> None:
    await record_incidents(client, writer, frozen)

    response = await client.get("/api/v1/metrics/incidents", headers=reader)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["to"] == "2026-03-07T09:50:00Z"
    assert body["from"] == "2026-02-05T09:50:00Z"
    overall = body["overall"]
    assert overall["count"] == 6
    assert overall["statuses"] == {"cancelled": 1, "closed": 1, "declared": 1, "mitigated": 1, "resolved": 2}
    # acknowledge 60, 120, 180, 300 — D counts its first acknowledgement, not its regression at 1200
    assert overall["time_to_acknowledge"] == stage(4, 150, 264)
    # mitigate 600, 1800, 2100 (D's last mitigation), 2400 (C, mitigated when resolved)
    assert overall["time_to_mitigate"] == stage(4, 1950, 2310)
    assert overall["time_to_resolve"] == stage(3, 3600, 5040)  # 2400, 3600, 5400
    assert overall["time_to_close"] == stage(1, 7200, 7200)
    # due: A 1+3600//900=5, B 1+5400//1800=4, C 1+2400//1800=2, D open 2d50m at 15 min: 1+195=196,
    # F open 50 min: 1+1=2; the cancelled incident owes none
    assert overall["updates"] == {"sent": 6, "due": 209}

    by_service = {g["service"]: g for g in body["by_service"]}
    assert list(by_service) == ["auth-api", "search"]
    auth = by_service["auth-api"]
    assert (auth["count"], auth["severity"]) == (3, None)
    assert auth["time_to_acknowledge"] == stage(2, 210, 282)
    assert auth["time_to_mitigate"] == stage(2, 1200, 1680)
    assert auth["time_to_resolve"] == stage(2, 4500, 5220)
    assert auth["updates"] == {"sent": 4, "due": 11}
    search = by_service["search"]
    assert search["statuses"] == {"cancelled": 1, "mitigated": 1, "resolved": 1}
    assert search["time_to_acknowledge"] == stage(2, 120, 168)
    assert search["time_to_mitigate"] == stage(2, 2250, 2370)
    assert search["time_to_close"] == stage(0, None, None)

    by_severity = {g["severity"]: g for g in body["by_severity"]}
    assert {s: g["count"] for s, g in by_severity.items()} == {"SEV1": 2, "SEV2": 3, "SEV3": 1}
    assert by_severity["SEV1"]["time_to_acknowledge"] == stage(2, 150, 174)
    assert by_severity["SEV2"]["time_to_resolve"] == stage(2, 3900, 5100)
    pairs = {(g["service"], g["severity"]): g["count"] for g in body["by_service_and_severity"]}
    assert pairs == {
        ("auth-api", "SEV1"): 1,
        ("auth-api", "SEV2"): 1,
        ("auth-api", "SEV3"): 1,
        ("search", "SEV1"): 1,
        ("search", "SEV2"): 2,
    }


async def test_filters_narrow_the_set(
    client: httpx.AsyncClient, writer: Headers, frozen: FrozenClock
) -> None:
    await record_incidents(client, writer, frozen)
    url = "/api/v1/metrics/incidents"

    search = (await client.get(url, params={"service": "SEARCH"}, headers=writer)).json()
    assert search["overall"]["count"] == 3
    assert search["service"] == "SEARCH"
    sev1 = (await client.get(url, params={"severity": "SEV1"}, headers=writer)).json()
    assert sev1["overall"]["count"] == 2
    assert sev1["overall"]["time_to_close"] == stage(1, 7200, 7200)
    window = {"from": "2026-03-03T09:00:00Z", "to": "2026-03-05T09:00:00+00:00"}
    days_1_and_2 = (await client.get(url, params=window, headers=writer)).json()
    assert days_1_and_2["overall"]["count"] == 2
    assert days_1_and_2["overall"]["time_to_resolve"] == stage(2, 3900, 5100)
    everything = {"from": "2026-01-01T00:00:00Z"}
    assert (await client.get(url, params=everything, headers=writer)).json()["overall"]["count"] == 7


async def test_bad_filters_are_refused_naming_the_field(client: httpx.AsyncClient, reader: Headers) -> None:
    url = "/api/v1/metrics/incidents"
    backwards = await client.get(
        url, params={"from": "2026-03-02T00:00:00Z", "to": "2026-03-01"}, headers=reader
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "query.from"
    severity = await client.get(url, params={"severity": "SEV9"}, headers=reader)
    assert severity.json()["errors"][0]["field"] == "query.severity.0"
    assert (await client.get(url)).status_code == 401


def test_percentiles_interpolate_between_the_closest_ranks() -> None:
    assert percentile([], 0.9) is None
    assert percentile([42.0], 0.9) == 42.0
    assert percentile([10.0, 20.0], 0.5) == 15.0
    assert percentile([5.0, 1.0, 4.0, 2.0, 3.0], 0.5) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0.9) == pytest.approx(9.1)
