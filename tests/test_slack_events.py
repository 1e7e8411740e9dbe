"""Messages in an incident's channel become its timeline: once each, threaded, edited, deleted."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.deliveries.models import Delivery
from app.people.models import Person
from tests.conftest import RelayApp
from tests.factories import declaration
from tests.slack_requests import (
    INCIDENT_CHANNEL,
    fixture,
    message_event,
    post_event,
    slack_relay,
    slack_settings,
)
from tests.test_incidents_api import Headers

pytestmark = pytest.mark.usefixtures("clean_database")
Env = tuple[FastAPI, httpx.AsyncClient]


@pytest.fixture
async def env(database_url: str, relay_app: RelayApp, writer: Headers, admin: Headers) -> AsyncIterator[Env]:
    """Relay with INC-1 in channel C0INC4812 (the fixtures' channel), adopted by an admin."""
    async with slack_relay(relay_app, slack_settings(database_url)) as (app, client):
        assert (await client.post("/api/v1/incidents", json=declaration(), headers=writer)).status_code == 201
        adopted = await client.patch(
            "/api/v1/incidents/INC-1",
            json={"slack_channel_id": INCIDENT_CHANNEL, "version": 1},
            headers=admin,
        )
        assert adopted.status_code == 200, adopted.text
        yield app, client


async def deliver(env: Env, *envelopes: dict[str, Any], **headers: str) -> list[httpx.Response]:
    app, client = env
    answers = []
    for envelope in envelopes:
        answers.append(await post_event(client, envelope, **headers))
        await app.state.dispatcher.drain()  # the apply job runs in this process without Redis
    assert {a.status_code for a in answers} == {200}
    return answers


async def messages(env: Env, headers: Headers) -> list[dict[str, Any]]:
    timeline = (await env[1].get("/api/v1/incidents/INC-1/timeline", headers=headers)).json()["items"]
    return [entry for entry in timeline if entry["kind"] == "message"]


async def test_the_same_event_delivered_three_times_makes_one_entry(
    env: Env, reader: Headers, admin: Headers
) -> None:
    event = fixture("event_callback.message.json")
    first, *retries = await deliver(env, event, event, event, **{"X-Slack-Retry-Num": "1"})
    assert first.json()["duplicate"] is False
    assert [r.json()["duplicate"] for r in retries] == [True, True]

    (entry,) = await messages(env, reader)
    assert entry["body"] == "Error rate is dropping after the rollback."
    assert entry["source"] == "slack"
    assert entry["occurred_at"].startswith("2025-11-20T09:34:59.0002")
    assert entry["author_id"] is not None
    receipts = (await env[1].get("/api/v1/webhooks/receipts?provider=slack", headers=admin)).json()
    (receipt,) = [r for r in receipts if r["dedupe_key"] == event["event_id"]]
    assert (receipt["status"], receipt["duplicates"], receipt["event_type"]) == ("applied", 2, "message")


async def test_a_threaded_reply_is_linked_to_its_parent(env: Env, reader: Headers) -> None:
    await deliver(env, fixture("event_callback.message.json"), fixture("event_callback.thread_reply.json"))
    parent, reply = await messages(env, reader)
    assert reply["body"] == "Confirmed on the dashboard: 5xx down to 0.4%."
    assert reply["parent_id"] == parent["id"]
    assert parent["parent_id"] is None
    assert reply["author_id"] != parent["author_id"], "two Slack users, two people"


async def test_a_reply_applied_before_its_parent_is_linked_when_the_parent_arrives(
    env: Env, reader: Headers
) -> None:
    await deliver(env, fixture("event_callback.thread_reply.json"))
    (orphan,) = await messages(env, reader)
    assert orphan["parent_id"] is None
    await deliver(env, fixture("event_callback.message.json"))
    parent, reply = await messages(env, reader)
    assert reply["parent_id"] == parent["id"]


async def test_an_edit_updates_the_entry_and_a_deletion_marks_it(env: Env, reader: Headers) -> None:
    original = message_event("Rolling back 14:02 deploy", ts="1763631400.000100")
    edit = message_event("", ts="1763631460.000200", subtype="message_changed")
    edit["event"]["message"] = {
        "type": "message",
        "user": "U0DANA",
        "text": "Rolling back the 14:20 deploy",
        "ts": "1763631400.000100",
        "edited": {"user": "U0DANA", "ts": "1763631459.000000"},
    }
    same_text = message_event("", ts="1763631470.000200", subtype="message_changed")
    same_text["event"]["message"] = {**edit["event"]["message"], "reply_count": 1}
    await deliver(env, original, edit, same_text)

    (entry,) = await messages(env, reader)
    assert entry["body"] == "Rolling back the 14:20 deploy"
    assert entry["edited_at"].startswith("2025-11-20T09:37:39")
    assert entry["data"]["original_body"] == "Rolling back 14:02 deploy"

    deletion = message_event("", ts="1763631500.000300", subtype="message_deleted")
    deletion["event"]["deleted_ts"] = "1763631400.000100"
    await deliver(env, deletion)
    (entry,) = await messages(env, reader)
    assert entry["deleted_at"].startswith("2025-11-20T09:38:20")
    assert entry["body"] == "Rolling back the 14:20 deploy", "the record keeps what was said"


async def test_relays_own_messages_and_channel_noise_stay_off_the_timeline(env: Env, reader: Headers) -> None:
    own = message_event("INC-1 summary", ts="1763631401.000100", user="U0RELAYBOT", bot_id="B0RELAY")
    own_app = message_event("Status update", ts="1763631402.000100", user="U0OTHER", app_id="A0RELAY01")
    joined = message_event("<@U0LEE> has joined the channel", ts="1763631403.000100", subtype="channel_join")
    elsewhere = message_event("lunch?", ts="1763631404.000100", channel="C0RANDOM")
    other_bot = message_event("Deploy 4512 finished", ts="1763631405.000100", user="", subtype="bot_message")
    other_bot["event"].update(bot_id="B0DEPLOY", username="deploybot")
    await deliver(env, own, own_app, joined, elsewhere, other_bot)
    (entry,) = await messages(env, reader)
    assert (entry["body"], entry["author_name"], entry["author_id"]) == (
        "Deploy 4512 finished",
        "deploybot",
        None,
    )


async def test_a_new_slack_user_becomes_one_person_whose_profile_is_fetched(
    env: Env, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await deliver(
        env,
        message_event("first", ts="1763631410.000100", user="U0NEWCOMER"),
        message_event("second", ts="1763631411.000100", user="U0NEWCOMER"),
    )
    async with sessionmaker() as session:
        people = (
            await session.scalars(select(Person).where(col(Person.slack_user_id) == "U0NEWCOMER"))
        ).all()
        syncs = (
            await session.scalars(select(Delivery).where(col(Delivery.action) == "slack.sync_person"))
        ).all()
    assert len(people) == 1
    assert people[0].name == "U0NEWCOMER", "known only by id until users.info answers"
    assert [s.payload["user"] for s in syncs].count("U0NEWCOMER") == 1


async def test_a_message_with_a_malformed_ts_is_marked_failed_not_retried(
    env: Env, reader: Headers, admin: Headers
) -> None:
    broken = message_event("hello", ts="yesterday")
    await deliver(env, broken)
    assert await messages(env, reader) == []
    receipts = (await env[1].get("/api/v1/webhooks/receipts?provider=slack", headers=admin)).json()
    (receipt,) = [r for r in receipts if r["dedupe_key"] == broken["event_id"]]
    assert receipt["status"] == "failed"
    assert "not a Slack timestamp" in receipt["reason"]
