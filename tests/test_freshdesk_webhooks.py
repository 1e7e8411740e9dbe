"""POST /webhooks/freshdesk: the shared secret, lenient reading of the hint, and applying it once."""

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.integrations.freshdesk.payloads import MalformedHint, read_hint
from tests.conftest import RelayApp
from tests.fake_freshdesk import fixture, make_ticket
from tests.freshdesk_support import (
    FRESHDESK_API,
    PREVIOUS_SECRET,
    SECRET,
    Relay,
    deliveries,
    freshdesk_config,
    freshdesk_settings,
    receipts,
    start_relay,
)
from tests.test_incidents_api import PROBLEM

pytestmark = pytest.mark.usefixtures("clean_database")
TICKET_URL = f"{FRESHDESK_API}/api/v2/tickets/30571"


@pytest.fixture
async def relay(
    database_url: str, relay_app: RelayApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Relay]:
    async for started in start_relay(relay_app, sessionmaker, freshdesk_settings(database_url)):
        yield started


def mock_ticket(router: respx.MockRouter, **ticket: object) -> respx.Route:
    router.get(f"{TICKET_URL}/conversations").mock(return_value=httpx.Response(200, json=[]))
    return router.get(TICKET_URL).mock(
        return_value=httpx.Response(200, json=make_ticket(30571, **ticket))  # type: ignore[arg-type]
    )


async def test_a_good_secret_is_recorded_answered_202_and_the_job_refetches_the_ticket(
    relay: Relay, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    with respx.mock(assert_all_called=False) as router:
        fetch = mock_ticket(router, tags=("billing",))
        response = await relay.webhook(fixture("automation.ticket_updated.json"))
        assert response.status_code == 202
        assert response.json()["ticket_id"] == 30571
        assert response.json()["duplicate"] is False
        await relay.settle()
    assert fetch.call_count == 1
    assert fetch.calls[0].request.url.params["include"] == "requester"
    (receipt,) = await receipts(sessionmaker)
    assert receipt.provider == "freshdesk"
    assert receipt.event_type == "ticket_updated"
    assert receipt.headers["x-relay-token"] == "<redacted>"
    # The body said "incident" in its tags; the ticket itself does not: the ticket wins.
    assert receipt.status == "ignored"
    assert receipt.reason == "ticket 30571 is not marked as incident-related"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("not-the-secret", "the X-Relay-Token header does not match any configured secret"),
        (None, "the X-Relay-Token header is missing"),
    ],
)
async def test_a_bad_or_missing_secret_gets_401_and_a_refused_receipt(
    relay: Relay, sessionmaker: async_sessionmaker[AsyncSession], token: str | None, reason: str
) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_ticket(router, tags=())
        response = await relay.webhook({"ticket_id": 30571}, token=token)
        await relay.settle()
    stored = await receipts(sessionmaker)
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["errors"] == [{"field": "header.X-Relay-Token", "message": reason}]
    assert [(r.status, r.reason) for r in stored] == [("refused", reason)]
    assert "not-the-secret" not in json.dumps(stored[0].headers)
    assert await deliveries(sessionmaker) == [], "a refused webhook is never applied"


