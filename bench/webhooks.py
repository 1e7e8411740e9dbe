"""Relay's PagerDuty webhook endpoint over HTTP, against a bare FastAPI endpoint measured in the same run.

Two workloads, each a fixed number of requests at a fixed concurrency, each task with its own
httpx client and connection, every request a signed Webhooks V3 envelope with its own webhook id:

* baseline:  POST the same bodies to a FastAPI app whose endpoint reads the body and answers 202;
* pagerduty: POST /webhooks/pagerduty on Relay: verify the signature, record the receipt once,
             queue the job that applies it, answer 202.

The events are ``incident.acknowledged`` for PagerDuty incidents Relay does not know, with
``RELAY_PAGERDUTY_AUTO_DECLARE=none``: each one is recorded and its job (run inside the API process,
as ``make run`` does) marks it ignored, so the timing covers the receiving path and a light apply,
not the declaration of thousands of incidents. Bodies and signatures are made before the clock starts.
With ``RELAY_REDIS_URL`` set (and no ``relay worker`` running), Relay only records and enqueues: that
measures the receiving path alone.

Each server runs under uvicorn in its own process on 127.0.0.1. The report gives throughput and
p50/p99 latency per workload, and Relay's as ratios of the baseline's. Every request must answer 202
and every webhook must be stored exactly once; anything else is printed and the script exits non-zero.

    .venv/bin/python bench/webhooks.py [--requests N] [--concurrency C] [--database-url URL]
"""

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from api import BENCH_DIR, PHASE_TIMEOUT_SECONDS, Result, report, uvicorn_server
from fastapi import FastAPI, Request
from sqlalchemy import func, select

from app.db import migrations
from app.db.session import create_engine
from app.integrations.pagerduty.verification import sign
from app.webhooks.models import WebhookReceipt

SECRET = "bench-webhook-secret"
MAX_FAILURES_SHOWN = 20
Signed = tuple[bytes, dict[str, str]]


def create_baseline() -> FastAPI:
    """The baseline: the same path, reads the body, answers 202 and touches nothing else."""
    baseline = FastAPI()

    @baseline.post("/webhooks/pagerduty", status_code=202)
    async def receive(request: Request) -> dict[str, bool]:
        await request.body()
        return {"accepted": True}

    return baseline


def envelope(i: int) -> dict[str, Any]:
    """An ``incident.acknowledged`` the size and shape PagerDuty sends, about incident ``i``."""
    incident_id = f"QBENCH{i:08d}"
    return {
        "event": {
            "id": str(uuid.uuid4()),
            "event_type": "incident.acknowledged",
            "resource_type": "incident",
            "occurred_at": "2026-11-20T09:36:41.002Z",
            "agent": {"id": "PUSR001", "type": "user_reference", "summary": "Dana Okafor"},
            "client": {"name": "Grafana"},
            "data": {
                "id": incident_id,
                "type": "incident",
                "self": f"https://api.pagerduty.com/incidents/{incident_id}",
                "html_url": f"https://example.pagerduty.com/incidents/{incident_id}",
                "number": i,
                "status": "acknowledged",
                "incident_key": f"bench-{i}",
                "created_at": "2026-11-20T09:34:04Z",
                "title": f"Bench incident {i}: error rate above 20%",
                "urgency": "high",
                "service": {"id": "PSVC123", "type": "service_reference", "summary": "Login API"},
                "assignees": [{"id": "PUSR001", "type": "user_reference", "summary": "Dana Okafor"}],
                "escalation_policy": {"id": "PESC001", "type": "escalation_policy_reference"},
                "teams": [{"id": "PTEAM01", "type": "team_reference", "summary": "Core Services"}],
                "priority": {"id": "PPRI001", "type": "priority_reference", "summary": "P1"},
                "conference_bridge": None,
                "resolve_reason": None,
            },
        }
    }


