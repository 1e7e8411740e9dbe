"""Signed requests as Slack sends them, and the fixtures they start from."""

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from app.config import DatabaseSettings, RedisSettings, Settings, SlackSettings
from app.integrations.slack.verification import sign

FIXTURES = Path(__file__).parent / "fixtures" / "slack"
SECRET = "relay-test-signing-secret-0001"
INCIDENT_CHANNEL = "C0INC4812"
_events = count(1)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def signed(raw: bytes, *, secret: str = SECRET, at: int | None = None, **headers: str) -> dict[str, str]:
    return {**sign(secret, raw, int(time.time()) if at is None else at), **headers}


async def post_signed(
    client: httpx.AsyncClient, path: str, raw: bytes, content_type: str, **kwargs: Any
) -> httpx.Response:
    headers = {"Content-Type": content_type, **signed(raw, **kwargs)}
    return await client.post(path, content=raw, headers=headers)


async def post_event(client: httpx.AsyncClient, envelope: dict[str, Any], **kwargs: Any) -> httpx.Response:
    raw = json.dumps(envelope).encode()
    return await post_signed(client, "/webhooks/slack/events", raw, "application/json", **kwargs)


def message_event(
    text: str,
    *,
    ts: str,
    user: str = "U0DANA",
    channel: str = INCIDENT_CHANNEL,
    event_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An ``event_callback`` around one message event, shaped like the fixture."""
    envelope: dict[str, Any] = fixture("event_callback.message.json")
    envelope["event_id"] = event_id or f"Ev{next(_events):08d}"
    envelope["event"] = {
        "type": "message",
        "channel": channel,
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "team": "T0RELAY01",
        **extra,
    }
    return envelope


def command_body(text: str, *, channel: str = "C0SUPPORT", user: str = "U0DANA", name: str = "dana") -> bytes:
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": "T0RELAY01",
            "channel_id": channel,
            "channel_name": "support",
            "user_id": user,
            "user_name": name,
            "command": "/incident",
            "text": text,
            "api_app_id": "A0RELAY01",
            "response_url": "https://hooks.slack.com/commands/T0RELAY01/1/abc",
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
    ).encode()


async def command(client: httpx.AsyncClient, text: str, **kwargs: Any) -> httpx.Response:
    """Run ``/incident TEXT`` as Slack would; the reply's text is in ``.json()["text"]``."""
    signing = {k: kwargs.pop(k) for k in ("secret", "at") if k in kwargs}
    raw = command_body(text, **kwargs)
    return await post_signed(
        client, "/webhooks/slack/commands", raw, "application/x-www-form-urlencoded", **signing
    )


async def interact(client: httpx.AsyncClient, payload: dict[str, Any], **kwargs: Any) -> httpx.Response:
    raw = urlencode({"payload": json.dumps(payload)}).encode()
    return await post_signed(
        client, "/webhooks/slack/interactivity", raw, "application/x-www-form-urlencoded", **kwargs
    )


def slack_settings(database_url: str, **slack: Any) -> Settings:
    """In-process deliveries (no Redis), Slack sandboxed unless a bot token is given, requests signed."""
    return Settings(
        database=DatabaseSettings(url=database_url),
        redis=RedisSettings(url=None),
        slack=SlackSettings(signing_secret=SecretStr(SECRET), **slack),
        _env_file=None,
    )


@asynccontextmanager
async def slack_relay(
    relay_app: Callable[[Settings], AbstractAsyncContextManager[FastAPI]], settings: Settings
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Relay with these settings and a client for it; deliveries under way finish before it stops."""
    async with relay_app(settings) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
            yield app, client
            await app.state.dispatcher.drain()
