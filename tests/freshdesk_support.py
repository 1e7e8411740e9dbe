"""What the Freshdesk tests share: settings, an app that delivers in-process, and webhook helpers."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import httpx
import respx
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.auth.models import Scope
from app.config import DatabaseSettings, DeliverySettings, FreshdeskSettings, RedisSettings, Settings
from app.deliveries.models import Delivery
from app.webhooks.models import WebhookReceipt
from tests.conftest import RelayApp, make_token
from tests.factories import declaration
from tests.fake_freshdesk import API_KEY, FakeFreshdesk

FRESHDESK_API = "https://acme.freshdesk.test"
SECRET = "fd-hook-secret-2026"
PREVIOUS_SECRET = "fd-hook-secret-2025"
BASE_URL = "https://relay.example"


def freshdesk_config(url: str = FRESHDESK_API, **overrides: Any) -> FreshdeskSettings:
    values: dict[str, Any] = {
        "url": url,
        "api_key": SecretStr(API_KEY),
        "webhook_secrets": [SecretStr(SECRET), SecretStr(PREVIOUS_SECRET)],
    }
    values.update(overrides)
    return FreshdeskSettings(**values)


def freshdesk_settings(database_url: str, **overrides: Any) -> Settings:
    """Freshdesk configured (against respx's host unless told otherwise); deliveries in this process."""
    values: dict[str, Any] = {
        "base_url": BASE_URL,
        "database": DatabaseSettings(url=database_url),
        "redis": RedisSettings(url=None),
        "freshdesk": freshdesk_config(),
        "delivery": DeliverySettings(backoff_base_seconds=0.05, backoff_max_seconds=0.2),
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Relay:
    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    writer: dict[str, str]
    admin: dict[str, str]

    async def settle(self) -> None:
        """Wait for the deliveries (and the deliveries they unlock) under way in this process."""
        await self.app.state.dispatcher.drain()

    async def webhook(self, body: dict[str, Any] | bytes, token: str | None = SECRET) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"content-type": "application/json"}
        if token is not None:
            headers["X-Relay-Token"] = token
        return await self.client.post("/webhooks/freshdesk", content=raw, headers=headers)

    async def declare(self, **overrides: Any) -> str:
        response = await self.client.post(
            "/api/v1/incidents", json=declaration(**overrides), headers=self.writer
        )
        assert response.status_code == 201, response.text
        reference: str = response.json()["reference"]
        return reference


async def start_relay(
    relay_app: RelayApp, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> AsyncIterator[Relay]:
    writer = {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.write)}"}
    admin = {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.admin)}"}
    async with relay_app(settings) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
            relay = Relay(app, client, settings, writer, admin)
            yield relay
            await relay.settle()


async def receipts(maker: async_sessionmaker[AsyncSession]) -> list[WebhookReceipt]:
    async with maker() as session:
        return list((await session.scalars(select(WebhookReceipt).order_by(col(WebhookReceipt.id)))).all())


async def deliveries(maker: async_sessionmaker[AsyncSession], action: str | None = None) -> list[Delivery]:
    query = select(Delivery).order_by(col(Delivery.id))
    if action:
        query = query.where(col(Delivery.action) == action)
    async with maker() as session:
        return list((await session.scalars(query)).all())


def route_to(router: respx.MockRouter, fake: FakeFreshdesk) -> respx.Route:
    """Answer Freshdesk calls made to respx's host from the fake's tickets, without a server."""

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        status, data = fake.answer(
            request.method, request.url.path, parse_qs(request.url.query.decode()), body
        )
        return httpx.Response(status, json=data)

    return router.route(host=FRESHDESK_API.removeprefix("https://")).mock(side_effect=answer)
