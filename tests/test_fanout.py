"""The outbox end to end: a declaration's deliveries, sent by real ARQ workers, provider HTTP via respx."""

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import respx
from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app import clock
from app.auth.models import Scope
from app.clock import FrozenClock
from app.config import Settings
from app.deliveries.models import Delivery
from app.incidents.models import IncidentLink
from tests.conftest import PAGERDUTY_API, SLACK_API, RelayApp, make_token, provider_settings
from tests.factories import declaration
from tests.workers import drain, sweep

pytestmark = pytest.mark.usefixtures("clean_database")


def slack_ok(**extra: object) -> httpx.Response:
    return httpx.Response(200, json={"ok": True, **extra})


def mock_slack(router: respx.MockRouter) -> dict[str, respx.Route]:
    return {
        "create": router.post(f"{SLACK_API}/conversations.create").mock(
            return_value=slack_ok(channel={"id": "C0INC1", "name": "inc"})
        ),
        "post": router.post(f"{SLACK_API}/chat.postMessage").mock(
            return_value=slack_ok(channel="C0INC1", ts="1700000000.000100")
        ),
        "pin": router.post(f"{SLACK_API}/pins.add").mock(return_value=slack_ok()),
    }


def mock_priorities(router: respx.MockRouter) -> respx.Route:
    priorities = [{"id": f"PPRI{n}", "type": "priority", "name": f"P{n}"} for n in range(1, 5)]
    return router.get(f"{PAGERDUTY_API}/priorities").mock(
        return_value=httpx.Response(200, json={"priorities": priorities, "more": False})
    )


