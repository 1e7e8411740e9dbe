"""End to end: `relay serve` and `relay worker` against a local fake of Slack's Web API."""

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.models import Scope
from tests.conftest import REDIS_URL, make_token
from tests.fake_providers import FakeSlack, fake_slack
from tests.processes import relay_env, serving
from tests.slack_requests import SECRET, command_body, message_event, signed
from tests.test_worker_failures import worker_process

pytestmark = pytest.mark.usefixtures("clean_database")


async def until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout}s for {what}")
        await asyncio.sleep(0.1)


def posts(slack: FakeSlack) -> list[tuple[int, dict[str, Any]]]:
    """chat.postMessage calls with their position among every call the fake received."""
    with slack.lock:
        return [(i, body) for i, (name, body) in enumerate(slack.received) if name == "chat.postMessage"]


def position(slack: FakeSlack, method: str, nth: int = 0) -> int:
    return [i for i, name in enumerate(slack.methods()) if name == method][nth]


async def slash(
    client: httpx.AsyncClient, text: str, channel: str = "C0SUPPORT", user: str = "U0DANA"
) -> str:
    raw = command_body(text, channel=channel, user=user, name=user.lower())
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed(raw)}
    response = await client.post("/webhooks/slack/commands", content=raw, headers=headers)
    assert response.status_code == 200, response.text
    reply: str = response.json()["text"]
    return reply


@pytest.mark.usefixtures("redis")
async def test_relay_and_its_worker_run_an_incident_channel_in_slack(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    admin = {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.admin)}"}
    with fake_slack() as slack:
        slack.profiles["U0DANA"] = {"real_name": "Dana Scully"}
        env = relay_env(
            database_url,
            RELAY_REDIS_URL=REDIS_URL,
            RELAY_SLACK_API_URL=slack.url,
            RELAY_SLACK_BOT_TOKEN="xoxb-e2e",
            RELAY_SLACK_SIGNING_SECRET=SECRET,
            RELAY_SLACK_VIDEO_BRIDGE_URL="https://meet.example.com/{channel}",
            RELAY_DELIVERY_SWEEP_INTERVAL_SECONDS="1",
        )
        with serving(env) as url, worker_process(env, tmp_path / "worker.log"):
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                lee = await client.post(
                    "/api/v1/people", json={"name": "Lee", "slack_user_id": "U0LEE"}, headers=admin
                )
                team = {"name": "Identity", "services": ["login-api"], "members": [lee.json()["id"]]}
                assert (await client.post("/api/v1/teams", json=team, headers=admin)).status_code == 201

                declared = await slash(client, "declare sev2 login-api: Login API is down for all users")
                assert declared.startswith("Declared *INC-1*")
                await until(
                    lambda: len(slack.calls("pins.add")) == 1 and len(posts(slack)) == 3, "the channel"
                )

                await slash(client, "role commander <@U0LEE|lee>", channel="C0FAKE")
                await slash(client, "update Rolled back the 14:02 deploy; errors falling", channel="C0FAKE")
                await slash(client, "mitigated Rolled back the 14:02 deploy", channel="C0FAKE")
                await until(
                    lambda: len(slack.calls("chat.update")) == 2 and len(posts(slack)) == 5, "the updates"
                )

                event = message_event(
                    "Error rate is back to normal", ts="1763631299.000200", channel="C0FAKE"
                )
                raw = json.dumps(event).encode()
                sent = await client.post(
                    "/webhooks/slack/events",
                    content=raw,
                    headers={"Content-Type": "application/json", **signed(raw)},
                )
                assert sent.status_code == 200

                async def timeline() -> list[dict[str, Any]]:
                    page = await client.get("/api/v1/incidents/INC-1/timeline", headers=admin)
                    return [e for e in page.json()["items"] if e["kind"] == "message"]

                deadline = time.monotonic() + 30
                while not await timeline():
                    assert time.monotonic() < deadline, "the worker never applied the event"
                    await asyncio.sleep(0.1)
                (entry,) = await timeline()
                incident = (await client.get("/api/v1/incidents/INC-1", headers=admin)).json()
                people = (await client.get("/api/v1/people", headers=admin)).json()

    assert (entry["body"], entry["source"], entry["author_name"]) == (
        "Error rate is back to normal",
        "slack",
        "Dana Scully",
    )
    (create,) = slack.calls("conversations.create")
    assert create["name"] == incident["channel_name"]
    assert incident["channel_name"].endswith("-login-api-down-all-users")
    assert incident["slack_channel_id"] == "C0FAKE"
    assert incident["status"] == "mitigated"

    invites = slack.calls("conversations.invite")
    assert [i["users"] for i in invites] == ["U0DANA,U0LEE", "U0LEE"], "reporter and team, then the commander"
    (summary_at, summary), *_ = [(i, p) for i, p in posts(slack) if "blocks" in p]
    (pin,) = slack.calls("pins.add")
    assert summary["channel"] == "C0FAKE"
    assert pin == {"channel": "C0FAKE", "timestamp": f"1700000000.{summary_at + 1:06d}"}
    ((announce_at, announce),) = [
        (i, p) for i, p in posts(slack) if p["channel"] == "new-incidents" and "declared" in p["text"]
    ]
    assert "<#C0FAKE>" in announce["text"]
    links = next(p for _, p in posts(slack) if "video bridge" in p["text"])
    assert f"https://meet.example.com/{incident['channel_name']}" in links["text"]
    first_update, second_update = slack.calls("chat.update")
    assert all(u["ts"] == pin["timestamp"] for u in (first_update, second_update))
    assert "*Commander*\nLee" in json.dumps(first_update["blocks"]).replace("\\n", "\n")
    assert "*Status*\nmitigated" in json.dumps(second_update["blocks"]).replace("\\n", "\n")
    updates = [p for _, p in posts(slack) if p["text"].startswith("*Status update on INC-1*")]
    assert sorted(u["channel"] for u in updates) == ["C0FAKE", "new-incidents"]

    in_channel = [m for m in slack.methods() if m != "users.info"]
    assert in_channel[0] == "conversations.create", "nothing goes to the channel before it exists"
    assert (
        position(slack, "conversations.create")
        < position(slack, "conversations.invite")
        < position(slack, "conversations.invite", 1)
    )
    assert summary_at < position(slack, "pins.add") < position(slack, "chat.update", 1)
    assert position(slack, "conversations.create") < announce_at
    assert position(slack, "chat.update") < position(slack, "chat.update", 1)
    assert any(p["name"] == "Dana Scully" for p in people), "users.info named the person met in Slack"
