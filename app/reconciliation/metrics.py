"""Reconciliation's drift counters for /metrics, read from the runs at scrape time.

Runs happen in worker processes; a counter kept in memory there never reaches the API's scrape. The
runs are in the database, so the totals are summed from them: the same figure whichever process
answers, and it survives restarts.
"""

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.reconciliation import repository as repo
from app.reconciliation.models import Provider


class DriftCollector(Collector):
    """Drift found and repaired, by provider, as of one scrape."""

    def __init__(self, totals: dict[str, tuple[int, int]]) -> None:
        self.totals = totals

    def collect(self) -> Iterator[Metric]:
        found = CounterMetricFamily(
            "relay_reconciliation_drift_found",
            "Differences found between what Relay wants on a provider and what the provider has.",
            labels=["provider"],
        )
        repaired = CounterMetricFamily(
            "relay_reconciliation_drift_repaired",
            "Differences that reconciliation repaired (or provider inputs it applied) on a provider.",
            labels=["provider"],
        )
        for provider in Provider:
            drift, fixed = self.totals.get(provider, (0, 0))
            found.add_metric([provider.value], drift)
            repaired.add_metric([provider.value], fixed)
        yield found
        yield repaired


async def drift_collector(sessionmaker: async_sessionmaker[AsyncSession]) -> DriftCollector:
    """Sum the runs (the caller decides what a database outage means for the scrape)."""
    async with sessionmaker() as session:
        return DriftCollector(await repo.drift_totals(session))
