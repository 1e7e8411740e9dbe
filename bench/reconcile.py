"""Calls and time of one reconciliation run over 5,000 linked incidents, against one call per object.

Each incident is linked to a PagerDuty incident and a Freshdesk ticket on a fake provider: a separate
process on 127.0.0.1 that serves PagerDuty's log entries and incidents and Freshdesk's ticket lists,
and counts every call. The database is seeded directly, as a previous run left it (last seen states,
the previous run's window). Three rounds, each one run per provider:

* nothing changed;
* 50 PagerDuty incidents resolved and 50 tickets reopened behind Relay's back;
* 500 of each.

Beside each run: the baseline of reading every object once (5,000 GETs, measured against the same
server with the same clients), and the ratios. A run's time includes settling what it found (applying
PagerDuty's resolves through the webhook code, planning the tickets' repairs): database work that any
way of finding the drift pays; the baseline only reads. The repairs a round plans are delivered to the
fake before the next round, as the workers would.

    .venv/bin/python bench/reconcile.py [--incidents N] [--database-url URL]
"""

import argparse
import asyncio
import json
import multiprocessing
import socket
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import SecretStr
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.config import (
    DatabaseSettings,
    FreshdeskSettings,
    PagerDutySettings,
    ReconciliationSettings,
    RedisSettings,
    Settings,
)
from app.db import migrations
from app.db.session import create_engine, create_sessionmaker, unit_of_work
from app.deliveries import repository as deliveries_repo
from app.deliveries import runner
from app.deliveries.repository import Job
from app.incidents.models import Incident, IncidentLink, ReferenceCounter
from app.incidents.repository import REFERENCE_COUNTER
from app.integrations.clients import Clients
from app.integrations.freshdesk.models import FreshdeskTicket, TicketState
from app.reconciliation import drift, service
from app.reconciliation.models import LinkState, Provider, ReconciliationRun, RunStatus

LONG_AGO = datetime.now(UTC) - timedelta(days=2)
# The fake serves PagerDuty under /pd and Freshdesk under /fd, and counts calls by that prefix.
PREFIX = {Provider.pagerduty: "pd", Provider.freshdesk: "fd"}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def pagerduty_incident(n: int) -> dict[str, Any]:
    return {
        "id": f"P{n:05d}",
        "type": "incident",
        "incident_number": n,
        "status": "acknowledged" if n % 2 == 0 else "resolved",
        "priority": {"id": "PPRI2", "type": "priority_reference", "summary": "P2"},
        "assignments": [],
        "last_status_change_at": iso(LONG_AGO),
        "html_url": f"https://fake.pagerduty.test/incidents/P{n:05d}",
    }


def ticket(n: int) -> dict[str, Any]:
    return {
        "id": 100_000 + n,
        "subject": f"Incident {n} hits us",
        "status": 2 if n % 2 == 0 else 4,
        "responder_id": None,
        "requester_id": 500_000 + n,
        "requester": {"id": 500_000 + n, "name": f"Customer {n}", "email": f"c{n}@example.com"},
        "tags": ["incident"],
        "custom_fields": {"cf_relay_incident": f"INC-{n}"},
        "updated_at": iso(LONG_AGO),
        "stats": {"requester_responded_at": None},
    }


