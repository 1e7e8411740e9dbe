"""The /incident command round trip, the declare form, and the buttons on the pinned summary."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.deliveries.models import Delivery
from tests.conftest import SLACK_API, RelayApp
from tests.factories import declaration
from tests.slack_requests import command, interact, slack_relay, slack_settings
from tests.test_incidents_api import Headers

pytestmark = pytest.mark.usefixtures("clean_database")
CHANNEL = "C0INC1"


@pytest.fixture
async def env(database_url: str, relay_app: RelayApp) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with slack_relay(relay_app, slack_settings(database_url)) as pair:
        yield pair


@pytest.fixture
def client(env: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return env[1]


async def reply(client: httpx.AsyncClient, text: str, **kwargs: Any) -> str:
    response = await command(client, text, **kwargs)
    assert response.status_code == 200, response.text
    assert response.json()["response_type"] == "ephemeral"
    answer: str = response.json()["text"]
    return answer


async def adopt(client: httpx.AsyncClient, admin: Headers, reference: str = "INC-1") -> None:
    version = (await client.get(f"/api/v1/incidents/{reference}", headers=admin)).json()["version"]
    response = await client.patch(
        f"/api/v1/incidents/{reference}",
        json={"slack_channel_id": CHANNEL, "version": version},
        headers=admin,
    )
    assert response.status_code == 200, response.text


async def deliveries(maker: async_sessionmaker[AsyncSession], action: str) -> list[Delivery]:
    async with maker() as session:
        rows = await session.scalars(
            select(Delivery).where(col(Delivery.action) == action).order_by(col(Delivery.id))
        )
        return list(rows.all())


async def test_declare_on_one_line_and_a_duplicate_is_explained(
    client: httpx.AsyncClient, reader: Headers
) -> None:
    text = await reply(client, "declare sev2 auth-api: Login API is degraded for EU customers")
    assert text.startswith("Declared *INC-1*")
    assert "-SEV-2] Login API is degraded for EU customers (P1)" in text
    incident = (await client.get("/api/v1/incidents/INC-1", headers=reader)).json()
    assert (incident["service"], incident["state"], incident["affects_end_users"]) == (
        "auth-api",
        "degraded",
        True,
    )

    again = await reply(client, "declare sev1 auth-api: login api is down for everyone")
    assert "INC-1" in again
    assert "--force" in again
    assert (await client.get("/api/v1/incidents/INC-2", headers=reader)).status_code == 404
    forced = await reply(client, "declare --force sev1 auth-api: login api is down for everyone")
    assert forced.startswith("Declared *INC-2*")

    assert "one line" in await reply(client, "declare sev9 everything is on fire")


async def test_commands_in_an_incident_channel_act_on_it(
    client: httpx.AsyncClient, writer: Headers, admin: Headers, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    assert (await client.post("/api/v1/incidents", json=declaration(), headers=writer)).status_code == 201
    assert "not an incident's channel" in await reply(client, "note Looking at dashboards")
    assert await reply(client, "note INC-1 Looking at dashboards") == "Noted on INC-1's timeline."
    await adopt(client, admin)

    def here(text: str) -> Any:
        return reply(client, text, channel=CHANNEL)

    assert await here("role commander <@U0LEE|lee>") == "<@U0LEE> is now commander of INC-1."
    assert "Slack sent the name @lee" in await here("role commander @lee")
    assert "is not a role" in await here("role pilot <@U0LEE|lee>")
    status = await here("status")
    assert "*declared*" in status
    assert "commander: lee" in status
    assert await here("status investigating") == "INC-1 is now *investigating*."
    assert await here("hypothesis The IdP rate limits us") == "Hypothesis recorded on INC-1."
    assert (await here("update Rolled back; error rate falling")).startswith("Update posted for INC-1")
    assert (await here("update investigating Checking the IdP")).startswith("Update posted for INC-1")
    assert await here("mitigated Rolled back the 14:02 deploy") == "INC-1 is now *mitigated*."
    refused = await here("resolve")
    assert "cannot move from mitigated to resolved" in refused
    assert "durable" in refused
    assert await here("resolve The rollback is the fix") == "INC-1 is now *resolved*."
    assert "incident report" in await here("close")

    incident = (await client.get("/api/v1/incidents/INC-1", headers=writer)).json()
    assert incident["status"] == "resolved"
    assert incident["mitigation"] == "Rolled back the 14:02 deploy"
    roles = (await client.get("/api/v1/incidents/INC-1/roles", headers=writer)).json()
    assert [(r["role"], r["person_name"]) for r in roles] == [("commander", "lee")]
    hypotheses = (await client.get("/api/v1/incidents/INC-1/hypotheses", headers=writer)).json()
    assert [h["statement"] for h in hypotheses] == ["The IdP rate limits us"]
    timeline = (await client.get("/api/v1/incidents/INC-1/timeline", headers=writer)).json()["items"]
    update, templated = [e for e in timeline if e["kind"] == "communication"]
    assert (update["body"], update["source"], update["author_name"]) == (
        "Rolled back; error rate falling",
        "slack",
        "dana",
    )
    # A template name first renders that template, with the rest as its note.
    assert templated["body"].startswith("INVESTIGATING: ")
    assert "\nChecking the IdP\n" in templated["body"]
    assert templated["source"] == "slack"

    posts = [
        d.payload
        for d in await deliveries(sessionmaker, "slack.post_message")
        if ":update:" in d.idempotency_key
    ]
    assert sorted(p["channel"] for p in posts) == [CHANNEL, CHANNEL, "new-incidents", "new-incidents"]
    assert sum("Rolled back; error rate falling" in p["text"] for p in posts) == 2
    receipts = (await client.get("/api/v1/webhooks/receipts?provider=slack", headers=admin)).json()
    assert {r["event_type"]: r["status"] for r in receipts}["command.close"] == "failed"
    assert {r["status"] for r in receipts} == {"applied", "failed"}


async def test_help_and_unknown_commands(client: httpx.AsyncClient) -> None:
    assert (await reply(client, "help")).startswith("*/incident*")
    assert (await reply(client, "")).startswith("*/incident*")
    unknown = await reply(client, "dance")
    assert unknown.startswith("I don't know `dance`")
    assert "role <role> @user" in unknown


async def test_declare_opens_the_form_with_the_owned_services(
    database_url: str, relay_app: RelayApp, writer: Headers
) -> None:
    settings = slack_settings(database_url, api_url=SLACK_API, bot_token=SecretStr("xoxb-test"))
    with respx.mock(assert_all_called=False) as router:
        views = router.post(f"{SLACK_API}/views.open")
        views.side_effect = [
            httpx.Response(200, json={"ok": True, "view": {"id": "V1"}}),
            httpx.Response(200, json={"ok": False, "error": "expired_trigger_id"}),
            httpx.ReadTimeout("slow"),
        ]
        async with slack_relay(relay_app, settings) as (_, client):
            team = {"name": "Core", "services": ["auth-api", "sessions"]}
            assert (await client.post("/api/v1/teams", json=team, headers=writer)).status_code == 201
            opened = await command(client, "declare")
            expired = await reply(client, "declare")
            slow = await reply(client, "declare")
    assert opened.status_code == 200
    assert opened.content == b""
    sent = views.calls[0].request
    assert sent.headers["authorization"] == "Bearer xoxb-test"
    body = httpx.Response(200, content=sent.content).json()
    assert body["trigger_id"] == "13345224609.738474920.8088930838d88f008e0"
    view = body["view"]
    assert view["callback_id"] == "relay.declare"
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert set(blocks) >= {"service", "functionality", "state", "audience", "severity", "affects_end_users"}
    assert [o["value"] for o in blocks["service"]["element"]["options"]] == ["auth-api", "sessions"]
    assert "expired_trigger_id" in expired
    assert "one line" in expired
    assert "timed out" in slow


def submission(**answers: Any) -> dict[str, Any]:
    def plain(value: str) -> dict[str, Any]:
        return {"value": {"type": "plain_text_input", "value": value}}

    def picked(value: str, kind: str = "static_select") -> dict[str, Any]:
        return {"value": {"type": kind, "selected_option": {"value": value}}}

    values = {
        "service": plain(answers.get("service", "auth-api")),
        "functionality": plain(answers.get("functionality", "Logging in")),
        "state": picked(answers.get("state", "down")),
        "audience": plain(answers.get("audience", "all users")),
        "severity": picked(answers.get("severity", "SEV1")),
        "affects_end_users": picked(answers.get("affects", "yes"), "radio_buttons"),
        "summary": plain(answers.get("summary", "Login returns 500")),
        "force": {"value": {"type": "checkboxes", "selected_options": answers.get("force", [])}},
    }
    return {
        "type": "view_submission",
        "user": {"id": "U0DANA", "username": "dana"},
        "view": {
            "callback_id": "relay.declare",
            "private_metadata": '{"channel_id": "C0SUPPORT"}',
            "state": {"values": values},
        },
    }


async def test_the_declare_form_declares_and_puts_problems_next_to_their_field(
    env: tuple[FastAPI, httpx.AsyncClient], reader: Headers, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    app, client = env
    done = await interact(client, submission())
    assert (done.status_code, done.content) == (200, b"")
    await app.state.dispatcher.drain()
    incident = (await client.get("/api/v1/incidents/INC-1", headers=reader)).json()
    assert (incident["title"], incident["priority"], incident["summary"]) == (
        "Logging in is down for all users",
        "P1",
        "Login returns 500",
    )
    (confirm,) = await deliveries(sessionmaker, "slack.post_ephemeral")
    assert (confirm.payload["channel"], confirm.payload["user"]) == ("C0SUPPORT", "U0DANA")
    assert confirm.status == "sandboxed"
    assert confirm.request is not None
    sent = confirm.request[0]["body"]["text"]
    assert sent.startswith("Declared *INC-1*")
    assert sent.endswith("Join <#CSANDBOX>."), (
        "the link to the channel comes from the delivery that created it"
    )

    duplicate = (await interact(client, submission(functionality="logging in"))).json()
    assert duplicate["response_action"] == "errors"
    assert "INC-1" in duplicate["errors"]["functionality"]
    forced = await interact(client, submission(functionality="logging in", force=[{"value": "force"}]))
    assert forced.content == b""

    invalid = (await interact(client, submission(audience="x" * 101, severity="SEV9"))).json()
    assert invalid["response_action"] == "errors"
    assert set(invalid["errors"]) == {"audience", "severity"}


def press(action_id: str, user: str = "U0LEE", action_ts: str = "1763631500.1") -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower()},
        "channel": {"id": CHANNEL},
        "actions": [{"action_id": action_id, "value": "INC-1", "action_ts": action_ts}],
    }


async def test_the_summary_buttons_act_and_refusals_are_explained_privately(
    client: httpx.AsyncClient, writer: Headers, admin: Headers, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    assert (await client.post("/api/v1/incidents", json=declaration(), headers=writer)).status_code == 201
    await adopt(client, admin)
    for action, ts in [
        ("incident.take_commander", "1"),
        ("incident.acknowledge", "2"),
        ("incident.acknowledge", "3"),
        ("incident.resolved", "4"),
        ("incident.mitigated", "5"),
    ]:
        assert (await interact(client, press(action, action_ts=ts))).status_code == 200
    incident = (await client.get("/api/v1/incidents/INC-1", headers=writer)).json()
    assert incident["status"] == "mitigated"
    roles = (await client.get("/api/v1/incidents/INC-1/roles", headers=writer)).json()
    assert [(r["role"], r["person_name"]) for r in roles] == [("commander", "u0lee")]
    refusals = [d.payload for d in await deliveries(sessionmaker, "slack.post_ephemeral")]
    assert [(p["user"], p["channel"]) for p in refusals] == [("U0LEE", CHANNEL)] * 2
    assert "already acknowledged" in refusals[0]["text"]
    assert "durable" in refusals[1]["text"]