async def declare(app_client: httpx.AsyncClient, token: str, **overrides: object) -> str:
    response = await app_client.post(
        "/api/v1/incidents", json=declaration(**overrides), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.text
    reference: str = response.json()["reference"]
    return reference


async def channel_name(app_client: httpx.AsyncClient, token: str, reference: str) -> str:
    response = await app_client.get(
        f"/api/v1/incidents/{reference}", headers={"Authorization": f"Bearer {token}"}
    )
    name: str = response.json()["channel_name"]
    return name


async def deliveries(maker: async_sessionmaker[AsyncSession]) -> dict[str, Delivery]:
    async with maker() as session:
        rows = (await session.scalars(select(Delivery).order_by(col(Delivery.id)))).all()
    return {d.idempotency_key.split(":", 1)[1]: d for d in rows}


@pytest.fixture
async def fanout(
    database_url: str, relay_app: RelayApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[tuple[Settings, httpx.AsyncClient, str]]:
    settings = provider_settings(database_url)
    token = await make_token(sessionmaker, Scope.write)
    async with relay_app(settings) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
            yield settings, client, token


async def test_a_declaration_fans_out_through_the_workers(
    fanout: tuple[Settings, httpx.AsyncClient, str],
    redis: ArqRedis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    settings, client, token = fanout
    with respx.mock(assert_all_called=True) as router:
        slack = mock_slack(router)
        mock_priorities(router)
        page = router.post(f"{PAGERDUTY_API}/incidents").mock(
            return_value=httpx.Response(
                201, json={"incident": {"id": "PINC1", "html_url": "https://pd/PINC1"}}
            )
        )
        reference = await declare(client, token, severity="SEV1")
        pending = await deliveries(sessionmaker)
        assert {d.status for d in pending.values()} == {"pending"}, "nothing is sent from inside the request"
        await drain(settings, redis)

    rows = await deliveries(sessionmaker)
    assert {key: d.status for key, d in rows.items()} == {
        "slack:create_channel": "done",
        "slack:summary": "done",
        "slack:pin_summary": "done",
        "slack:announce": "done",
        "slack:links": "done",
        "pagerduty:create_incident": "done",
    }
    posts = [json.loads(call.request.content) for call in slack["post"].calls]
    assert sorted(post["channel"] for post in posts) == ["C0INC1", "C0INC1", "new-incidents"]
    announce = next(post for post in posts if post["channel"] == "new-incidents")
    assert "<#C0INC1>" in announce["text"]
    pin = json.loads(slack["pin"].calls[0].request.content)
    assert pin == {"channel": "C0INC1", "timestamp": "1700000000.000100"}
    paged = json.loads(page.calls[0].request.content)["incident"]
    assert paged["incident_key"] == reference
    assert paged["priority"] == {"id": "PPRI2", "type": "priority_reference"}, "SEV1 without end users: P2"
    assert page.calls[0].request.headers["From"] == "relay@example.com"
    sent = rows["slack:create_channel"].request
    assert sent is not None
    assert sent[0]["headers"]["authorization"] == "<redacted>"

    incident = (
        await client.get(f"/api/v1/incidents/{reference}", headers={"Authorization": f"Bearer {token}"})
    ).json()
    assert incident["slack_channel_id"] == "C0INC1"
    async with sessionmaker() as session:
        links = (await session.scalars(select(IncidentLink))).all()
    assert sorted((link.kind, link.external_id) for link in links) == [
        ("pagerduty_incident", "PINC1"),
        ("slack_channel", "C0INC1"),
    ]


async def test_a_500_is_retried_later_and_then_succeeds(
    fanout: tuple[Settings, httpx.AsyncClient, str],
    redis: ArqRedis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    settings, client, token = fanout
    with respx.mock() as router:
        routes = mock_slack(router)
        routes["create"].side_effect = [
            httpx.Response(500, text="upstream exploded"),
            slack_ok(channel={"id": "C0INC1", "name": "inc"}),
        ]
        await declare(client, token)
        await drain(settings, redis)
    create = (await deliveries(sessionmaker))["slack:create_channel"]
    assert create.status == "done"
    assert create.attempts == 2
    assert routes["create"].call_count == 2
    assert routes["pin"].call_count == 1


async def test_a_429_is_not_retried_before_retry_after(
    fanout: tuple[Settings, httpx.AsyncClient, str],
    redis: ArqRedis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    settings, client, token = fanout
    frozen = FrozenClock(clock.Clock().now())
    clock.install(frozen)
    try:
        with respx.mock() as router:
            routes = mock_slack(router)
            routes["create"].side_effect = [
                httpx.Response(
                    429, headers={"Retry-After": "30"}, json={"ok": False, "error": "ratelimited"}
                ),
                slack_ok(channel={"id": "C0INC1", "name": "inc"}),
            ]
            await declare(client, token, severity="SEV3")
            await drain(settings, redis)
            create = (await deliveries(sessionmaker))["slack:create_channel"]
            assert create.status == "failed_will_retry"
            assert "HTTP 429" in (create.last_error or "")
            assert create.next_attempt_at >= frozen.now() + timedelta(seconds=30)

            await redis.flushdb()  # drop the deferred job: the sweep alone must not jump the gun
            frozen.advance(timedelta(seconds=29))
            assert await sweep(settings, redis) == 0
            frozen.advance(timedelta(seconds=2))
            assert await sweep(settings, redis) == 1
            await drain(settings, redis)
    finally:
        clock.install(clock.Clock())
    rows = await deliveries(sessionmaker)
    assert rows["slack:create_channel"].status == "done"
    assert routes["create"].call_count == 2


async def test_a_permanent_400_is_dead_at_once_and_an_admin_retry_sends_it_again(
    fanout: tuple[Settings, httpx.AsyncClient, str],
    redis: ArqRedis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    settings, client, token = fanout
    admin = {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.admin)}"}
    with respx.mock() as router:
        mock_slack(router)
        mock_priorities(router)
        page = router.post(f"{PAGERDUTY_API}/incidents")
        page.side_effect = [
            httpx.Response(400, json={"error": {"message": "Invalid Input Provided", "code": 2001}}),
            httpx.Response(201, json={"incident": {"id": "PINC9", "html_url": "https://pd/PINC9"}}),
        ]
        reference = await declare(client, token, severity="SEV1")
        await drain(settings, redis)
        listed = await client.get(f"/api/v1/incidents/{reference}/deliveries", headers=admin)
        dead = next(d for d in listed.json() if d["action"] == "pagerduty.create_incident")
        assert dead["status"] == "dead"
        assert dead["attempts"] == 1
        assert "Invalid Input Provided" in dead["last_error"]

        writer = {"Authorization": f"Bearer {token}"}
        assert (
            await client.post(f"/api/v1/deliveries/{dead['id']}/retry", headers=writer)
        ).status_code == 403
        retried = await client.post(f"/api/v1/deliveries/{dead['id']}/retry", headers=admin)
        assert retried.status_code == 200
        assert retried.json()["status"] == "pending"
        await drain(settings, redis)
        again = await client.post(f"/api/v1/deliveries/{dead['id']}/retry", headers=admin)
        assert again.status_code == 409
    rows = await deliveries(sessionmaker)
    assert rows["pagerduty:create_incident"].status == "done"
    assert page.call_count == 2


async def test_a_slack_error_kills_the_chain_and_a_retry_revives_it(
    fanout: tuple[Settings, httpx.AsyncClient, str],
    redis: ArqRedis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    settings, client, token = fanout
    admin = {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.admin)}"}
    with respx.mock() as router:
        routes = mock_slack(router)
        routes["create"].side_effect = [
            httpx.Response(200, json={"ok": False, "error": "restricted_action"}),
            slack_ok(channel={"id": "C0INC1", "name": "inc"}),
        ]
        await declare(client, token, severity="SEV3")
        await drain(settings, redis)
        rows = await deliveries(sessionmaker)
        assert rows["slack:create_channel"].last_error == (
            "Slack conversations.create failed: restricted_action"
        )
        assert {d.status for d in rows.values()} == {"dead"}
        assert rows["slack:pin_summary"].last_error.startswith("depends on delivery")  # type: ignore[union-attr]

        create_id = rows["slack:create_channel"].id
        assert (await client.post(f"/api/v1/deliveries/{create_id}/retry", headers=admin)).status_code == 200
        await drain(settings, redis)
    assert {d.status for d in (await deliveries(sessionmaker)).values()} == {"done"}
    assert routes["pin"].call_count == 1


async def test_name_taken_gets_a_suffix(
    fanout: tuple[Settings, httpx.AsyncClient, str],
    redis: ArqRedis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    settings, client, token = fanout
    with respx.mock() as router:
        routes = mock_slack(router)
        routes["create"].side_effect = [
            httpx.Response(200, json={"ok": False, "error": "name_taken"}),
            slack_ok(channel={"id": "C0INC1", "name": "inc-2"}),
        ]
        name = await channel_name(client, token, await declare(client, token, severity="SEV3"))
        # The taken name belongs to a channel Relay's bot is not in: someone else's.
        others = slack_ok(channels=[{"id": "C0OTHER", "name": name, "is_member": False}])
        listing = router.post(f"{SLACK_API}/conversations.list").mock(return_value=others)
        await drain(settings, redis)
    assert listing.call_count == 1
    names = [json.loads(call.request.content)["name"] for call in routes["create"].calls]
    assert names[1] == f"{names[0]}-2"
    create = (await deliveries(sessionmaker))["slack:create_channel"]
    assert create.result == {"channel_id": "C0INC1", "channel_name": "inc-2"}


async def test_a_retried_create_adopts_the_channel_its_lost_answer_made(
    fanout: tuple[Settings, httpx.AsyncClient, str],
    redis: ArqRedis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    settings, client, token = fanout
    with respx.mock() as router:
        routes = mock_slack(router)
        # Slack made the channel, but its answer never arrived; the retry finds the name taken.
        routes["create"].side_effect = [
            httpx.ReadTimeout("lost"),
            httpx.Response(200, json={"ok": False, "error": "name_taken"}),
        ]
        name = await channel_name(client, token, await declare(client, token, severity="SEV3"))
        made = {"id": "C0MADE", "name": name, "is_member": True}
        router.post(f"{SLACK_API}/conversations.list").mock(return_value=slack_ok(channels=[made]))
        await drain(settings, redis)
        await sweep(settings, redis)
        await drain(settings, redis)
    assert routes["create"].call_count == 2, "no second channel is opened"
    create = (await deliveries(sessionmaker))["slack:create_channel"]
    assert create.result == {"channel_id": "C0MADE", "channel_name": name}


async def test_without_the_scope_to_list_channels_a_taken_name_still_gets_a_suffix(
    fanout: tuple[Settings, httpx.AsyncClient, str],
    redis: ArqRedis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    settings, client, token = fanout
    with respx.mock() as router:
        routes = mock_slack(router)
        routes["create"].side_effect = [
            httpx.Response(200, json={"ok": False, "error": "name_taken"}),
            slack_ok(channel={"id": "C0INC2", "name": "inc-2"}),
        ]
        router.post(f"{SLACK_API}/conversations.list").mock(
            return_value=httpx.Response(200, json={"ok": False, "error": "missing_scope"})
        )
        await declare(client, token, severity="SEV3")
        await drain(settings, redis)
    create = (await deliveries(sessionmaker))["slack:create_channel"]
    assert (create.status, create.result) == ("done", {"channel_id": "C0INC2", "channel_name": "inc-2"})
