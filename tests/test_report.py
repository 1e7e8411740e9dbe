"""The incident report: every section, generated from a recorded incident, as Markdown and as JSON."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import FrozenClock
from app.db.session import unit_of_work
from app.incidents import service as incident_service
from app.incidents.models import TimelineKind
from app.reports.markdown import duration
from app.reports.router import wants_json
from app.reports.service import threaded
from tests.test_incidents_api import PROBLEM, Headers, declare
from tests.test_roles_and_records import person
from tests.timekeeping import frozen_at

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BASE = "/api/v1/incidents/INC-1"


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    with frozen_at(START) as frozen:
        yield frozen


def at(frozen: FrozenClock, minutes: float) -> None:
    """Move the clock to ``minutes`` after the declaration."""
    frozen.advance(START + timedelta(minutes=minutes) - frozen.now())


async def slack_message(
    maker: async_sessionmaker[AsyncSession], body: str, author: str, ts: str, parent_id: int | None = None
) -> int:
    """A Slack message imported into the timeline, as the Slack integration stores one."""
    async with unit_of_work(maker) as session:
        incident = await incident_service.get_or_404(session, "INC-1")
        entry = await incident_service.add_entry(
            session,
            incident,
            TimelineKind.message,
            body,
            source="slack",
            author_name=author,
            external_id=ts,
            parent_id=parent_id,
        )
    assert entry.id is not None
    return entry.id


async def post(client: httpx.AsyncClient, headers: Headers, path: str, body: dict[str, Any]) -> Any:
    response = await client.post(f"{BASE}{path}", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def patch(client: httpx.AsyncClient, headers: Headers, path: str, body: dict[str, Any]) -> Any:
    response = await client.patch(f"{BASE}{path}", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def record_incident(
    client: httpx.AsyncClient, writer: Headers, maker: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    """A SEV1 from declaration to close, with every kind of record the report draws on."""
    bob = await person(client, writer, "Bob")
    await declare(
        client,
        writer,
        title="Customers cannot log in",
        functionality="Logging in",
        severity="SEV1",
        affects_end_users=True,
        summary="Login returns 500 for everyone.",
    )
    at(frozen, 4)
    await post(client, writer, "/transitions", {"status": "investigating"})
    at(frozen, 5)
    parent = await slack_message(maker, "Login errors since 08:58", "Ada", "1772442300.000100")
    at(frozen, 5.5)
    await post(client, writer, "/timeline", {"body": "Error rate at 100%"})
    at(frozen, 6)
    await slack_message(maker, "Matches the IdP status page", "Bob", "1772442360.000200", parent_id=parent)
    at(frozen, 8)
    await post(client, writer, "/timeline", {"body": "Investigating: logins fail", "kind": "communication"})
    at(frozen, 10)
    idp = await post(
        client,
        writer,
        "/hypotheses",
        {"statement": "The IdP rate limits us", "test_plan": "Count 429s", "proposed_fix": "Back off"},
    )
    ruled_out = await post(client, writer, "/hypotheses", {"statement": "A bad deploy"})
    await patch(client, writer, f"/hypotheses/{ruled_out['id']}", {"conclusion": "ruled_out"})
    at(frozen, 12)
    await post(client, writer, "/milestones", {"label": "Possibly identified: IdP rate limit"})
    at(frozen, 15)
    await patch(client, writer, f"/hypotheses/{idp['id']}", {"fix_started_at": frozen.now().isoformat()})
    at(frozen, 20)
    await patch(
        client, writer, f"/hypotheses/{idp['id']}", {"conclusion": "confirmed", "conclusion_notes": "429s"}
    )
    at(frozen, 25)
    await post(client, writer, "/transitions", {"status": "mitigated", "mitigation": "Raised the backoff"})
    at(frozen, 35)
    await post(client, writer, "/timeline", {"body": "Mitigated: logins work", "kind": "communication"})
    test = await post(
        client, writer, "/action-items", {"title": "Regression test | backoff", "owner_id": bob}
    )
    cache = await post(client, writer, "/action-items", {"title": "Disable the session cache for good"})
    await post(client, writer, "/action-items", {"title": "Restart pods by hand", "durable": False})
    for item in (test, cache):
        await patch(client, writer, f"/action-items/{item['id']}", {"status": "done"})
    at(frozen, 120)
    await post(client, writer, "/transitions", {"status": "resolved"})
    await patch(
        client,
        writer,
        "/report",
        {
            "contributing_factors": "The client retried without backoff.",
            "went_well": "Support saw the pattern in minutes.",
            "went_badly": "Nobody owned the IdP dashboard.",
            "lessons": "Alert on 429s from the IdP.",
            "version": 0,
        },
    )
    version = (await client.get(BASE, headers=writer)).json()["version"]
    await patch(client, writer, "", {"report_completed": True, "version": version})
    at(frozen, 180)
    await post(client, writer, "/transitions", {"status": "closed", "customer_confirmed": True})


HEADINGS = [
    "## Summary",
    "## Impact and audience",
    "## Severity",
    "## Durations",
    "## Timeline",
    "## Hypotheses",
    "## Milestones",
    "## Contributing factors",
    "## What went well",
    "## What went badly",
    "## Lessons",
    "## Action items",
]


async def test_the_report_of_a_recorded_incident_has_every_section_with_the_right_durations(
    client: httpx.AsyncClient,
    writer: Headers,
    reader: Headers,
    sessionmaker: async_sessionmaker[AsyncSession],
    frozen: FrozenClock,
) -> None:
    await record_incident(client, writer, sessionmaker, frozen)

    response = await client.get(f"{BASE}/report", headers=reader)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert response.headers["etag"] == '"1"'
    text = response.text
    lines = text.splitlines()
    assert lines[0] == "# INC-1: Customers cannot log in"
    positions = [lines.index(heading) for heading in HEADINGS]
    assert positions == sorted(positions), "sections appear in the agreed order"

    assert "**[inc-26-03-02-SEV-1] Logging in is down for all users**" in lines
    assert "Login returns 500 for everyone." in lines
    assert "- End users affected: yes" in lines
    assert "SEV1, priority P1." in lines
    assert "| Acknowledged | 2026-03-02 09:04:00 UTC | 4m |" in lines
    assert "| Mitigated | 2026-03-02 09:25:00 UTC | 25m |" in lines
    assert "| Resolved | 2026-03-02 11:00:00 UTC | 2h 0m |" in lines
    assert "| Closed | 2026-03-02 12:00:00 UTC | 3h 0m |" in lines
    assert (
        "Internal updates: 2 sent, 5 due (one when declared, then one every 30 minutes until resolved)."
        in lines
    )

    timeline = lines[lines.index("## Timeline") + 2 : lines.index("## Hypotheses") - 1]
    parent = timeline.index("- **2026-03-02 09:05:00 UTC** · Slack message · Ada: Login errors since 08:58")
    assert timeline[parent + 1] == (
        "  - **2026-03-02 09:06:00 UTC** · Slack message · Bob: Matches the IdP status page"
    ), "a threaded reply sits under its parent, before later entries"
    assert timeline[parent + 2] == "- **2026-03-02 09:05:30 UTC** · Note · test-write: Error rate at 100%"
    assert timeline[0].endswith("Declared: [inc-26-03-02-SEV-1] Logging in is down for all users")
    assert "- **2026-03-02 09:08:00 UTC** · Update sent · test-write: Investigating: logins fail" in timeline
    mitigated = "- **2026-03-02 09:25:00 UTC** · Lifecycle · test-write: Status: investigating → mitigated"
    assert mitigated in timeline
    assert timeline[-1].endswith("· Lifecycle · test-write: Status: resolved → closed")

    assert "- **Confirmed:** The IdP rate limits us" in lines
    assert "  - Proposed fix: Back off (started 2026-03-02 09:15:00 UTC)" in lines
    assert "  - Concluded 2026-03-02 09:20:00 UTC: 429s" in lines
    assert "- **Ruled out:** A bad deploy" in lines
    assert "- **2026-03-02 09:12:00 UTC** Possibly identified: IdP rate limit" in lines
    assert lines[lines.index("## Contributing factors") + 2] == "The client retried without backoff."
    assert lines[lines.index("## What went well") + 2] == "Support saw the pattern in minutes."
    assert lines[lines.index("## What went badly") + 2] == "Nobody owned the IdP dashboard."
    assert lines[lines.index("## Lessons") + 2] == "Alert on 429s from the IdP."
    assert "| Regression test \\| backoff | Bob | — | done | durable |" in lines
    assert (
        "| Disable the session cache for good | — | — | done | durable: flagged, a disabled cache is a "
        "workaround, not a fix |" in lines
    )
    assert "| Restart pods by hand | — | — | open | follow-up (not durable) |" in lines


async def test_the_report_as_json_carries_the_same_record(
    client: httpx.AsyncClient,
    writer: Headers,
    sessionmaker: async_sessionmaker[AsyncSession],
    frozen: FrozenClock,
) -> None:
    await record_incident(client, writer, sessionmaker, frozen)

    response = await client.get(f"{BASE}/report", headers={**writer, "Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    report = response.json()
    assert report["reference"] == "INC-1"
    assert report["severity"] == "SEV1"
    assert report["audience"] == "all users"
    durations = report["durations"]
    assert [
        durations[f"time_to_{stage}_seconds"] for stage in ("acknowledge", "mitigate", "resolve", "close")
    ] == [
        240,
        1500,
        7200,
        10800,
    ]
    assert (durations["updates_sent"], durations["updates_due"], durations["update_cadence_minutes"]) == (
        2,
        5,
        30,
    )

    entries = report["timeline"]
    bodies = [e["body"] for e in entries]
    parent = bodies.index("Login errors since 08:58")
    reply = entries[parent + 1]
    assert (reply["body"], reply["depth"], reply["parent_id"]) == (
        "Matches the IdP status page",
        1,
        entries[parent]["id"],
    )
    assert entries[parent]["source"] == "slack"
    assert {e["kind"] for e in entries} >= {"status_change", "message", "note", "communication", "milestone"}

    assert [(h["statement"], h["conclusion"]) for h in report["hypotheses"]] == [
        ("The IdP rate limits us", "confirmed"),
        ("A bad deploy", "ruled_out"),
    ]
    assert [m["label"] for m in report["milestones"]] == ["Possibly identified: IdP rate limit"]
    items = {i["title"]: i for i in report["action_items"]}
    assert items["Regression test | backoff"]["owner_name"] == "Bob"
    assert items["Disable the session cache for good"]["durability_warnings"] == [
        "a disabled cache is a workaround, not a fix"
    ]
    assert items["Restart pods by hand"]["durable"] is False
    assert report["sections"]["lessons"] == "Alert on 429s from the IdP."
    assert report["sections"]["version"] == 1


async def test_a_new_incident_report_says_what_is_not_known_yet(
    client: httpx.AsyncClient, writer: Headers
) -> None:
    await declare(client, writer)
    text = (await client.get(f"{BASE}/report", headers=writer)).text
    assert "| Mitigated | not yet | not yet |" in text
    assert "_Not written yet (`contributing_factors` in `PATCH /api/v1/incidents/INC-1/report`)._" in text
    assert "Internal updates: 0 sent, 1 due" in text

    missing = await client.get("/api/v1/incidents/INC-9/report", headers=writer)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM


async def test_report_sections_are_edited_with_the_version_read(
    client: httpx.AsyncClient, writer: Headers, reader: Headers
) -> None:
    await declare(client, writer)
    url = f"{BASE}/report"
    etag = (await client.get(url, headers=writer)).headers["etag"]
    assert etag == '"0"'

    unguarded = await client.patch(url, json={"lessons": "x"}, headers=writer)
    assert unguarded.status_code == 428
    assert unguarded.json()["errors"][0]["field"] == "header.If-Match"
    assert (
        await client.patch(url, json={"lessons": "x"}, headers={**reader, "If-Match": etag})
    ).status_code == 403

    first = await client.patch(url, json={"went_well": "Fast paging"}, headers={**writer, "If-Match": etag})
    assert first.status_code == 200
    assert first.headers["etag"] == '"1"'
    assert first.json()["went_well"] == "Fast paging"
    assert first.json()["updated_by"] == "test-write"

    stale = await client.patch(url, json={"went_well": "Lost update"}, headers={**writer, "If-Match": etag})
    assert stale.status_code == 412
    second = await client.patch(
        url, json={"went_badly": "Slow rollback", "went_well": None}, headers={**writer, "If-Match": '"1"'}
    )
    assert second.json()["version"] == 2
    assert second.json()["went_well"] is None
    assert second.json()["went_badly"] == "Slow rollback"

    unknown = await client.patch(url, json={"blame": "Bob", "version": 2}, headers=writer)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "blame"
    empty = await client.patch(url, json={"lessons": " ", "version": 2}, headers=writer)
    assert empty.json()["errors"][0]["field"] == "lessons"


@pytest.mark.parametrize(
    ("accept", "json_wanted"),
    [
        (None, False),
        ("*/*", False),
        ("application/json", True),
        ("text/markdown, application/json;q=0.5", False),
        ("text/markdown;q=0.2, application/json", True),
        ("text/html,application/xhtml+xml,*/*;q=0.8", False),
    ],
)
def test_markdown_is_the_default_and_json_is_chosen_by_accept(accept: str | None, json_wanted: bool) -> None:
    assert wants_json(accept) is json_wanted


def test_threading_keeps_replies_under_parents_and_drops_deleted_entries() -> None:
    def row(entry_id: int, parent_id: int | None, minute: int, deleted: bool = False) -> Any:
        at = START + timedelta(minutes=minute)
        return (entry_id, parent_id, "note", "api", f"e{entry_id}", None, at, None, at if deleted else None)

    rows = [
        row(1, None, 0),
        row(2, None, 1, deleted=True),
        row(3, 1, 2),
        row(4, 2, 3),  # its parent was deleted: kept, at the top level
        row(5, 3, 4),
        row(6, None, 5),
        row(7, 1, 6),
    ]
    entries = threaded(rows)
    assert [(e.id, e.depth) for e in entries] == [(1, 0), (3, 1), (5, 2), (7, 1), (4, 0), (6, 0)]


@pytest.mark.parametrize(
    ("seconds", "spoken"),
    [(None, "not yet"), (45, "45s"), (300, "5m"), (330, "5m 30s"), (7200, "2h 0m"), (97_260, "1d 3h 1m")],
)
def test_durations_read_the_way_people_say_them(seconds: float | None, spoken: str) -> None:
    assert duration(seconds) == spoken
