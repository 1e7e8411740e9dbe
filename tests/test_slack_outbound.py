"""What Relay does in Slack, through real ARQ workers with Slack's HTTP API mocked by respx."""

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx
from arq.connections import ArqRedis
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.models import Scope
from app.config import Settings, SlackSettings
from app.incidents.models import Incident
from tests.conftest import SLACK_API, RelayApp, make_token, provider_settings
from tests.factories import declaration
from tests.slack_requests import SECRET
from tests.workers import drain

pytestmark = pytest.mark.usefixtures("clean_database")
SUMMARY_TS = "1700000000.000100"
Env = tuple[Settings, httpx.AsyncClient, dict[str, str]]


def ok(**extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"ok": True, **extra})


def body(call: Any) -> dict[str, Any]:
    content = call.request.content
    try:
        data: dict[str, Any] = json.loads(content)
    except ValueError:
        data = dict(httpx.QueryParams(content.decode()))
    return data


@pytest.fixture
def slack() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{SLACK_API}/conversations.create").mock(
            return_value=ok(channel={"id": "C0INC1", "name": "x"})
        )
        router.post(f"{SLACK_API}/chat.postMessage").mock(return_value=ok(channel="C0INC1", ts=SUMMARY_TS))
        router.post(f"{SLACK_API}/pins.add").mock(return_value=ok())
        router.post(f"{SLACK_API}/conversations.invite").mock(return_value=ok())
        router.post(f"{SLACK_API}/chat.update").mock(return_value=ok())
        yield router


@pytest.fixture
async def env(
    database_url: str,
    relay_app: RelayApp,
    sessionmaker: async_sessionmaker[AsyncSession],
    slack: respx.MockRouter,
    redis: ArqRedis,
) -> AsyncIterator[Env]:
    """Dana declares (her token is hers); the Core team (Lee, and Kim who has no Slack id) owns auth-api."""
    del slack, redis  # taken so that Slack is mocked, and Redis emptied, before the declaration's jobs
    slack_settings = SlackSettings(
        api_url=SLACK_API,
        bot_token=SecretStr("xoxb-test"),
        signing_secret=SecretStr(SECRET),
        video_bridge_url="https://meet.example.com/{channel}",
        notes_url="https://docs.example.com/{reference}",
    )
    settings = provider_settings(database_url, slack=slack_settings)
    admin = {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.admin)}"}
    async with relay_app(settings) as app:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client:
            ids = []
            for name, slack_id in [("Dana", "U0DANA"), ("Lee", "U0LEE"), ("Kim", None)]:
                person = {"name": name, "slack_user_id": slack_id}
                ids.append((await client.post("/api/v1/people", json=person, headers=admin)).json()["id"])
            team = {"name": "Core", "services": ["auth-api"], "members": ids[1:]}
            assert (await client.post("/api/v1/teams", json=team, headers=admin)).status_code == 201
            dana = {
                "Authorization": f"Bearer {await make_token(sessionmaker, Scope.write, person_id=ids[0])}"
            }
            response = await client.post(
                "/api/v1/incidents", json=declaration(service="auth-api"), headers=dana
            )
            assert response.status_code == 201
            yield settings, client, admin


async def incident(maker: async_sessionmaker[AsyncSession]) -> Incident:
    async with maker() as session:
        found = await session.get(Incident, 1)
    assert found is not None
    return found


