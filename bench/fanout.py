"""The deliveries fan-out through ARQ workers, against the same provider calls made directly in the same run.

Relay runs the production way: PostgreSQL (scratch database ``relay_bench``, recreated and migrated), Redis
database 14 (flushed), ``relay serve`` that only enqueues, and ``--workers`` ``relay worker`` processes. Slack
and PagerDuty point at a fake provider (``create_fake_providers`` under uvicorn on 127.0.0.1) that answers
like them and counts requests.

* relay:  declare K SEV1 incidents, each with the deliveries app/deliveries/planning.py plans (channel,
  summary and its pin, announcement, page, ...), and poll the deliveries table until no row waits. An
  incident's latency runs from its deliveries' created_at (in the declaring transaction) to their last
  completed_at; "requests" counts deliveries, per second from the first created_at to the last completed_at.
* direct: the HTTP requests those deliveries made (as recorded on each row), a delivery's after its parent's,
  each incident released at its commit offset in Relay; one shared httpx.AsyncClient, workers x max_jobs
  requests in flight.
* burst:  as direct, with every incident released at once: how fast the same calls can go.

Throughput ratios are over burst, latency ratios over direct. A delivery not done, a declaration not 201, a
failed direct call, or a fake-server request count unlike the deliveries' records is printed and exits 1.

    .venv/bin/python bench/fanout.py [--incidents K] [--workers W] [--declare-concurrency C] [--timeout S]
"""

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from api import free_port, uvicorn_server, write_token
from arq.connections import ArqRedis
from sqlalchemy.engine import make_url

from app.db import migrations
from app.jobs.worker import WorkerSettings

BENCH_DIR = Path(__file__).resolve().parent
RELAY = str(Path(sys.executable).parent / "relay")
DATABASE = "relay_bench"
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/14"
POLL_SECONDS = 0.05
PHASE_TIMEOUT_SECONDS = 300.0
STARTUP_TIMEOUT_SECONDS = 30.0
MAX_FAILURES_SHOWN = 20
HEADER = "workload incidents requests  req/s   p50 ms   p95 ms  req/s ÷ burst  p50 ÷ direct  p95 ÷ direct"
ROWS_SQL = """SELECT i.number, d.id, d.action, d.status, d.last_error, d.depends_on_id, d.request,
    d.created_at, d.completed_at FROM deliveries d JOIN incidents i ON i.id = d.incident_id
    WHERE i.number = ANY($1)"""
WAITING_SQL = f"SELECT count(*) FROM ({ROWS_SQL}) r WHERE status NOT IN ('done', 'sandboxed', 'dead')"

Incident = list[asyncpg.Record]  # one incident's delivery rows


def fake_answer(method: str, path: str, body: dict[str, Any], n: int) -> tuple[int, dict[str, Any]]:
    """What Slack (under /api/) or PagerDuty answers on success, with ids unique per request."""
    if path.startswith("/api/"):
        if path.endswith("/conversations.create"):
            return 200, {"ok": True, "channel": {"id": f"C{n:09d}", "name": body.get("name")}}
        if path.endswith("/chat.postMessage"):
            return 200, {"ok": True, "channel": body.get("channel"), "ts": f"1700000000.{n:06d}"}
        return 200, {"ok": True, "user_id": "UBENCH", "messages": [], "user": {"id": "UBENCH", "profile": {}}}
    if path == "/priorities":
        return 200, {"priorities": [{"id": f"PPRIO{p}", "name": f"P{p}"} for p in range(1, 6)], "more": False}
    if path == "/incidents" and method == "GET":
        return 200, {"incidents": [], "more": False}
    if path == "/incidents":
        return 201, {"incident": {"id": f"P{n:07d}", "incident_key": body["incident"].get("incident_key")}}
    if path.endswith("/notes"):
        return 201, {"note": {"id": f"N{n:07d}"}}
    return 404, {"ok": False, "error": f"the fake provider has no {method} {path}"}