class World:
    """The fake providers' state, and the calls made to each."""

    def __init__(self, count: int) -> None:
        self.lock = threading.Lock()
        self.incidents = {f"P{n:05d}": pagerduty_incident(n) for n in range(1, count + 1)}
        self.log: list[tuple[datetime, dict[str, Any]]] = []
        self.tickets = {100_000 + n: ticket(n) for n in range(1, count + 1)}
        self.calls: Counter[str] = Counter()

    def change(self, pagerduty: int, freshdesk: int) -> None:
        """Behind Relay's back: resolve open PagerDuty incidents, reopen resolved tickets."""
        now = datetime.now(UTC)
        with self.lock:
            open_ones = [i for i in self.incidents.values() if i["status"] == "acknowledged"][:pagerduty]
            for incident in open_ones:
                incident.update(status="resolved", last_status_change_at=iso(now))
                by = {"id": "PUSR1", "type": "user_reference", "summary": "Dana Okafor"}
                incident["last_status_change_by"] = by
                entry = {"id": f"PLOG{len(self.log)}", "type": "resolve_log_entry", "created_at": iso(now)}
                self.log.append((now, {**entry, "incident": {"id": incident["id"]}}))
            for item in [t for t in self.tickets.values() if t["status"] == 4][:freshdesk]:
                item.update(status=2, updated_at=iso(now))

    def update(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        """The repairs, delivered between rounds: ``PUT /tickets/{id}``, ``PUT /incidents/{id}``."""
        now = iso(datetime.now(UTC))
        with self.lock:
            self.calls[path.split("/")[1]] += 1
            if path.startswith("/fd/api/v2/tickets/"):
                item = self.tickets[int(path.rsplit("/", 1)[-1])]
                item.update(body, updated_at=now)
                return 200, item
            if path.startswith("/pd/incidents/"):
                incident = self.incidents[path.rsplit("/", 1)[-1]]
                incident.update(status=body["incident"].get("status", incident["status"]))
                return 200, {"incident": incident}
        return 404, {}

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        provider = path.split("/")[1]
        with self.lock:
            self.calls[provider] += 1
            if path == "/pd/log_entries":
                return 200, self._log_entries(query)
            if path.startswith("/pd/incidents/"):
                return 200, {"incident": self.incidents[path.rsplit("/", 1)[-1]]}
            if path == "/fd/api/v2/tickets":
                return 200, self._tickets(query)
            if path.startswith("/fd/api/v2/tickets/"):
                return 200, self.tickets[int(path.rsplit("/", 1)[-1])]
        return 404, {}

    def _log_entries(self, query: dict[str, list[str]]) -> dict[str, Any]:
        since = datetime.fromisoformat(query["since"][0].replace("Z", "+00:00"))
        until = datetime.fromisoformat(query["until"][0].replace("Z", "+00:00"))
        offset, limit = int(query["offset"][0]), int(query["limit"][0])
        window = [entry for at, entry in self.log if since <= at < until]
        page = [
            {**e, "incident": self.incidents[e["incident"]["id"]]} for e in window[offset : offset + limit]
        ]
        return {"log_entries": page, "more": offset + limit < len(window)}

    def _tickets(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        since = query["updated_since"][0]
        page, per_page = int(query["page"][0]), int(query["per_page"][0])
        updated = sorted(
            (t for t in self.tickets.values() if t["updated_at"] >= since), key=lambda t: t["updated_at"]
        )
        return updated[(page - 1) * per_page : page * per_page]


def serve(count: int, port: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """The fake providers' process."""
    world = World(count)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self, status: int, body: Any) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/control/calls":
                with world.lock:
                    self._reply(200, dict(world.calls))
                return
            self._reply(*world.answer(parts.path, parse_qs(parts.query)))

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, each answer waits on a delayed ACK.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_PUT(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
            self._reply(*world.update(urlsplit(self.path).path, body))

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
            if self.path == "/control/change":
                world.change(body["pagerduty"], body["freshdesk"])
            self._reply(200, {})

        def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port.put(server.server_address[1])
    server.serve_forever()


def control(base: str, path: str, body: dict[str, Any] | None = None) -> dict[str, int]:
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(f"{base}{path}", data=data)) as response:
        answer: dict[str, int] = json.loads(response.read())
        return answer


async def seed(settings: Settings, count: int) -> None:
    """The database as a previous run left it: every object seen as Relay wants it."""
    engine = create_engine(settings.database.url)
    maker = create_sessionmaker(engine)
    async with unit_of_work(maker) as session:
        rows: list[Any] = []
        for n in range(1, count + 1):
            resolved = n % 2 == 1
            rows.append(
                Incident(
                    id=n,
                    number=n,
                    title=f"Checkout is slow ({n})",
                    service="checkout",
                    functionality=f"Paying {n}",
                    state="degraded",
                    audience="some users",
                    severity="SEV2",
                    priority="P2",
                    status="resolved" if resolved else "investigating",
                    channel_name=f"inc-bench-{n}",
                    declared_at=LONG_AGO,
                    investigating_at=LONG_AGO,
                    resolved_at=LONG_AGO if resolved else None,
                    updated_at=LONG_AGO,
                )
            )
        session.add_all(rows)
        await session.execute(
            update(ReferenceCounter)
            .where(col(ReferenceCounter.name) == REFERENCE_COUNTER)
            .values(value=count)
        )
        await session.flush()
        rows = []
        for n in range(1, count + 1):
            pd, fd = pagerduty_incident(n), ticket(n)
            rows += [
                IncidentLink(
                    incident_id=n, kind="pagerduty_incident", external_id=pd["id"], created_at=LONG_AGO
                ),
                IncidentLink(
                    incident_id=n, kind="freshdesk_ticket", external_id=str(fd["id"]), created_at=LONG_AGO
                ),
                FreshdeskTicket(
                    ticket_id=fd["id"],
                    state=TicketState.linked,
                    incident_id=n,
                    ticket_updated_at=LONG_AGO,
                    created_at=LONG_AGO,
                    updated_at=LONG_AGO,
                ),
            ]
            view = drift.pagerduty_view(pd)
            assert view is not None
            for kind, external_id, seen in (
                ("pagerduty_incident", pd["id"], view.as_seen()),
                ("freshdesk_ticket", str(fd["id"]), drift.ticket_view(fd).as_seen()),
            ):
                rows.append(
                    LinkState(
                        kind=kind, external_id=external_id, incident_id=n, seen=seen, checked_at=LONG_AGO
                    )
                )
        session.add_all(rows)
        earlier = datetime.now(UTC) - timedelta(minutes=1)
        for provider in (Provider.pagerduty, Provider.freshdesk):
            session.add(
                ReconciliationRun(
                    provider=provider,
                    status=RunStatus.finished,
                    trigger="seed",
                    started_at=earlier,
                    finished_at=earlier,
                    window_from=earlier - timedelta(minutes=5),
                    window_to=earlier,
                )
            )
    await engine.dispose()


async def baseline(clients: Clients, count: int) -> dict[Provider, float]:
    """One GET per object, as a reconciler without change lists would make."""
    took = {}
    started = time.perf_counter()
    for n in range(1, count + 1):
        await clients.pagerduty.get_incident(incident_id=f"P{n:05d}")
    took[Provider.pagerduty] = time.perf_counter() - started
    started = time.perf_counter()
    for n in range(1, count + 1):
        await clients.freshdesk.get_ticket(ticket_id=100_000 + n, include="requester,stats")
    took[Provider.freshdesk] = time.perf_counter() - started
    return took


class Idle:
    """Deliveries are attempted one by one below, not dispatched."""

    async def dispatch(self, jobs: Sequence[Job]) -> None:
        del jobs


async def deliver_repairs(
    settings: Settings, maker: async_sessionmaker[AsyncSession], clients: Clients
) -> None:
    """Send what the last round planned (ticket statuses), as the workers would before the next run."""
    rt = runner.Runtime(settings, maker, clients, Idle())
    while jobs := [job for job in await due(maker) if job.attempts == 0]:
        for job in jobs:
            await runner.deliver(rt, job.delivery_id)


async def due(maker: async_sessionmaker[AsyncSession]) -> list[Job]:
    async with unit_of_work(maker) as session:
        return await deliveries_repo.due(session, datetime.now(UTC), 1000)


async def bench(settings: Settings, base: str, count: int) -> None:
    engine = create_engine(settings.database.url)
    maker = create_sessionmaker(engine)
    clients = Clients.from_settings(settings)
    try:
        print(f"{count:,} linked incidents, each with a PagerDuty incident and a Freshdesk ticket\n")
        header = f"{'round':<18} {'provider':<10} {'calls':>6} {'seconds':>8} {'drift':>6} {'repaired':>8}"
        print(f"{header} {'baseline calls':>14} {'baseline s':>10} {'calls ratio':>11} {'time ratio':>10}")
        reference = await baseline(clients, count)
        for label, changed in (("nothing changed", 0), ("50 changed", 50), ("500 changed", 500)):
            await deliver_repairs(settings, maker, clients)
            control(base, "/control/change", {"pagerduty": changed, "freshdesk": changed})
            for provider in (Provider.pagerduty, Provider.freshdesk):
                before = control(base, "/control/calls").get(PREFIX[provider], 0)
                started = time.perf_counter()
                [run] = await service.reconcile(settings, maker, clients, [provider], "bench")
                took = time.perf_counter() - started
                calls = control(base, "/control/calls").get(PREFIX[provider], 0) - before
                assert calls == run.calls, (calls, run.calls)
                print(
                    f"{label:<18} {provider.value:<10} {calls:>6} {took:>8.2f} {run.drift_found:>6} "
                    f"{run.repaired:>8} {count:>14} {reference[provider]:>10.2f} "
                    f"{calls / count:>11.4f} {took / reference[provider]:>10.3f}"
                )
    finally:
        await clients.aclose()
        await engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=5000)
    parser.add_argument("--database-url", help="a scratch database to migrate and fill (default: SQLite)")
    args = parser.parse_args()
    ports: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()  # type: ignore[type-arg]
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(args.incidents, ports), daemon=True
    )
    server.start()
    base = f"http://127.0.0.1:{ports.get(timeout=30)}"
    try:
        with tempfile.TemporaryDirectory(prefix="relay-bench-") as workdir:
            database_url = args.database_url or f"sqlite+aiosqlite:///{Path(workdir) / 'relay.db'}"
            migrations.upgrade(database_url)
            settings = Settings(
                environment="test",
                database=DatabaseSettings(url=database_url),
                redis=RedisSettings(url=None),
                pagerduty=PagerDutySettings(
                    api_url=f"{base}/pd", api_token=SecretStr("bench"), from_email="relay@example.com"
                ),
                freshdesk=FreshdeskSettings(url=f"{base}/fd", api_key=SecretStr("bench")),
                # Rounds follow each other within seconds: no overlap, so that each reads its own changes.
                reconciliation=ReconciliationSettings(enabled=False, overlap_seconds=0),
                _env_file=None,  # type: ignore[call-arg]
            )
            asyncio.run(seed(settings, args.incidents))
            asyncio.run(bench(settings, base, args.incidents))
    finally:
        server.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
