"""Outbound webhook subscriptions: signed events, in order, retried, and paused when they keep dying."""

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.auth.models import Scope
from app.config import AlertingSettings, DeliverySettings, PagerDutySettings, Settings, SlackSettings
from app.db.session import unit_of_work
from app.deliveries import planning
from app.deliveries.models import Delivery
from app.incidents import repository as incidents_repo
from tests.alerting_helpers import FakeSubscriber, Headers, fake_subscriber
from tests.conftest import RelayApp, make_token, provider_settings
from tests.factories import declaration
from tests.workers import drain

pytestmark = pytest.mark.usefixtures("clean_database")
ALL_TYPES = [
    "incident.declared",
    "incident.status_changed",
    "incident.role_changed",
    "incident.update_posted",
    "incident.resolved",
    "incident.closed",
]


def verify(secret: str, headers: dict[str, str], raw: bytes) -> bool:
    """The recipe a subscriber follows, as the API description documents it."""
    timestamp = headers["x-relay-timestamp"]
    if abs(time.time() - int(timestamp)) > 300:
        return False
    expected = "v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, given) for given in headers["x-relay-signature"].split(","))


def _settings(database_url: str, **delivery: Any) -> Settings:
    # Slack and PagerDuty unconfigured (sandboxed): only the subscribers' HTTP is real.
    return provider_settings(
        database_url,
        slack=SlackSettings(),
        pagerduty=PagerDutySettings(),
        delivery=DeliverySettings(backoff_base_seconds=0.05, backoff_max_seconds=0.2, **delivery),
        alerting=AlertingSettings(pause_after_dead_deliveries=2),
    )


