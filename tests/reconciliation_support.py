"""Relay in this process against local fake Slack, PagerDuty and Freshdesk servers, for reconciliation."""

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.auth.models import Scope
from app.config import (
    DatabaseSettings,
    DeliverySettings,
    PagerDutySettings,
    ReconciliationSettings,
    RedisSettings,
    Settings,
    SlackSettings,
)
from app.incidents.models import Incident, IncidentLink, TimelineEntry
from app.reconciliation.jobs import InProcessReconciler
from app.reconciliation.models import ReconciliationRun
from tests.conftest import RelayApp, make_token
from tests.factories import declaration
from tests.fake_freshdesk import FakeFreshdesk, fake_freshdesk, make_ticket
from tests.fake_pagerduty import FakePagerDuty, fake_pagerduty
from tests.fake_providers import FakeSlack, fake_slack
from tests.freshdesk_support import BASE_URL, SECRET, freshdesk_config


@dataclass
class Fakes:
    slack: FakeSlack
    pagerduty: FakePagerDuty
    freshdesk: FakeFreshdesk


@contextmanager
def fakes() -> Iterator[Fakes]:
    with ExitStack() as stack:
        yield Fakes(
            slack=stack.enter_context(fake_slack()),
            pagerduty=stack.enter_context(fake_pagerduty()),
            freshdesk=stack.enter_context(fake_freshdesk()),
        )


def settings_for(database_url: str, found: Fakes, **overrides: Any) -> Settings:
    """Every provider configured against its fake; deliveries and runs inside the API process."""
    values: dict[str, Any] = {
        "environment": "test",
        "base_url": BASE_URL,
        "database": DatabaseSettings(url=database_url),
        "redis": RedisSettings(url=None),
        "slack": SlackSettings(api_url=found.slack.url, bot_token=SecretStr("xoxb-test")),
        "pagerduty": PagerDutySettings(
            api_url=found.pagerduty.url,
            api_token=SecretStr("pd-test-token"),
            from_email="relay@example.com",
            default_service_id="PSERVICE",
        ),
        "freshdesk": freshdesk_config(url=found.freshdesk.url),
        "delivery": DeliverySettings(backoff_base_seconds=0.05, backoff_max_seconds=0.2),
        # No schedule: each test starts the runs it looks at.
        "reconciliation": ReconciliationSettings(enabled=False),
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Relay:
    app: FastAPI
    client: httpx.AsyncClient
    sessionmaker: async_sessionmaker[AsyncSession]
    writer: dict[str, str]
    admin: dict[str, str]

    async def settle(self) -> None:
        """Wait for every delivery under way in this process, and those they unlock."""
        await self.app.state.dispatcher.drain()

    async def call(self, method: str, path: str, body: Any = None, ok: int = 200, admin: bool = False) -> Any:
        headers = self.admin if admin else self.writer
        response = await self.client.request(method, path, json=body, headers=headers)
        assert response.status_code == ok, response.text
        await self.settle()
        return response.json()

    async def declare(self, **overrides: Any) -> str:
        reference: str = (await self.call("POST", "/api/v1/incidents", declaration(**overrides), 201))[
            "reference"
        ]
        return reference

    async def move(self, reference: str, status: str, **extra: Any) -> None:
        await self.call("POST", f"/api/v1/incidents/{reference}/transitions", {"status": status, **extra})

    async def link_ticket(self, fake: FakeFreshdesk, ticket_id: int, reference: str) -> None:
        fake.add_ticket(make_ticket(ticket_id, incident=reference))
        response = await self.client.post(
            "/webhooks/freshdesk",
            json={"ticket_id": ticket_id, "event": "ticket_updated"},
            headers={"X-Relay-Token": SECRET},
        )
        assert response.status_code == 202, response.text
        await self.settle()

    async def runs(self, after: int = 0) -> list[ReconciliationRun]:
        async with self.sessionmaker() as session:
            rows = await session.scalars(
                select(ReconciliationRun)
                .where(col(ReconciliationRun.id) > after)
                .order_by(col(ReconciliationRun.id))
            )
            return list(rows.all())

    async def reconcile(self, provider: str | None = None) -> list[ReconciliationRun]:
        """One run per provider through the API, as an admin starts it, waited for with its repairs."""
        before = max((run.id or 0 for run in await self.runs()), default=0)
        body = {"provider": provider} if provider else None
        await self.call("POST", "/api/v1/reconciliation", body, ok=202, admin=True)
        reconciler: InProcessReconciler = self.app.state.reconciler
        await reconciler.drain()
        await self.settle()
        return await self.runs(after=before)

    async def incident(self, reference: str) -> Incident:
        async with self.sessionmaker() as session:
            found = await session.scalar(select(Incident).where(col(Incident.number) == int(reference[4:])))
        assert found is not None
        return found

    async def pagerduty_id(self, reference: str) -> str:
        incident = await self.incident(reference)
        async with self.sessionmaker() as session:
            link = await session.scalar(
                select(IncidentLink).where(
                    col(IncidentLink.incident_id) == incident.id,
                    col(IncidentLink.kind) == "pagerduty_incident",
                )
            )
        assert link is not None
        return link.external_id

    async def timeline(self, reference: str, source: str) -> list[str]:
        incident = await self.incident(reference)
        async with self.sessionmaker() as session:
            rows = await session.scalars(
                select(TimelineEntry)
                .where(col(TimelineEntry.incident_id) == incident.id, col(TimelineEntry.source) == source)
                .order_by(col(TimelineEntry.id))
            )
            return [entry.body for entry in rows]


@asynccontextmanager
async def started(
    relay_app: RelayApp, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> AsyncIterator[Relay]:
    writer = {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.write)}"}
    admin = {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.admin)}"}
    async with relay_app(settings) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
            relay = Relay(app, client, sessionmaker, writer, admin)
            yield relay
            await relay.settle()


def by_provider(runs: list[ReconciliationRun]) -> dict[str, tuple[int, int, int]]:
    """Each run's (drift found, repaired, errors), by provider."""
    return {run.provider: (run.drift_found, run.repaired, run.errors) for run in runs}
