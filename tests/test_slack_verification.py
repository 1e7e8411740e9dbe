"""Slack signatures: the published vectors verify; replays, forgeries and unsigned requests are refused."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import clock
from app.clock import FrozenClock
from app.config import SlackSettings
from app.deliveries.models import Delivery
from app.incidents.models import Incident, TimelineEntry
from app.integrations.slack.verification import refusal, sign
from app.webhooks.models import WebhookReceipt
from tests.conftest import RelayApp
from tests.slack_requests import (
    FIXTURES,
    command,
    command_body,
    fixture,
    post_event,
    post_signed,
    slack_relay,
    slack_settings,
)
from tests.test_incidents_api import PROBLEM, Headers

pytestmark = pytest.mark.usefixtures("clean_database")

# python-slack-sdk, tests/slack_sdk/signature/test_signature_verifier.py (Slack's documented example).
PUBLISHED_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
PUBLISHED_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
PUBLISHED_TS = 1531420618
PUBLISHED_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def headers(timestamp: int | str, signature: str) -> dict[str, str]:
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


def test_the_published_vector_verifies() -> None:
    assert sign(PUBLISHED_SECRET, PUBLISHED_BODY, PUBLISHED_TS)["X-Slack-Signature"] == PUBLISHED_SIGNATURE
    good = headers(PUBLISHED_TS, PUBLISHED_SIGNATURE)
    assert refusal(PUBLISHED_SECRET, PUBLISHED_BODY, good, now=PUBLISHED_TS) is None
    tampered = refusal(PUBLISHED_SECRET, PUBLISHED_BODY + b"------", good, now=PUBLISHED_TS)
    assert tampered is not None
    assert tampered.field == "header.X-Slack-Signature"


def test_the_shared_vector_verifies() -> None:
    vector = fixture("signed_vector.json")
    raw = (FIXTURES / vector["body_file"]).read_bytes()
    now = int(vector["timestamp"])
    assert refusal(vector["signing_secret"], raw, headers(now, vector["signature"]), now=now) is None
    assert refusal("another-secret", raw, headers(now, vector["signature"]), now=now) is not None


def test_a_replay_older_than_five_minutes_is_refused() -> None:
    good = headers(PUBLISHED_TS, PUBLISHED_SIGNATURE)
    assert refusal(PUBLISHED_SECRET, PUBLISHED_BODY, good, now=PUBLISHED_TS + 300) is None
    stale = refusal(PUBLISHED_SECRET, PUBLISHED_BODY, good, now=PUBLISHED_TS + 301)
    assert stale is not None
    assert stale.field == "header.X-Slack-Request-Timestamp"
    assert "more than 5 minutes" in stale.reason
    assert refusal(PUBLISHED_SECRET, PUBLISHED_BODY, good, now=PUBLISHED_TS - 301) is not None


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({"X-Slack-Signature": PUBLISHED_SIGNATURE}, "header.X-Slack-Request-Timestamp"),
        ({"X-Slack-Request-Timestamp": str(PUBLISHED_TS)}, "header.X-Slack-Signature"),
        (headers("yesterday", PUBLISHED_SIGNATURE), "header.X-Slack-Request-Timestamp"),
        (headers(PUBLISHED_TS, "v0=" + "0" * 64), "header.X-Slack-Signature"),
    ],
)
def test_missing_or_malformed_headers_are_refused(sent: dict[str, str], field: str) -> None:
    refused = refusal(PUBLISHED_SECRET, PUBLISHED_BODY, sent, now=PUBLISHED_TS)
    assert refused is not None
    assert refused.field == field


@pytest.fixture
async def slack_client(database_url: str, relay_app: RelayApp) -> AsyncIterator[httpx.AsyncClient]:
    async with slack_relay(relay_app, slack_settings(database_url)) as (_, client):
        yield client


async def _count(maker: async_sessionmaker[AsyncSession], model: type[object]) -> int:
    async with maker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_bad_signature_gets_401_and_is_recorded_and_nothing_else_happens(
    slack_client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], admin: Headers
) -> None:
    declare = command_body("declare sev1 Login API is down for all users")
    form = "application/x-www-form-urlencoded"
    answers = [
        await post_event(slack_client, fixture("event_callback.message.json"), secret="not-the-secret"),
        await post_signed(slack_client, "/webhooks/slack/commands", declare, form, secret="not-the-secret"),
        await post_signed(slack_client, "/webhooks/slack/interactivity", b"payload=%7B%7D", form, secret="x"),
    ]
    for answer in answers:
        assert answer.status_code == 401
        assert answer.headers["content-type"] == PROBLEM
        assert answer.json()["errors"] == [
            {"field": "header.X-Slack-Signature", "message": "does not match the body"}
        ]

    listed = (await slack_client.get("/api/v1/webhooks/receipts?provider=slack", headers=admin)).json()
    assert [r["status"] for r in listed] == ["refused"] * 3
    assert all("X-Slack-Signature" in r["reason"] for r in listed)
    for model in (Incident, Delivery, TimelineEntry):
        assert await _count(sessionmaker, model) == 0, f"a refused request must not create {model.__name__}"


async def test_a_replayed_request_is_refused_at_the_endpoint(
    slack_client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    stale = int(datetime.now(UTC).timestamp()) - 301
    response = await command(slack_client, "declare sev1 Login API is down for all users", at=stale)
    assert response.status_code == 401
    assert response.json()["errors"][0]["field"] == "header.X-Slack-Request-Timestamp"
    assert await _count(sessionmaker, Incident) == 0
    assert await _count(sessionmaker, WebhookReceipt) == 1


async def test_the_signed_fixture_command_declares_when_the_clock_reads_its_timestamp(
    slack_client: httpx.AsyncClient, reader: Headers
) -> None:
    vector = fixture("signed_vector.json")
    raw = (FIXTURES / vector["body_file"]).read_bytes()
    request_headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **headers(vector["timestamp"], vector["signature"]),
    }
    clock.install(FrozenClock(datetime.fromtimestamp(int(vector["timestamp"]), UTC)))
    try:
        response = await slack_client.post("/webhooks/slack/commands", content=raw, headers=request_headers)
    finally:
        clock.install(clock.Clock())
    assert response.status_code == 200, response.text
    assert response.json()["response_type"] == "ephemeral"
    assert response.json()["text"].startswith("Declared *INC-1*")
    incident = (await slack_client.get("/api/v1/incidents/INC-1", headers=reader)).json()
    assert (incident["severity"], incident["priority"], incident["service"]) == ("SEV1", "P1", "login-api")
    assert incident["title"] == "Login API is down for all users"
    assert incident["declared_at"].startswith("2025-11-20")


async def test_url_verification_is_answered_with_the_challenge(slack_client: httpx.AsyncClient) -> None:
    handshake = fixture("url_verification.json")
    response = await post_event(slack_client, handshake)
    assert response.status_code == 200
    assert response.json() == {"challenge": handshake["challenge"]}


async def test_without_a_signing_secret_nothing_is_accepted(
    database_url: str, relay_app: RelayApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    settings = slack_settings(database_url).model_copy(update={"slack": SlackSettings()})
    async with slack_relay(relay_app, settings) as (_, client):
        response = await post_event(client, fixture("url_verification.json"))
    assert response.status_code == 401
    assert "RELAY_SLACK_SIGNING_SECRET" in response.json()["detail"]
    assert await _count(sessionmaker, WebhookReceipt) == 1


async def test_an_unreadable_event_body_is_refused_with_400(slack_client: httpx.AsyncClient) -> None:
    response = await post_signed(slack_client, "/webhooks/slack/events", b"[not json", "application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "body", "message": "not a JSON object"}]
    assert json.loads(response.text)["status"] == 400