def create_fake_providers() -> Callable[..., Awaitable[None]]:
    """The fake Slack and PagerDuty, a bare ASGI app; ``GET /stats`` counts the requests per path."""
    counts: Counter[str] = Counter()

    async def app(scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any) -> None:
        body, more = b"", scope["type"] == "http"
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        if scope["type"] != "http":
            return
        if scope["method"] == "GET" and scope["path"] == "/stats":
            status, answer = 200, dict(counts)
        else:
            counts[scope["path"]] += 1
            parsed = json.loads(body) if body.startswith(b"{") else {}  # Slack's read methods post forms
            status, answer = fake_answer(scope["method"], scope["path"], parsed, counts.total())
        payload = json.dumps(answer).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    return app


def pct(values: list[float], percent: int) -> float:
    """A percentile of durations in seconds, in milliseconds."""
    if len(values) < 2:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1] * 1000


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, one per incident
    requests: int = 0
    elapsed: float = 0.0

    @property
    def throughput(self) -> float:
        return self.requests / self.elapsed if self.elapsed else float("nan")


@contextmanager
def process(
    name: str, args: list[str], workdir: Path, env: dict[str, str], ready: str = ""
) -> Iterator[None]:
    """Run ``args``, logging to WORKDIR/NAME.log; wait until ``ready`` answers 200; stop it afterwards."""
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(args, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while ready:
            try:
                if httpx.get(ready, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        yield
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited during the run:\n{log_path.read_text()[-2000:]}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def prepare(admin_dsn: str) -> tuple[str, str]:
    """Recreate the scratch database, flush Redis database 14; the database's SQLAlchemy and plain URLs."""
    conn = await asyncpg.connect(admin_dsn, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await conn.close()
    redis = ArqRedis.from_url(REDIS_URL)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()
    url = make_url(admin_dsn).set(database=DATABASE)
    return url.set(drivername="postgresql+asyncpg").render_as_string(False), url.render_as_string(False)


async def declare(
    url: str, token: str, tag: str, count: int, concurrency: int
) -> tuple[list[int], list[str]]:
    """Declare ``count`` SEV1 incidents, ``concurrency`` at a time: their numbers, and what failed."""
    numbers: list[int] = []
    failures: list[str] = []
    issued = iter(range(count))
    base = {"service": "bench-fanout", "state": "down", "audience": "all users", "severity": "SEV1"}

    async def worker() -> None:
        headers, limits = {"Authorization": f"Bearer {token}"}, httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30, limits=limits) as client:
            for i in issued:
                body = {
                    **base,
                    "title": f"Fan-out {tag} {i}",
                    "functionality": f"fan-out {tag} {i}",
                    "force": True,
                }
                try:
                    response = await client.post("/api/v1/incidents", json=body)
                except httpx.HTTPError as exc:
                    failures.append(f"declare {tag} #{i}: {exc!r}")
                    continue
                if response.status_code == 201:
                    numbers.append(int(response.json()["reference"].rsplit("-", 1)[1]))
                else:
                    failures.append(f"declare {tag} #{i}: {response.status_code} {response.text[:200]}")

    async with asyncio.timeout(PHASE_TIMEOUT_SECONDS):
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return numbers, failures


async def settle(dsn: str, numbers: list[int], timeout: float) -> list[asyncpg.Record]:
    """Poll until none of these incidents' deliveries is waiting (or ``timeout``); their rows."""
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / POLL_SECONDS) + 1):
            if await conn.fetchval(WAITING_SQL, numbers) == 0 or time.monotonic() > deadline:
                break
            await asyncio.sleep(POLL_SECONDS)
        rows: list[asyncpg.Record] = await conn.fetch(ROWS_SQL, numbers)
        return rows
    finally:
        await conn.close()