async def test_both_secrets_work_during_rotation_and_the_old_one_stops_after_it(
    database_url: str, relay_app: RelayApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    during = freshdesk_settings(database_url)
    after = freshdesk_settings(database_url, freshdesk=freshdesk_config(webhook_secrets=[SecretStr(SECRET)]))
    with respx.mock(assert_all_called=False) as router:
        mock_ticket(router, tags=())
        async for relay in start_relay(relay_app, sessionmaker, during):
            assert (await relay.webhook({"ticket_id": 30571}, token=SECRET)).status_code == 202
            assert (await relay.webhook({"ticket_id": 30571}, token=PREVIOUS_SECRET)).status_code == 202
        async for relay in start_relay(relay_app, sessionmaker, after):
            assert (await relay.webhook({"ticket_id": 30571}, token=SECRET)).status_code == 202
            assert (await relay.webhook({"ticket_id": 30571}, token=PREVIOUS_SECRET)).status_code == 401
    assert [r.status for r in await receipts(sessionmaker)] == ["ignored", "ignored", "ignored", "refused"]


async def test_without_a_configured_secret_every_webhook_is_refused(
    database_url: str, relay_app: RelayApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    settings = freshdesk_settings(database_url, freshdesk=freshdesk_config(webhook_secrets=[]))
    async for relay in start_relay(relay_app, sessionmaker, settings):
        response = await relay.webhook({"ticket_id": 30571}, token="")
        assert response.status_code == 401
        assert "RELAY_FRESHDESK_WEBHOOK_SECRETS" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (b"ticket {{ticket.id}} updated", "body", "is not valid JSON (Expecting value at line 1 column 1)"),
        (b"", "body", "the body is empty"),
        (b'["ticket_id", 30571]', "body", "must be a JSON object"),
        (b'{"event": "ticket_updated"}', "ticket_id", "missing"),
        (b'{"ticket_id": "{{ticket.id}}"}', "ticket_id", 'must be a ticket number, got "{{ticket.id}}"'),
    ],
)
async def test_a_malformed_body_is_recorded_and_answered_400_with_a_clear_message(
    relay: Relay, sessionmaker: async_sessionmaker[AsyncSession], body: bytes, field: str, words: str
) -> None:
    response = await relay.webhook(body)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["title"] == "The request body could not be read"
    assert problem["detail"].startswith("Relay could not tell which ticket this webhook is about")
    (error,) = problem["errors"]
    assert error["field"] == field
    assert words in error["message"]
    (receipt,) = await receipts(sessionmaker)
    assert receipt.status == "refused"
    assert (receipt.reason or "").startswith("malformed body:")
    assert receipt.body == body.decode()
    assert await deliveries(sessionmaker) == []


async def test_json_broken_by_a_comment_placeholder_is_still_read_for_its_ticket_id(
    relay: Relay, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # {{ticket.latest_public_comment}} rendered raw HTML with quotes into a hand-written JSON body.
    body = b'{"ticket_id": 30571, "event": "customer_replied", "comment": "<div class="x">"Error"</div>"}'
    with respx.mock(assert_all_called=False) as router:
        fetch = mock_ticket(router, tags=())
        response = await relay.webhook(body)
        await relay.settle()
    assert response.status_code == 202
    assert fetch.call_count == 1
    (receipt,) = await receipts(sessionmaker)
    assert receipt.event_type == "customer_replied"


async def test_the_same_webhook_twice_is_recorded_once_when_it_carries_the_version(
    relay: Relay, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    body = {"ticket_id": 30571, "event": "ticket_updated", "updated_at": "2026-11-20T09:48:40Z"}
    with respx.mock(assert_all_called=False) as router:
        fetch = mock_ticket(router, tags=())
        first = await relay.webhook(body)
        again = await relay.webhook(body)
        await relay.settle()
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == {**first.json(), "duplicate": True}
    (receipt,) = await receipts(sessionmaker)
    assert receipt.duplicates == 1
    assert fetch.call_count == 1
    assert len(await deliveries(sessionmaker, "webhooks.apply")) == 1


async def test_the_same_webhook_twice_without_a_version_is_applied_once_per_ticket_version(
    relay: Relay, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    reference = await relay.declare()
    body = {"ticket_id": 30571, "event": "ticket_updated"}
    with respx.mock(assert_all_called=False) as router:
        mock_ticket(router, incident=reference)
        acknowledge = router.post(f"{TICKET_URL}/reply").mock(return_value=httpx.Response(201, json={}))
        router.post(f"{TICKET_URL}/notes").mock(return_value=httpx.Response(201, json={"id": 2}))
        assert (await relay.webhook(body)).status_code == 202
        await relay.settle()
        assert (await relay.webhook(body)).status_code == 202
        await relay.settle()
    first, second = await receipts(sessionmaker)
    assert (first.status, first.reason) == ("applied", f"ticket 30571 linked to {reference}")
    assert second.status == "ignored"
    assert second.reason == "ticket 30571 as of 2026-11-20T09:48:40+00:00 was already applied"
    assert acknowledge.call_count == 1, "the customer is acknowledged once"


def test_reading_hints() -> None:
    assert read_hint(b'{"ticket_id": "30571"}').ticket_id == 30571
    assert read_hint(b'{"ticket": {"id": 7, "updated_at": "2026-11-20T09:48:40Z"}}').dedupe_key == (
        "7:2026-11-20T09:48:40Z"
    )
    assert read_hint(b'{"ticket_id": 7}').dedupe_key is None
    assert read_hint(b'{"ticket_id": 7, "x": "<b "bold">"}').salvaged
    with pytest.raises(MalformedHint):
        read_hint(b'{"ticket_id": true}')
    with pytest.raises(MalformedHint):
        read_hint(b'{"ticket_id": -4}')
