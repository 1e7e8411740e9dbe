"""Slack's endpoints under load, against a bare FastAPI endpoint measured in the same run.

Three workloads, each a fixed number of signed requests at a fixed concurrency, each task with its own
httpx client and connection:

* baseline: POST a url-encoded body to a FastAPI app whose one endpoint reads it and answers JSON;
* command:  POST /webhooks/slack/commands, ``/incident note …`` in an incident's channel (verify the
            signature, record the receipt, write the timeline entry, answer ephemerally);
* events:   POST /webhooks/slack/events, a new message event each time in that channel (verify, record
            once by event_id, queue the job that applies it; without ``--redis-url`` that job runs in the
            same process, so it competes with the requests being measured).

Each server runs under uvicorn in its own process on 127.0.0.1. The report gives throughput and p50/p99
latency per workload, the ratios to the baseline, and p99 as a share of the 3 seconds Slack allows.
Every Relay request must answer 200; any other answer is printed and makes the script exit non-zero.

    .venv/bin/python bench/slack.py [--requests N] [--concurrency C] [--database-url URL] [--redis-url URL]
"""

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode

import httpx
from api import Result, uvicorn_server
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.auth.models import Scope
from app.auth.service import create_token
from app.db import migrations
from app.db.session import create_engine, create_sessionmaker, unit_of_work
from app.integrations.slack.verification import sign

BENCH_DIR = Path(__file__).resolve().parent
SECRET = "bench-signing-secret"
CHANNEL = "CBENCH0001"
SLACK_BUDGET_MS = 3000.0
MAX_FAILURES_SHOWN = 20
PHASE_TIMEOUT_SECONDS = 600.0

COLUMNS = ("workload", "requests", "req/s", "p50 ms", "p99 ms", "req/s ratio", "p99 ratio", "p99 / 3 s")

# Path, content type and body for request i.
RequestFor = Callable[[int], tuple[str, str, bytes]]


def create_baseline() -> FastAPI:
    """The baseline: one POST endpoint that reads the raw body and answers JSON, touching nothing else."""
    baseline = FastAPI()

    @baseline.post("/slack")
    async def echo(request: Request) -> JSONResponse:
        raw = await request.body()
        return JSONResponse({"response_type": "ephemeral", "text": f"{len(raw)} bytes"})

    return baseline


def command(i: int) -> tuple[str, str, bytes]:
    body = urlencode(
        {
            "team_id": "T0BENCH",
            "channel_id": CHANNEL,
            "user_id": f"U0BENCH{i % 8}",
            "user_name": f"bench{i % 8}",
            "command": "/incident",
            "text": f"note Bench note {i}",
            "trigger_id": f"bench.{i}",
        }
    ).encode()
    return "/webhooks/slack/commands", "application/x-www-form-urlencoded", body


def event(i: int) -> tuple[str, str, bytes]:
    ts = f"{1763631300 + i}.000100"
    envelope = {
        "type": "event_callback",
        "team_id": "T0BENCH",
        "api_app_id": "A0BENCH",
        "event_id": f"EvBENCH{i:08d}",
        "event_time": 1763631300 + i,
        "authorizations": [{"user_id": "U0BENCHBOT", "is_bot": True}],
        "event": {
            "type": "message",
            "channel": CHANNEL,
            "user": f"U0BENCH{i % 8}",
            "text": f"Bench message {i}",
            "ts": ts,
            "event_ts": ts,
        },
    }
    return "/webhooks/slack/events", "application/json", json.dumps(envelope).encode()


def baseline_request(request_for: RequestFor) -> RequestFor:
    def same_body(i: int) -> tuple[str, str, bytes]:
        _, content_type, body = request_for(i)
        return "/slack", content_type, body

    return same_body


def shifted(request_for: RequestFor, offset: int) -> RequestFor:
    """The same requests numbered from ``offset``, so warm-up bodies (and event ids) are never reused."""
    return lambda i: request_for(offset + i)