def analyse(
    rows: list[asyncpg.Record], count: int
) -> tuple[Result, list[tuple[float, Incident]], list[float], list[str]]:
    """Relay's result, each incident at its commit offset, each delivery's ready-to-done time, what failed."""
    failures, grouped = [], defaultdict[int, Incident](list)
    for r in rows:
        grouped[r["number"]].append(r)
        if r["status"] != "done":
            failures.append(f"delivery {r['id']} {r['action']}: {r['status']} {r['last_error']}")
    if len(grouped) != count:
        failures.append(f"{count - len(grouped)} declared incident(s) have no deliveries")
    first = min((r["created_at"] for r in rows), default=None)
    finished = {r["id"]: r["completed_at"] for r in rows if r["completed_at"] is not None}
    result, incidents = Result("relay", requests=len(rows)), []
    if first is not None and finished:
        result.elapsed = (max(finished.values()) - first).total_seconds()
    for group in (grouped[number] for number in sorted(grouped)):
        start = min(r["created_at"] for r in group)
        incidents.append(((start - first).total_seconds(), group))
        if all(r["id"] in finished for r in group):
            result.latencies.append((max(finished[r["id"]] for r in group) - start).total_seconds())
    ready = {r["id"]: finished.get(r["depends_on_id"], r["created_at"]) for r in rows}
    hops = [(done - ready[id_]).total_seconds() for id_, done in finished.items()]
    return result, incidents, hops, failures


async def direct(
    fake: str, name: str, incidents: list[tuple[float, Incident]], concurrency: int
) -> tuple[Result, list[str]]:
    """Replay each incident's recorded requests from its offset: one client, ``concurrency`` at a time."""
    result, failures, gate = Result(name), [], asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def deliver(row: asyncpg.Record, children: dict[int | None, Incident]) -> None:
            for request in json.loads(row["request"] or "[]"):
                if not request["url"].startswith(fake + "/"):
                    raise ValueError(
                        f"delivery {row['id']} went to {request['url']}, not to the fake provider"
                    )
                async with gate:
                    response = await client.request(
                        request["method"], request["url"], json=request["body"], headers=request["headers"]
                    )
                result.requests += 1
                response.raise_for_status()
            await asyncio.gather(*(deliver(child, children) for child in children[row["id"]]))

        async def incident(i: int, due: float, rows: Incident) -> None:
            children = defaultdict[int | None, Incident](list)
            for row in rows:
                children[row["depends_on_id"]].append(row)
            await asyncio.sleep(max(0.0, due - loop.time()))
            try:
                await asyncio.gather(*(deliver(root, children) for root in children[None]))
            except (httpx.HTTPError, ValueError) as exc:
                failures.append(f"{name} incident {i}: {exc!r}")
                return
            result.latencies.append(loop.time() - due)

        start = loop.time() + 0.05
        async with asyncio.timeout(PHASE_TIMEOUT_SECONDS):
            await asyncio.gather(*(incident(i, start + at, rows) for i, (at, rows) in enumerate(incidents)))
        result.elapsed = loop.time() - start
    return result, failures


