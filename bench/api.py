"""Relay's write path over HTTP, against a bare FastAPI app measured in the same run.

Three workloads, each a fixed number of requests at a fixed concurrency, each task with its own
httpx client and connection:

* baseline:    POST a small JSON body to a FastAPI app that only echoes it back;
* declare:     POST /api/v1/incidents (``force: true``, a unique title and functionality each time);
* append-note: POST /api/v1/incidents/{ref}/timeline, spread over a few declared incidents.

Each server runs under uvicorn in its own process on 127.0.0.1. The report gives throughput and
p50/p99 latency per workload, and Relay's throughput and p99 as ratios of the baseline's. Every Relay
request must answer 201; any other answer is printed and makes the script exit non-zero.

    .venv/bin/python bench/api.py [--requests N] [--concurrency C] [--database-url URL]
"""

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from app.auth.models import Scope
from app.auth.service import create_token
from app.db import migrations
from app.db.session import create_engine, create_sessionmaker, unit_of_work

BENCH_DIR = Path(__file__).resolve().parent
NOTE_INCIDENTS = 4
MAX_FAILURES_SHOWN = 20
PHASE_TIMEOUT_SECONDS = 600.0
STARTUP_TIMEOUT_SECONDS = 30.0

COLUMNS = ("workload", "requests", "req/s", "p50 ms", "p99 ms", "req/s ratio", "p99 ratio")

RequestFor = Callable[[int], tuple[str, dict[str, Any]]]


def create_baseline() -> FastAPI:
    """The baseline: one POST endpoint that answers with JSON and touches nothing else."""
    baseline = FastAPI()

    @baseline.post("/echo", status_code=201)
    async def echo(body: dict[str, Any]) -> dict[str, Any]:
        return {"received": body}

    return baseline


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed

    def percentile_ms(self, pct: int) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[pct - 1] * 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def uvicorn_server(target: str, workdir: Path, env: dict[str, str], *extra: str) -> Iterator[str]:
    """Run ``uvicorn --factory TARGET`` on a free port; yield its base URL once it answers."""
    port = free_port()
    log_path = workdir / f"{target.replace(':', '-')}.log"
    with log_path.open("wb") as log:
        args = f"-m uvicorn {target} --factory --host 127.0.0.1 --port {port} --log-level warning".split()
        process = subprocess.Popen(
            [sys.executable, *args, *extra], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{target} did not start:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def write_token(database_url: str) -> str:
    engine = create_engine(database_url)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            _, secret = await create_token(session, name="bench", scope=Scope.write)
            return secret
    finally:
        await engine.dispose()


async def drive(
    clients: list[httpx.AsyncClient], name: str, request_for: RequestFor, requests: int
) -> tuple[Result, list[dict[str, Any]]]:
    """Send ``requests`` POSTs, one task per client; keep timings, failures and 201 bodies."""
    result = Result(name)
    bodies: list[dict[str, Any]] = []
    issued = iter(range(requests))

    async def worker(client: httpx.AsyncClient) -> None:
        for i in issued:
            path, body = request_for(i)
            started = time.perf_counter()
            try:
                response = await client.post(path, json=body)
            except httpx.HTTPError as exc:
                result.failures.append(f"{name} #{i}: {exc!r}")
                continue
            result.latencies.append(time.perf_counter() - started)
            if response.status_code == 201:
                bodies.append(response.json())
            else:
                result.failures.append(f"{name} #{i}: {response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    async with asyncio.timeout(PHASE_TIMEOUT_SECONDS):
        await asyncio.gather(*(worker(client) for client in clients))
    result.elapsed = time.perf_counter() - started
    return result, bodies


def declaration(i: int) -> tuple[str, dict[str, Any]]:
    return "/api/v1/incidents", {
        "title": f"Bench incident {i}",
        "service": "bench-api",
        "functionality": f"Bench functionality {i}",
        "state": "down",
        "audience": "all users",
        "severity": "SEV2",
        "force": True,
    }


async def run(relay_url: str, baseline_url: str, token: str, requests: int, concurrency: int) -> list[Result]:
    """Each task gets its own single-connection client: a shared httpx pool is itself a bottleneck."""

    def clients(base_url: str, headers: dict[str, str]) -> list[httpx.AsyncClient]:
        limits = httpx.Limits(max_connections=1)
        return [
            httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30, limits=limits)
            for _ in range(concurrency)
        ]

    baseline = clients(baseline_url, {})
    relay = clients(relay_url, {"Authorization": f"Bearer {token}"})
    try:
        warmup = 4 * concurrency
        echo_warmup, _ = await drive(baseline, "warm-up", lambda i: ("/echo", {"n": i}), warmup)
        relay_warmup, incidents = await drive(relay, "warm-up", lambda i: declaration(requests + i), warmup)
        if echo_warmup.failures or relay_warmup.failures:
            raise SystemExit("\n".join(["warm-up failed:", *echo_warmup.failures, *relay_warmup.failures]))
        refs = [incident["reference"] for incident in incidents[:NOTE_INCIDENTS]]

        def note(i: int) -> tuple[str, dict[str, Any]]:
            return f"/api/v1/incidents/{refs[i % len(refs)]}/timeline", {"body": f"Bench note {i}"}

        echo, _ = await drive(baseline, "baseline", lambda i: ("/echo", declaration(i)[1]), requests)
        declare, _ = await drive(relay, "declare", declaration, requests)
        append, _ = await drive(relay, "append-note", note, requests)
    finally:
        await asyncio.gather(*(client.aclose() for client in baseline + relay))
    return [echo, declare, append]


def report(results: list[Result], concurrency: int) -> None:
    base = results[0]
    print(f"concurrency {concurrency}; the last two columns are relative to the baseline")
    print("{:<12} {:>8} {:>8} {:>8} {:>8} {:>11} {:>11}".format(*COLUMNS))
    for r in results:
        p50, p99 = r.percentile_ms(50), r.percentile_ms(99)
        ratios = r.throughput / base.throughput, p99 / base.percentile_ms(99)
        row = f"{r.name:<12} {len(r.latencies):>8} {r.throughput:>8.0f} {p50:>8.2f} {p99:>8.2f}"
        print(row + " {:>11.3f} {:>11.2f}".format(*ratios))


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
        token = asyncio.run(write_token(database_url))

        env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
        env.update(RELAY_DATABASE_URL=database_url, RELAY_LOG_LEVEL="WARNING")
        relay_url = stack.enter_context(uvicorn_server("app.main:create_app", workdir, env))
        baseline_url = stack.enter_context(
            uvicorn_server("api:create_baseline", workdir, env, "--app-dir", str(BENCH_DIR))
        )
        results = asyncio.run(run(relay_url, baseline_url, token, args.requests, args.concurrency))

    report(results, args.concurrency)
    failures = [failure for r in results for failure in r.failures]
    for failure in failures[:MAX_FAILURES_SHOWN]:
        print(failure)
    if failures:
        print(f"{len(failures)} request(s) did not answer 201 (at most {MAX_FAILURES_SHOWN} shown)")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
