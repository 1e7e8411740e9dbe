"""/metrics for operators: families whose values follow requests, webhook receipts and the outbox."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import DatabaseSettings, Settings
from app.db.session import unit_of_work
from app.deliveries import service as deliveries
from app.deliveries.models import DeliveryStatus
from app.main import create_app
from app.reconciliation.models import ReconciliationRun, RunStatus
from app.webhooks import service as receipts
from tests.test_incidents_api import Headers, declare
from tests.timekeeping import frozen_at

pytestmark = pytest.mark.usefixtures("clean_database")


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an unauthenticated scrape, keyed by name and labels."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_requests_are_counted_and_timed_by_route_template_and_status(
    client: httpx.AsyncClient, writer: Headers
) -> None:
    before = await scrape(client)
    for _ in range(2):
        assert (await client.get("/api/v1/incidents/INC-1", headers=writer)).status_code == 404
    await declare(client, writer)
    assert (await client.get("/api/v1/incidents/INC-1", headers=writer)).status_code == 200
    assert (await client.get("/no/such/page")).status_code == 404
    after = await scrape(client)

    one = {"method": "GET", "route": "/api/v1/incidents/{reference}"}
    for status, expected in (("404", 2), ("200", 1)):
        labels = {**one, "status": status}
        delta = value(after, "relay_http_requests_total", **labels) - value(
            before, "relay_http_requests_total", **labels
        )
        assert delta == expected
        timed = value(after, "relay_http_request_duration_seconds_count", **labels) - value(
            before, "relay_http_request_duration_seconds_count", **labels
        )
        assert timed == expected
    declared = {"method": "POST", "route": "/api/v1/incidents", "status": "201"}
    assert (
        value(after, "relay_http_requests_total", **declared)
        - value(before, "relay_http_requests_total", **declared)
        == 1
    )
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert value(after, "relay_http_requests_total", **unmatched) > value(
        before, "relay_http_requests_total", **unmatched
    )
    assert not any(dict(labels).get("route") == "/no/such/page" for _, labels in after)


async def test_webhook_receipts_are_counted_by_provider_and_outcome(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    before = await scrape(client)
    async with unit_of_work(sessionmaker) as session:
        for _ in range(2):
            await receipts.record(
                session,
                provider="pagerduty",
                dedupe_key="evt-metrics",
                event_type="incident.annotated",
                headers={},
                raw=b"{}",
                settings=settings.delivery,
            )
        await receipts.refuse(session, provider="freshdesk", reason="bad token", headers={}, raw=b"{}")
    after = await scrape(client)

    def delta(provider: str, outcome: str) -> float:
        name = "relay_webhook_receipts_total"
        labels = {"provider": provider, "outcome": outcome}
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("pagerduty", "recorded") == 1
    assert delta("pagerduty", "duplicate") == 1
    assert delta("freshdesk", "refused") == 1
    assert delta("freshdesk", "recorded") == 0


async def test_deliveries_by_status_and_the_age_of_the_oldest_pending_one(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    empty = await scrape(client)
    assert value(empty, "relay_metrics_database_up") == 1
    assert value(empty, "relay_deliveries", status="pending") == 0
    assert value(empty, "relay_deliveries_oldest_pending_age_seconds") == 0

    with frozen_at(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) as frozen:
        for n, status in enumerate(
            (DeliveryStatus.pending, DeliveryStatus.failed_will_retry, DeliveryStatus.dead)
        ):
            async with unit_of_work(sessionmaker) as session:
                delivery = await deliveries.add(
                    session,
                    provider="slack",
                    action="slack.post_message",
                    payload={"channel": "C1", "text": "hi"},
                    idempotency_key=f"metrics:{n}",
                    settings=settings.delivery,
                )
                delivery.status = status
                # Not due yet, so that the app's own sweep leaves them where the test put them.
                delivery.next_attempt_at = frozen.now() + timedelta(hours=1)
            frozen.advance(timedelta(seconds=30))
        frozen.advance(timedelta(seconds=30))
        samples = await scrape(client)

    assert value(samples, "relay_deliveries", status="pending") == 1
    assert value(samples, "relay_deliveries", status="failed_will_retry") == 1
    assert value(samples, "relay_deliveries", status="dead") == 1
    assert value(samples, "relay_deliveries", status="in_flight") == 0
    # The pending one was written 120 s before the scrape; the dead one is not pending.
    assert value(samples, "relay_deliveries_oldest_pending_age_seconds") == 120


async def test_reconciliation_drift_counters_exist_before_anything_drifts(client: httpx.AsyncClient) -> None:
    text = (await client.get("/metrics")).text
    assert "# TYPE relay_reconciliation_drift_found_total counter" in text
    assert "# TYPE relay_reconciliation_drift_repaired_total counter" in text
    samples = await scrape(client)
    assert ("relay_reconciliation_drift_found_total", frozenset({("provider", "slack")})) in samples


async def test_drift_counters_add_up_every_run_whichever_process_made_it(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # Runs happen in workers: the scrape reads what they recorded, not a counter of its own process.
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    async with unit_of_work(sessionmaker) as session:
        for provider, drift, fixed in (("pagerduty", 2, 1), ("pagerduty", 3, 3), ("freshdesk", 1, 0)):
            session.add(
                ReconciliationRun(
                    provider=provider,
                    status=RunStatus.finished,
                    trigger="schedule",
                    started_at=now,
                    finished_at=now,
                    drift_found=drift,
                    repaired=fixed,
                )
            )
    samples = await scrape(client)
    found = "relay_reconciliation_drift_found_total"
    repaired = "relay_reconciliation_drift_repaired_total"
    assert value(samples, found, provider="pagerduty") == 5
    assert value(samples, repaired, provider="pagerduty") == 4
    assert value(samples, found, provider="freshdesk") == 1
    assert value(samples, repaired, provider="freshdesk") == 0
    assert ("relay_reconciliation_drift_found_total", frozenset({("provider", "slack")})) in samples


async def test_a_scrape_without_the_database_still_answers(settings: Settings) -> None:
    down = settings.model_copy(
        update={"database": DatabaseSettings(url="postgresql+asyncpg://relay@127.0.0.1:9/relay")}
    )
    application = create_app(down)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
            samples = await scrape(client)
    assert value(samples, "relay_metrics_database_up") == 0
    assert not any(name == "relay_deliveries" for name, _ in samples)
