"""How long the incident report takes for a timeline of 10,000 entries, against a plain string join.

Two measurements, each the median of several runs:

* render: the report built from rows already in memory (threading the replies, then Markdown, then
  JSON), against the baseline of joining the same entries' times and bodies into one string;
* endpoint: GET /api/v1/incidents/{ref}/report in-process (query, build, render), Markdown and JSON,
  against a SQLite file by default or a scratch database given with --database-url.

Every third entry is a threaded reply, so that the threading does real work.

    .venv/bin/python bench/report.py [--entries N] [--runs R] [--database-url URL]
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import httpx

from app.auth.models import Scope
from app.auth.service import create_token
from app.config import DatabaseSettings, Settings
from app.db import migrations
from app.db.session import create_engine, create_sessionmaker, unit_of_work
from app.incidents.models import Incident, TimelineEntry
from app.main import create_app
from app.metrics.schemas import Durations
from app.reports import markdown, service
from app.reports.schemas import ReportPublic

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ZONE = ZoneInfo("UTC")


class Row(NamedTuple):
    id: int
    parent_id: int | None
    kind: str
    source: str
    body: str
    author_name: str | None
    occurred_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None


def rows(count: int) -> list[Row]:
    """``count`` entries a second apart; every third one replies to the entry before it."""
    return [
        Row(
            id=i,
            parent_id=i - 1 if i % 3 == 0 else None,
            kind="message" if i % 2 else "note",
            source="slack" if i % 2 else "api",
            body=f"Entry {i}: error rate still at {i % 100}% on the login path",
            author_name="Ada",
            occurred_at=START + timedelta(seconds=i),
            edited_at=None,
            deleted_at=None,
        )
        for i in range(1, count + 1)
    ]


def empty_report(timeline_rows: list[Row]) -> ReportPublic:
    return ReportPublic.model_validate(
        {
            **dict.fromkeys(("reference", "title", "summary_line", "service", "functionality"), "x"),
            **dict.fromkeys(("status", "state", "audience", "severity", "priority", "channel_name"), "x"),
            **dict.fromkeys(("summary", "team", "mitigation", "durable_reason"), None),
            "affects_end_users": False,
            "generated_at": START,
            "durations": Durations(
                declared_at=START,
                **dict.fromkeys(("acknowledged_at", "mitigated_at", "resolved_at", "closed_at"), None),
                **dict.fromkeys(
                    [f"time_to_{s}_seconds" for s in ("acknowledge", "mitigate", "resolve", "close")]
                ),
                updates_sent=0,
                updates_due=1,
                update_cadence_minutes=30,
            ),
            "timeline": service.threaded(timeline_rows),
            "hypotheses": [],
            "milestones": [],
            "action_items": [],
            "sections": service.sections_public(None),
        }
    )


def median_seconds(work: Callable[[], Any], runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def bench_render(count: int, runs: int) -> list[tuple[str, float]]:
    timeline_rows = rows(count)
    report = empty_report(timeline_rows)
    return [
        (
            "baseline: join",
            median_seconds(lambda: "\n".join(f"{r.occurred_at} {r.body}" for r in timeline_rows), runs),
        ),
        ("thread replies", median_seconds(lambda: service.threaded(timeline_rows), runs)),
        ("render Markdown", median_seconds(lambda: markdown.render(report, ZONE), runs)),
        ("render JSON", median_seconds(report.model_dump_json, runs)),
    ]


async def seed(database_url: str, count: int) -> str:
    """An incident with ``count`` timeline entries; returns a token that can read it."""
    engine = create_engine(database_url)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            _, token = await create_token(session, name="bench", scope=Scope.read)
            incident = Incident(
                number=1, title="Bench", service="bench", functionality="Benching", state="down",
                audience="all users", severity="SEV2", priority="P2", status="investigating",
                channel_name="inc-bench", declared_at=START, updated_at=START,
            )  # fmt: skip
            session.add(incident)
            await session.flush()
            assert incident.id is not None
            for row in rows(count):
                session.add(
                    TimelineEntry(incident_id=incident.id, created_at=row.occurred_at, **row._asdict())
                )
        return token
    finally:
        await engine.dispose()


async def bench_endpoint(database_url: str, token: str, runs: int) -> list[tuple[str, float]]:
    app = create_app(
        Settings(database=DatabaseSettings(url=database_url), log_level="WARNING", _env_file=None)
    )
    results = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay.bench") as client:
            for name, accept in (
                ("GET report (Markdown)", "text/markdown"),
                ("GET report (JSON)", "application/json"),
            ):
                headers = {"Authorization": f"Bearer {token}", "Accept": accept}
                timings = []
                for _ in range(runs):
                    started = time.perf_counter()
                    response = await client.get("/api/v1/incidents/INC-1/report", headers=headers)
                    timings.append(time.perf_counter() - started)
                    if response.status_code != 200:
                        raise SystemExit(f"{name}: {response.status_code} {response.text[:300]}")
                results.append((name, statistics.median(timings)))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=10_000, help="timeline entries (1 to 200000)")
    parser.add_argument("--runs", type=int, default=7, help="runs per measurement (1 to 100)")
    parser.add_argument("--database-url", help="a scratch database to migrate and fill (default: SQLite)")
    args = parser.parse_args()
    if not 1 <= args.entries <= 200_000 or not 1 <= args.runs <= 100:
        parser.error("--entries must be 1..200000 and --runs 1..100")

    results = bench_render(args.entries, args.runs)
    with tempfile.TemporaryDirectory(prefix="relay-bench-") as workdir:
        database_url = args.database_url or f"sqlite+aiosqlite:///{Path(workdir) / 'relay.db'}"
        migrations.upgrade(database_url)
        token = asyncio.run(seed(database_url, args.entries))
        results += asyncio.run(bench_endpoint(database_url, token, args.runs))

    baseline = results[0][1]
    print(f"{args.entries} timeline entries, median of {args.runs} runs; ratio is against the baseline")
    print(f"{'measurement':<24} {'ms':>9} {'ratio':>8}")
    for name, seconds in results:
        print(f"{name:<24} {seconds * 1000:>9.1f} {seconds / baseline:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