async def run(args: argparse.Namespace, relay_url: str, fake: str, token: str, dsn: str) -> int:
    async def requests_seen() -> int:
        async with httpx.AsyncClient(timeout=5) as client:
            return sum((await client.get(f"{fake}/stats")).json().values())

    warmup, failures = await declare(relay_url, token, "warm-up", 2 * args.workers, args.workers)
    failures += analyse(await settle(dsn, warmup, args.timeout), len(warmup))[3]
    if failures:
        raise SystemExit("\n".join(["warm-up failed:", *failures[:MAX_FAILURES_SHOWN]]))
    before, declaring = await requests_seen(), time.perf_counter()
    numbers, failures = await declare(relay_url, token, "bench", args.incidents, args.declare_concurrency)
    declaring = time.perf_counter() - declaring
    relay, incidents, hops, more = analyse(await settle(dsn, numbers, args.timeout), len(numbers))
    sent = await requests_seen() - before
    recorded = sum(len(json.loads(r["request"] or "[]")) for _, rows in incidents for r in rows)
    if sent != recorded:
        more.append(f"the fake server saw {sent} requests; the deliveries record {recorded}")
    concurrency = args.workers * WorkerSettings.max_jobs
    baseline, more2 = await direct(fake, "direct", incidents, concurrency)
    burst, more3 = await direct(fake, "burst", [(0.0, rows) for _, rows in incidents], concurrency)
    failures += more + more2 + more3

    print(
        f"{args.workers} worker(s) x {WorkerSettings.max_jobs} jobs; direct, burst: {concurrency} in flight"
    )
    print(HEADER)
    for r in (relay, baseline, burst):
        p50, p95 = pct(r.latencies, 50), pct(r.latencies, 95)
        print(
            f"{r.name:<8} {len(r.latencies):>9} {r.requests:>8} {r.throughput:>6.0f} {p50:>8.1f} {p95:>8.1f}",
            f"{r.throughput / burst.throughput:>14.3f} {p50 / pct(baseline.latencies, 50):>13.1f}",
            f"{p95 / pct(baseline.latencies, 95):>13.1f}",
        )
    print(
        f"declaring {len(numbers)} incidents took {declaring:.2f} s; relay's deliveries made {sent} requests"
    )
    print(
        f"relay, each delivery from ready (created, or its parent done) to done: p50 {pct(hops, 50):.0f} ms, "
        f"p95 {pct(hops, 95):.0f} ms, max {max(hops, default=0) * 1000:.0f} ms"
    )
    for failure in failures[:MAX_FAILURES_SHOWN]:
        print(failure)
    if failures:
        print(f"{len(failures)} failure(s) (at most {MAX_FAILURES_SHOWN} shown)")
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=200, help="SEV1 declarations (2 to 10000)")
    parser.add_argument("--workers", type=int, default=2, help="relay worker processes (1 to 16)")
    parser.add_argument("--declare-concurrency", type=int, default=8, help="declarations in flight (1 to 64)")
    parser.add_argument(
        "--timeout", type=float, default=120, help="seconds to wait for deliveries (1 to 600)"
    )
    parser.add_argument("--pg-admin-dsn", default=PG_ADMIN_DSN, help=f"where to create {DATABASE}")
    args = parser.parse_args()
    limits = (2, args.incidents, 10_000), (1, args.workers, 16), (1, args.declare_concurrency, 64)
    if not all(low <= value <= high for low, value, high in (*limits, (1, args.timeout, 600))):
        parser.error("an option is out of its range (see --help)")

    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="relay-fanout-")))
        database_url, dsn = asyncio.run(prepare(args.pg_admin_dsn))
        migrations.upgrade(database_url)
        token = asyncio.run(write_token(database_url))
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
        extra = "--app-dir", str(BENCH_DIR), "--lifespan", "off", "--no-access-log"
        fake = stack.enter_context(uvicorn_server("fanout:create_fake_providers", workdir, env, *extra))
        env.update(RELAY_DATABASE_URL=database_url, RELAY_REDIS_URL=REDIS_URL, RELAY_LOG_LEVEL="WARNING")
        env.update(RELAY_SLACK_API_URL=f"{fake}/api", RELAY_SLACK_BOT_TOKEN="xoxb-bench")
        env.update(RELAY_PAGERDUTY_API_URL=fake, RELAY_PAGERDUTY_API_TOKEN="pd-bench")
        env.update(
            RELAY_PAGERDUTY_FROM_EMAIL="bench@example.com", RELAY_PAGERDUTY_DEFAULT_SERVICE_ID="PBENCH"
        )
        relay_url = f"http://127.0.0.1:{free_port()}"
        serve = [RELAY, "serve", "--host", "127.0.0.1", "--port", relay_url.rsplit(":", 1)[1]]
        stack.enter_context(process("relay-serve", serve, workdir, env, relay_url + "/healthz"))
        for n in range(args.workers):
            stack.enter_context(process(f"relay-worker-{n}", [RELAY, "worker"], workdir, env))
        return asyncio.run(run(args, relay_url, fake, token, dsn))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
