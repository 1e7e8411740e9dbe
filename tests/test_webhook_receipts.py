"""Inbound webhooks are recorded (refused ones too), deduplicated, and applied once by a job."""

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.config import DatabaseSettings, Settings
from app.db.session import unit_of_work
from app.deliveries.models import Delivery
from app.integrations.actions import ActionContext
from app.integrations.clients import Clients
from app.main import create_app
from app.webhooks import service as receipts
from app.webhooks.apply import Applied, apply_receipt
from app.webhooks.models import ReceiptStatus, WebhookReceipt
from tests.conftest import RelayApp
from tests.test_incidents_api import PROBLEM, Headers

pytestmark = pytest.mark.usefixtures("clean_database")


async def _record(maker: async_sessionmaker[AsyncSession], settings: Settings, key: str) -> receipts.Recorded:
    async with unit_of_work(maker) as session:
        return await receipts.record(
            session,
            provider="pagerduty",
            dedupe_key=key,
            event_type="incident.annotated",
            headers={"X-Webhook-Id": key, "Authorization": "Token token=secret"},
            raw=b'{"event": {}}',
            settings=settings.delivery,
        )


async def test_a_redelivered_event_is_kept_once_and_applied_once(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    first = await _record(sessionmaker, settings, "evt-1")
    again = await _record(sessionmaker, settings, "evt-1")
    assert not first.duplicate
    assert again.duplicate
    assert again.receipt.id == first.receipt.id
    assert first.receipt.headers["authorization"] == "<redacted>"

    async with sessionmaker() as session:
        jobs = await session.scalar(select(func.count()).where(col(Delivery.action) == receipts.APPLY_ACTION))
        stored = await session.get(WebhookReceipt, first.receipt.id)
    assert jobs == 1
    assert stored is not None
    assert stored.duplicates == 1

    calls: list[int] = []

    async def handler(
        _session: AsyncSession, _ctx: ActionContext, receipt: WebhookReceipt, _fetched: object
    ) -> Applied:
        calls.append(receipt.id or 0)
        return Applied(note="noted")

    clients = Clients.from_settings(settings)
    ctx = ActionContext(clients, settings, sessionmaker)
    payload: dict[str, Any] = {"receipt_id": first.receipt.id}
    try:
        result = await apply_receipt(ctx, payload, handlers={"pagerduty": handler}, fetchers={})
        rerun = await apply_receipt(ctx, payload, handlers={"pagerduty": handler}, fetchers={})
    finally:
        await clients.aclose()
    assert calls == [first.receipt.id], "a job that runs twice applies the receipt once"
    assert result["status"] == ReceiptStatus.applied
    assert rerun["status"] == ReceiptStatus.applied

    async with sessionmaker() as session:
        stored = await session.get(WebhookReceipt, first.receipt.id)
    assert stored is not None
    assert stored.status == ReceiptStatus.applied
    assert stored.reason == "noted"
    assert stored.processed_at is not None


async def test_refused_requests_are_listed_for_admins_without_their_secrets(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin: Headers,
    writer: Headers,
) -> None:
    async with unit_of_work(sessionmaker) as session:
        await receipts.refuse(
            session,
            provider="freshdesk",
            reason="X-Relay-Token does not match",
            headers={"X-Relay-Token": "guess", "Content-Type": "application/json"},
            raw=b'{"ticket_id": 1}',
        )
    assert (await client.get("/api/v1/webhooks/receipts", headers=writer)).status_code == 403
    response = await client.get("/api/v1/webhooks/receipts?status=refused", headers=admin)
    assert response.status_code == 200
    (receipt,) = response.json()
    assert receipt["provider"] == "freshdesk"
    assert receipt["reason"] == "X-Relay-Token does not match"
    assert receipt["headers"]["x-relay-token"] == "<redacted>"
    assert "guess" not in response.text


async def test_an_unreachable_database_answers_503_not_4xx(settings: Settings) -> None:
    # Port 9 (discard) is closed here: every connection attempt is refused at once.
    down = settings.model_copy(
        update={"database": DatabaseSettings(url="postgresql+asyncpg://relay@127.0.0.1:9/relay")}
    )
    application = create_app(down)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
            response = await client.get("/api/v1/incidents", headers={"Authorization": "Bearer rly_x"})
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"] == "5"
    assert response.json()["title"] == "Relay cannot reach its database"


async def test_a_body_over_the_limit_is_refused_unread_and_recorded(
    relay_app: RelayApp, settings: Settings, admin: Headers
) -> None:
    small = settings.model_copy(update={"webhook_max_body_bytes": 2048})
    async with relay_app(small) as application:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
            response = await client.post("/webhooks/pagerduty", content=b"x" * 5000)
            fits = await client.post("/webhooks/pagerduty", content=b"y" * 1000)
            receipts_seen = (await client.get("/api/v1/webhooks/receipts", headers=admin)).json()
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    # A body within the limit goes on to the signature check: no secret is configured here.
    assert fits.json()["type"].endswith("/not-configured")
    oversize = next(r for r in receipts_seen if r["reason"] == "body over 2048 bytes")
    assert (oversize["status"], oversize["body"]) == ("refused", "")


async def test_a_refused_body_is_kept_only_in_part(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with unit_of_work(sessionmaker) as session:
        receipt = await receipts.refuse(
            session, provider="slack", reason="bad signature", headers={}, raw=b"z" * 10_000
        )
    assert len(receipt.body) == receipts.REFUSED_BODY_BYTES