def signed_requests(count: int, offset: int) -> list[Signed]:
    requests = []
    for i in range(offset, offset + count):
        body = json.dumps(envelope(i), separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "PagerDuty-Webhook/V3.0",
            "X-PagerDuty-Signature": sign(body, SECRET),
            "X-Webhook-Id": str(uuid.uuid4()),
        }
        requests.append((body, headers))
    return requests


async def drive(clients: list[httpx.AsyncClient], name: str, requests: list[Signed]) -> Result:
    """Send every request once, one task per client; keep timings and anything but a fresh 202."""
    result = Result(name)
    issued = iter(enumerate(requests))

    async def worker(client: httpx.AsyncClient) -> None:
        for i, (body, headers) in issued:
            started = time.perf_counter()
            try:
                response = await client.post("/webhooks/pagerduty", content=body, headers=headers)
            except httpx.HTTPError as exc:
                result.failures.append(f"{name} #{i}: {exc!r}")
                continue
            result.latencies.append(time.perf_counter() - started)
            if response.status_code != 202 or response.json().get("duplicate"):
                result.failures.append(f"{name} #{i}: {response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    async with asyncio.timeout(PHASE_TIMEOUT_SECONDS):
        await asyncio.gather(*(worker(client) for client in clients))
    result.elapsed = time.perf_counter() - started
    return result


async def run(relay_url: str, baseline_url: str, requests: int, concurrency: int) -> list[Result]:
    def clients(base_url: str) -> list[httpx.AsyncClient]:
        limits = httpx.Limits(max_connections=1)
        return [httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) for _ in range(concurrency)]

    warmup = 4 * concurrency
    baseline, relay = clients(baseline_url), clients(relay_url)
    try:
        for phase in (
            await drive(baseline, "warm-up", signed_requests(warmup, 0)),
            await drive(relay, "warm-up", signed_requests(warmup, warmup)),
        ):
            if phase.failures:
                raise SystemExit("\n".join(["warm-up failed:", *phase.failures]))
        echo = await drive(baseline, "baseline", signed_requests(requests, 2 * warmup))
        webhooks = await drive(relay, "pagerduty", signed_requests(requests, 2 * warmup + requests))
    finally:
        await asyncio.gather(*(client.aclose() for client in baseline + relay))
    return [echo, webhooks]


async def stored_receipts(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(WebhookReceipt)) or 0)
    finally:
        await engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="requests per workload (2 to 100000)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (1 to 256)")
    parser.add_argument(
        "--database-url", help="a scratch database to migrate and fill (default: a new SQLite file)"
    )
    args = parser.parse_args()
    if not 2 <= args.requests <= 100_000 or not 1 <= args.concurrency <= 256:
        parser.error("--requests must be 2..100000 and --concurrency 1..256")

    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="relay-bench-")))
        database_url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'relay.db'}"
        migrations.upgrade(database_url)
        before = asyncio.run(stored_receipts(database_url))

        env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_") or k == "RELAY_REDIS_URL"}
        env.update(
            RELAY_DATABASE_URL=database_url,
            RELAY_LOG_LEVEL="WARNING",
            RELAY_PAGERDUTY_WEBHOOK_SECRETS=SECRET,
            RELAY_PAGERDUTY_AUTO_DECLARE="none",
        )
        relay_url = stack.enter_context(uvicorn_server("app.main:create_app", workdir, env))
        baseline_url = stack.enter_context(
            uvicorn_server("webhooks:create_baseline", workdir, env, "--app-dir", str(BENCH_DIR))
        )
        results = asyncio.run(run(relay_url, baseline_url, args.requests, args.concurrency))
        stored = asyncio.run(stored_receipts(database_url)) - before

    report(results, args.concurrency)
    failures = [failure for r in results for failure in r.failures]
    expected = args.requests + 4 * args.concurrency
    print(f"webhooks stored: {stored} of {expected} sent to Relay")
    if stored != expected:
        failures.append(f"Relay stored {stored} webhooks, not {expected}")
    for failure in failures[:MAX_FAILURES_SHOWN]:
        print(failure)
    if failures:
        print(f"{len(failures)} problem(s) (at most {MAX_FAILURES_SHOWN} shown)")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
