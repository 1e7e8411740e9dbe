"""/metrics for operators: request metrics, and outbox figures read from the database at scrape time."""

import time
from collections.abc import Iterator

import structlog
from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import clock
from app.errors import STORE_UNAVAILABLE
from app.metrics import repository as repo
from app.metrics.instruments import HTTP_REQUEST_SECONDS, HTTP_REQUESTS, REGISTRY
from app.reconciliation import metrics as reconciliation_metrics

log = structlog.get_logger(__name__)

# The classic text format, which every Prometheus reads; Relay's names need nothing newer.
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"
# Paths that match no route, and unknown methods, share one label each, so that a scanner cannot
# mint a new series per request.
UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

router = APIRouter(tags=["operations"])


class RequestMetrics:
    """ASGI middleware that counts and times each request under its route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the app raises before responding

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            method = scope["method"] if scope["method"] in METHODS else "other"
            labels = (method, route, str(status))
            HTTP_REQUESTS.labels(*labels).inc()
            HTTP_REQUEST_SECONDS.labels(*labels).observe(time.perf_counter() - started)


class OutboxCollector(Collector):
    """Outbox figures read once per scrape."""

    def __init__(self, counts: dict[str, int] | None, oldest_age_seconds: float) -> None:
        self.counts = counts
        self.oldest_age_seconds = oldest_age_seconds

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "relay_metrics_database_up", "Whether this scrape could read the database (1) or not (0)."
        )
        up.add_metric([], 0 if self.counts is None else 1)
        yield up
        if self.counts is None:
            return
        deliveries = GaugeMetricFamily(
            "relay_deliveries",
            "Deliveries waiting, in flight, waiting to retry, or dead, by status.",
            labels=["status"],
        )
        for status, count in self.counts.items():
            deliveries.add_metric([status], count)
        yield deliveries
        yield GaugeMetricFamily(
            "relay_deliveries_oldest_pending_age_seconds",
            "Age of the oldest delivery that has neither succeeded nor died; 0 when there is none.",
            value=self.oldest_age_seconds,
        )


async def outbox_collector(request: Request) -> OutboxCollector:
    """Read the outbox figures; a database that cannot be read is reported, not raised."""
    try:
        async with request.app.state.sessionmaker() as session:
            counts = await repo.delivery_counts(session)
            oldest = await repo.oldest_undelivered_at(session)
    except STORE_UNAVAILABLE as exc:
        log.warning("metrics_database_unavailable", error=type(exc).__name__)
        return OutboxCollector(None, 0.0)
    age = max((clock.now() - oldest).total_seconds(), 0.0) if oldest else 0.0
    return OutboxCollector(counts, age)


async def drift_collector(request: Request) -> Collector | None:
    """Reconciliation's drift totals, summed from its runs; left out when the database is down."""
    try:
        return await reconciliation_metrics.drift_collector(request.app.state.sessionmaker)
    except STORE_UNAVAILABLE:
        return None


@router.get("/metrics", response_class=Response, responses={200: {"content": {TEXT_FORMAT: {}}}})
async def metrics(request: Request) -> Response:
    """Prometheus metrics for operators (unauthenticated, like /healthz)."""
    scrape = CollectorRegistry(auto_describe=False)
    outbox = await outbox_collector(request)
    scrape.register(outbox)
    drift = await drift_collector(request) if outbox.counts is not None else None
    if drift is not None:
        scrape.register(drift)
    return Response(generate_latest(REGISTRY) + generate_latest(scrape), media_type=TEXT_FORMAT)