async def drive(
    clients: list[httpx.AsyncClient], name: str, request_for: RequestFor, requests: int
) -> Result:
    """Send ``requests`` signed POSTs, one task per client; signing happens before the clock starts."""
    result = Result(name)
    issued = iter(range(requests))

    async def worker(client: httpx.AsyncClient) -> None:
        for i in issued:
            path, content_type, body = request_for(i)
            headers = {"Content-Type": content_type, **sign(SECRET, body, int(time.time()))}
            started = time.perf_counter()
            try:
                response = await client.post(path, content=body, headers=headers)
            except httpx.HTTPError as exc:
                result.failures.append(f"{name} #{i}: {exc!r}")
                continue
            result.latencies.append(time.perf_counter() - started)
            if response.status_code != 200 or '"duplicate":true' in response.text:
                result.failures.append(f"{name} #{i}: {response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    async with asyncio.timeout(PHASE_TIMEOUT_SECONDS):
        await asyncio.gather(*(worker(client) for client in clients))
    result.elapsed = time.perf_counter() - started
    return result


async def admin_token(database_url: str) -> str:
    engine = create_engine(database_url)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            _, secret = await create_token(session, name="bench", scope=Scope.admin)
            return secret
    finally:
        await engine.dispose()


async def incident_channel(relay_url: str, token: str) -> None:
    """Declare one incident and adopt the bench channel for it, as an admin would."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=relay_url, headers=headers, timeout=30) as client:
        declared = await client.post(
            "/api/v1/incidents",
            json={
                "title": "Bench incident",
                "service": "bench-api",
                "functionality": "Benchmarking",
                "state": "degraded",
                "audience": "nobody",
                "severity": "SEV3",
            },
        )
        declared.raise_for_status()
        reference = declared.json()["reference"]
        adopted = await client.patch(
            f"/api/v1/incidents/{reference}", json={"slack_channel_id": CHANNEL, "version": 1}
        )
        adopted.raise_for_status()


async def run(relay_url: str, baseline_url: str, requests: int, concurrency: int) -> list[Result]:
    """Each task gets its own single-connection client: a shared httpx pool is itself a bottleneck."""

    def clients(base_url: str) -> list[httpx.AsyncClient]:
        limits = httpx.Limits(max_connections=1)
        return [httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) for _ in range(concurrency)]

    baseline, relay = clients(baseline_url), clients(relay_url)
    workloads: list[tuple[str, list[httpx.AsyncClient], RequestFor]] = [
        ("baseline", baseline, baseline_request(command)),
        ("command", relay, command),
        # Last: the jobs its events queue run in the background and must not slow the workloads before it.
        ("events", relay, event),
    ]
    results = []
    try:
        for name, pool, request_for in workloads:
            warm = await drive(pool, "warm-up", shifted(request_for, requests), 4 * concurrency)
            if warm.failures:
                raise SystemExit("\n".join([f"{name} warm-up failed:", *warm.failures]))
            results.append(await drive(pool, name, request_for, requests))
    finally:
        await asyncio.gather(*(client.aclose() for client in baseline + relay))
    return results


def report(results: list[Result], concurrency: int) -> None:
    base = results[0]
    print(f"concurrency {concurrency}; ratios are relative to the baseline; Slack allows 3 s per request")
    print("{:<9} {:>8} {:>8} {:>8} {:>8} {:>11} {:>10} {:>9}".format(*COLUMNS))
    for r in results:
        p50, p99 = r.percentile_ms(50), r.percentile_ms(99)
        ratios = r.throughput / base.throughput, p99 / base.percentile_ms(99), p99 / SLACK_BUDGET_MS
        row = f"{r.name:<9} {len(r.latencies):>8} {r.throughput:>8.0f} {p50:>8.2f} {p99:>8.2f}"
        print(row + " {:>11.3f} {:>10.2f} {:>9.2%}".format(*ratios))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="requests per workload (2 to 100000)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (1 to 256)")
    parser.add_argument(
        "--database-url", help="a scratch database to migrate and fill (default: a new SQLite file)"
    )
    parser.add_argument(
        "--redis-url",
        help="a scratch Redis database: Relay queues the events' jobs there for workers instead of running "
        "them itself (none is started, so only the endpoints are measured)",
    )
    args = parser.parse_args()
    if not 2 <= args.requests <= 100_000 or not 1 <= args.concurrency <= 256:
        parser.error("--requests must be 2..100000 and --concurrency 1..256")

    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="relay-bench-slack-")))
        database_url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'relay.db'}"
        migrations.upgrade(database_url)
        token = asyncio.run(admin_token(database_url))

        env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
        env.update(
            RELAY_DATABASE_URL=database_url, RELAY_LOG_LEVEL="WARNING", RELAY_SLACK_SIGNING_SECRET=SECRET
        )
        if args.redis_url:
            env["RELAY_REDIS_URL"] = args.redis_url
        relay_url = stack.enter_context(uvicorn_server("app.main:create_app", workdir, env))
        # --app-dir puts bench/ first on the path, so `slack` here is this file, not the legacy SDK package.
        baseline_url = stack.enter_context(
            uvicorn_server("slack:create_baseline", workdir, env, "--app-dir", str(BENCH_DIR))
        )
        asyncio.run(incident_channel(relay_url, token))
        results = asyncio.run(run(relay_url, baseline_url, args.requests, args.concurrency))

    report(results, args.concurrency)
    failures = [failure for r in results for failure in r.failures]
    for failure in failures[:MAX_FAILURES_SHOWN]:
        print(failure)
    if failures:
        print(f"{len(failures)} request(s) did not answer 200 (at most {MAX_FAILURES_SHOWN} shown)")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