@asynccontextmanager
async def running(relay_app: RelayApp, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with relay_app(settings) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
            yield client


async def _tokens(maker: async_sessionmaker[AsyncSession]) -> tuple[Headers, Headers]:
    admin = {"Authorization": f"Bearer {await make_token(maker, Scope.admin)}"}
    writer = {"Authorization": f"Bearer {await make_token(maker, Scope.write)}"}
    return admin, writer


async def _subscribe(
    client: httpx.AsyncClient, admin: Headers, hook: FakeSubscriber, types: list[str]
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/subscriptions", json={"url": hook.url, "event_types": types}, headers=admin
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _move(client: httpx.AsyncClient, writer: Headers, reference: str, **body: Any) -> None:
    response = await client.post(f"/api/v1/incidents/{reference}/transitions", json=body, headers=writer)
    assert response.status_code == 200, response.text


async def test_a_subscriber_receives_signed_events_in_order(
    database_url: str,
    relay_app: RelayApp,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: ArqRedis,
) -> None:
    settings = _settings(database_url)
    admin, writer = await _tokens(sessionmaker)
    with fake_subscriber() as hook, fake_subscriber() as resolved_only:
        async with running(relay_app, settings) as client:
            everything = await _subscribe(client, admin, hook, ALL_TYPES)
            narrow = await _subscribe(client, admin, resolved_only, ["incident.resolved"])
            declared = await client.post("/api/v1/incidents", json=declaration(), headers=writer)
            reference = declared.json()["reference"]
            person = await client.post("/api/v1/people", json={"name": "Emily Chen"}, headers=writer)
            role = await client.post(
                f"/api/v1/incidents/{reference}/roles",
                json={"role": "commander", "person_id": person.json()["id"]},
                headers=writer,
            )
            assert role.status_code == 201
            await _move(client, writer, reference, status="investigating")
            await _move(client, writer, reference, status="mitigated", mitigation="Rolled back.")
            await _move(
                client, writer, reference, status="resolved", durable_reason="The rollback is the fix."
            )
            async with unit_of_work(sessionmaker) as session:
                incident = await incidents_repo.get_by_reference(session, reference)
                assert incident is not None
                update = planning.StatusUpdate("u1", planning.Audience.internal, "All clear.")
                await planning.on_status_update(session, incident, update, settings)
            await drain(settings, redis)

    received = hook.events()
    events = [json.loads(raw) for _, raw in received]
    assert [e["type"] for e in events] == [
        "incident.declared",
        "incident.role_changed",
        "incident.status_changed",
        "incident.status_changed",
        "incident.status_changed",
        "incident.resolved",
        "incident.update_posted",
    ]
    changes = [(e["data"]["previous_status"], e["data"]["status"]) for e in events[2:5]]
    assert changes == [
        ("declared", "investigating"),
        ("investigating", "mitigated"),
        ("mitigated", "resolved"),
    ]
    assert events[1]["data"]["role"] == "commander"
    assert events[6]["data"]["body"] == "All clear."
    assert {e["incident"]["reference"] for e in events} == {reference}
    assert events[-2]["incident"]["status"] == "resolved"
    for headers, raw in received:
        assert verify(everything["secret"], headers, raw)
        assert not verify(narrow["secret"], headers, raw)
        assert headers["x-relay-event-id"] == json.loads(raw)["id"]
        assert headers["x-relay-event-type"] == json.loads(raw)["type"]
    assert len({e["id"] for e in events}) == len(events)

    ((narrow_headers, narrow_raw),) = resolved_only.events()
    assert json.loads(narrow_raw)["type"] == "incident.resolved"
    assert json.loads(narrow_raw)["id"] == events[5]["id"], "one event, one id, whoever receives it"
    assert verify(narrow["secret"], narrow_headers, narrow_raw)

    async with sessionmaker() as session:
        rows = (await session.scalars(select(Delivery).where(col(Delivery.provider) == "webhook"))).all()
    assert len(rows) == 8
    assert {d.status for d in rows} == {"done"}
    chain = sorted(
        (d for d in rows if d.payload["subscription_id"] == everything["id"]), key=lambda d: d.id or 0
    )
    assert [d.depends_on_id for d in chain[1:]] == [d.id for d in chain[:-1]], "each waits for the one before"


async def test_a_subscriber_answering_500_gets_retries(
    database_url: str,
    relay_app: RelayApp,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: ArqRedis,
) -> None:
    settings = _settings(database_url)
    admin, writer = await _tokens(sessionmaker)
    with fake_subscriber([500, 500]) as hook:
        async with running(relay_app, settings) as client:
            subscription = await _subscribe(client, admin, hook, ["incident.declared"])
            assert (
                await client.post("/api/v1/incidents", json=declaration(), headers=writer)
            ).status_code == 201
            await drain(settings, redis)
            shown = (await client.get(f"/api/v1/subscriptions/{subscription['id']}", headers=admin)).json()

    received = hook.events()
    assert len(received) == 3
    assert len({headers["x-relay-event-id"] for headers, _ in received}) == 1, "a retry is the same event"
    assert all(verify(subscription["secret"], headers, raw) for headers, raw in received)
    async with sessionmaker() as session:
        (delivery,) = (
            await session.scalars(select(Delivery).where(col(Delivery.provider) == "webhook"))
        ).all()
    assert (delivery.status, delivery.attempts) == ("done", 3)
    assert delivery.request is not None
    assert delivery.request[0]["url"] == hook.url
    assert (shown["status"], shown["dead_in_a_row"]) == ("active", 0)
    assert shown["last_success_at"] is not None


async def test_a_subscription_that_keeps_failing_is_paused_until_resumed(
    database_url: str,
    relay_app: RelayApp,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: ArqRedis,
) -> None:
    settings = _settings(database_url, max_attempts=2)
    admin, writer = await _tokens(sessionmaker)
    with fake_subscriber([500] * 4) as hook:
        async with running(relay_app, settings) as client:
            subscription = await _subscribe(client, admin, hook, ["incident.declared"])
            url = f"/api/v1/subscriptions/{subscription['id']}"
            for _ in range(2):
                await client.post("/api/v1/incidents", json=declaration(), headers=writer)
            await drain(settings, redis)
            paused = (await client.get(url, headers=admin)).json()
            assert paused["status"] == "paused"
            assert paused["dead_in_a_row"] == 2
            assert paused["paused_reason"].startswith("2 deliveries in a row failed")
            assert "HTTP 500" in paused["last_error"]

            await client.post("/api/v1/incidents", json=declaration(), headers=writer)
            dead = (await client.get("/api/v1/deliveries?status=dead", headers=admin)).json()
            assert len(dead) == 2
            listed = (await client.get("/api/v1/deliveries", headers=admin)).json()
            assert len([d for d in listed if d["provider"] == "webhook"]) == 2, "no events while paused"

            resumed = await client.post(f"{url}/resume", headers=admin)
            assert (resumed.json()["status"], resumed.json()["dead_in_a_row"]) == ("active", 0)
            retried = await client.post(f"/api/v1/deliveries/{dead[0]['id']}/retry", headers=admin)
            assert retried.status_code == 200
            await drain(settings, redis)
            after = (await client.get(url, headers=admin)).json()
    assert len(hook.events()) == 5
    assert after["status"] == "active"
    assert after["last_success_at"] is not None


async def test_only_admins_manage_subscriptions_and_the_secret_is_shown_once(
    client: httpx.AsyncClient, admin: Headers, writer: Headers
) -> None:
    body = {"url": "https://hooks.example.com/relay", "event_types": ["incident.declared"]}
    assert (await client.post("/api/v1/subscriptions", json=body, headers=writer)).status_code == 403
    created = await client.post("/api/v1/subscriptions", json=body, headers=admin)
    assert created.status_code == 201
    subscription = created.json()
    assert subscription["secret"].startswith("rlyw_")
    assert subscription["status"] == "active"
    url = f"/api/v1/subscriptions/{subscription['id']}"
    for response in (
        await client.get("/api/v1/subscriptions", headers=admin),
        await client.get(url, headers=admin),
    ):
        assert response.status_code == 200
        assert subscription["secret"] not in response.text

    changed = await client.patch(
        url, json={"event_types": ["incident.closed", "incident.resolved"]}, headers=admin
    )
    assert changed.json()["event_types"] == ["incident.closed", "incident.resolved"]
    paused = await client.post(f"{url}/pause", headers=admin)
    assert (paused.json()["status"], paused.json()["paused_reason"]) == ("paused", "paused by test-admin")

    bad = await client.post(
        "/api/v1/subscriptions", json={"url": "ftp://x", "event_types": ["incident.exploded"]}, headers=admin
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"url", "event_types.0"}
    assert (await client.delete(url, headers=admin)).status_code == 204
    assert (await client.get(url, headers=admin)).status_code == 404