async def test_a_declaration_invites_the_reporter_and_team_posts_links_and_keeps_the_summary_ts(
    env: Env, slack: respx.MockRouter, redis: ArqRedis, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    settings, client, admin = env
    await drain(settings, redis)
    invites = [body(c) for c in slack.calls if c.request.url.path.endswith("conversations.invite")]
    assert invites == [{"channel": "C0INC1", "users": "U0DANA,U0LEE", "force": True}]
    posts = [body(c) for c in slack.calls if c.request.url.path.endswith("chat.postMessage")]
    (links,) = [p for p in posts if "video bridge" in p["text"]]
    stored = await incident(sessionmaker)
    assert f"https://meet.example.com/{stored.channel_name}" in links["text"]
    assert "https://docs.example.com/INC-1" in links["text"]
    assert stored.slack_channel_id == "C0INC1"
    assert stored.slack_summary_ts == SUMMARY_TS
    assert stored.video_url == f"https://meet.example.com/{stored.channel_name}"
    (summary,) = [p for p in posts if "blocks" in p]
    buttons = [e["action_id"] for b in summary["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == [
        "incident.acknowledge",
        "incident.take_commander",
        "incident.mitigated",
        "incident.resolved",
    ]
    listed = (await client.get("/api/v1/incidents/INC-1/deliveries", headers=admin)).json()
    assert {d["status"] for d in listed} == {"done"}


def calls(slack: respx.MockRouter, method: str) -> list[dict[str, Any]]:
    return [body(c) for c in slack.calls if c.request.url.path.endswith(f"/{method}")]


def field_texts(update: dict[str, Any]) -> list[str]:
    return [f["text"] for b in update["blocks"] if b["type"] == "section" for f in b.get("fields", [])]


async def test_changes_to_status_severity_roles_and_title_rewrite_the_pinned_summary(
    env: Env, slack: respx.MockRouter, redis: ArqRedis
) -> None:
    settings, client, admin = env
    await drain(settings, redis)
    slack.reset()
    slack.post(f"{SLACK_API}/conversations.invite").mock(
        return_value=httpx.Response(200, json={"ok": False, "error": "already_in_channel"})
    )
    lee = next(p for p in (await client.get("/api/v1/people", headers=admin)).json() if p["name"] == "Lee")
    role = await client.post(
        "/api/v1/incidents/INC-1/roles", json={"role": "commander", "person_id": lee["id"]}, headers=admin
    )
    assert role.status_code == 201
    await drain(settings, redis)
    (update,) = calls(slack, "chat.update")
    assert (update["channel"], update["ts"]) == ("C0INC1", SUMMARY_TS)
    assert "*Commander*\nLee" in field_texts(update)
    assert calls(slack, "conversations.invite") == [{"channel": "C0INC1", "users": "U0LEE"}]

    version = (await client.get("/api/v1/incidents/INC-1", headers=admin)).json()["version"]
    edit = {"severity": "SEV3", "title": "Sign-in is slow", "version": version}
    assert (await client.patch("/api/v1/incidents/INC-1", json=edit, headers=admin)).status_code == 200
    move = {"status": "investigating"}
    assert (
        await client.post("/api/v1/incidents/INC-1/transitions", json=move, headers=admin)
    ).status_code == 200
    await drain(settings, redis)
    latest = calls(slack, "chat.update")[-1]
    assert len(calls(slack, "chat.update")) == 3
    assert {"*Severity*\nSEV3", "*Status*\ninvestigating"} <= set(field_texts(latest))
    assert any(b.get("text", {}).get("text") == "*Sign-in is slow*" for b in latest["blocks"])

    version = (await client.get("/api/v1/incidents/INC-1", headers=admin)).json()["version"]
    report = {"report_url": "https://docs.example.com/report", "version": version}
    assert (await client.patch("/api/v1/incidents/INC-1", json=report, headers=admin)).status_code == 200
    await drain(settings, redis)
    assert len(calls(slack, "chat.update")) == 3, "a field the summary does not show leaves it alone"
    listed = (await client.get("/api/v1/incidents/INC-1/deliveries", headers=admin)).json()
    updates = [d["idempotency_key"] for d in listed if d["action"] == "slack.update_summary"]
    assert len(set(updates)) == 3
    assert all(":slack:summary:v" in key for key in updates)
    assert {d["status"] for d in listed} == {"done"}, "already_in_channel counts as success"


def history_page(*messages: dict[str, Any], cursor: str = "") -> httpx.Response:
    return ok(messages=list(messages), has_more=bool(cursor), response_metadata={"next_cursor": cursor})


def message(ts: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "message", "user": extra.pop("user", "U0LEE"), "text": text, "ts": ts, **extra}


async def wait_for_import(
    client: httpx.AsyncClient, location: str, headers: dict[str, str], settings: Settings, redis: ArqRedis
) -> dict[str, Any]:
    for _ in range(20):
        await drain(settings, redis)
        report: dict[str, Any] = (await client.get(location, headers=headers)).json()
        if report["status"] != "running":
            return report
        await asyncio.sleep(0.1)
    raise AssertionError(f"the import did not finish: {report}")


async def test_the_timeline_import_pages_through_history_and_threads_once(
    env: Env, slack: respx.MockRouter, redis: ArqRedis
) -> None:
    settings, client, admin = env
    await drain(settings, redis)
    parent = message("1700000100.000100", "Is it the IdP?", reply_count=2, thread_ts="1700000100.000100")
    slack.post(f"{SLACK_API}/auth.test").mock(return_value=ok(user_id="U0RELAYBOT", bot_id="B0RELAY"))
    history = slack.post(f"{SLACK_API}/conversations.history")
    pages = [
        httpx.Response(429, headers={"Retry-After": "0"}, json={"ok": False, "error": "ratelimited"}),
        history_page(
            message("1700000200.000100", "Summary", user="U0RELAYBOT", bot_id="B0RELAY"),
            parent,
            message("1700000050.000100", "Checking dashboards"),
            cursor="page-2",
        ),
        history_page(message("1700000010.000100", "Login is failing", user="U0DANA")),
    ]
    history.side_effect = pages + pages[1:]
    replies = slack.post(f"{SLACK_API}/conversations.replies")
    thread = [
        ok(
            messages=[parent, message("1700000110.000100", "No, IdP is fine", thread_ts=parent["ts"])],
            response_metadata={"next_cursor": "t-2"},
        ),
        ok(
            messages=[parent, message("1700000120.000100", "Bad deploy then", thread_ts=parent["ts"])],
            response_metadata={"next_cursor": ""},
        ),
    ]
    replies.side_effect = thread + thread

    started = await client.post("/api/v1/incidents/INC-1/timeline/import", headers=admin)
    assert started.status_code == 202, started.text
    report = await wait_for_import(client, started.headers["location"], admin, settings, redis)
    assert report == {
        "import_id": started.json()["import_id"],
        "status": "done",
        "channel": "C0INC1",
        "pages": 4,
        "threads": 1,
        "messages_imported": 3,
        "replies_imported": 2,
        "already_present": 0,
        "skipped": 1,
        "errors": [],
    }
    assert [dict(httpx.QueryParams(c.request.content.decode())).get("cursor") for c in history.calls] == [
        None,
        None,
        "page-2",
    ]
    timeline = (await client.get("/api/v1/incidents/INC-1/timeline", headers=admin)).json()["items"]
    imported = {e["body"]: e for e in timeline if e["kind"] == "message"}
    assert list(imported) == [
        "Login is failing",
        "Checking dashboards",
        "Is it the IdP?",
        "No, IdP is fine",
        "Bad deploy then",
    ]
    assert imported["Bad deploy then"]["parent_id"] == imported["Is it the IdP?"]["id"]
    assert imported["No, IdP is fine"]["parent_id"] == imported["Is it the IdP?"]["id"]

    again = await client.post("/api/v1/incidents/INC-1/timeline/import", headers=admin)
    second = await wait_for_import(client, again.headers["location"], admin, settings, redis)
    assert (second["messages_imported"], second["replies_imported"], second["already_present"]) == (0, 0, 5)
    timeline = (await client.get("/api/v1/incidents/INC-1/timeline", headers=admin)).json()["items"]
    assert len([e for e in timeline if e["kind"] == "message"]) == 5


async def test_an_import_needs_a_channel(env: Env) -> None:
    _, client, admin = env
    response = await client.post("/api/v1/incidents/INC-1/timeline/import", headers=admin)
    assert response.status_code == 409
    assert "no Slack channel yet" in response.json()["detail"]
    missing = await client.get("/api/v1/incidents/INC-1/timeline/import/nope", headers=admin)
    assert missing.status_code == 404
