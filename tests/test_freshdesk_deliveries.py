"""Freshdesk deliveries: Retry-After, the reserved share of the API budget, and refused closures."""

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app import clock
from app.auth.models import Scope
from app.auth.service import Actor
from app.clock import FrozenClock
from app.db.session import unit_of_work
from app.deliveries import runner
from app.deliveries import service as deliveries
from app.deliveries.models import Delivery
from app.incidents import service as incident_service
from app.incidents.models import TimelineEntry
from app.incidents.schemas import IncidentCreate
from app.integrations.clients import Clients
from app.integrations.errors import TransientError
from app.integrations.freshdesk.models import FreshdeskTicket, TicketState
from app.integrations.freshdesk.ratelimit import RateBudget
from app.jobs.queue import InProcessDispatcher
from tests.factories import declaration
from tests.freshdesk_support import FRESHDESK_API, freshdesk_settings

pytestmark = pytest.mark.usefixtures("clean_database")
TICKETS = f"{FRESHDESK_API}/api/v2/tickets"


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    fixed = FrozenClock(clock.Clock().now())
    clock.install(fixed)
    yield fixed
    clock.install(clock.Clock())


@pytest.fixture
async def runtime(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[runner.Runtime]:
    """One worker's runtime; attempts are made by calling ``runner.deliver`` directly."""
    settings = freshdesk_settings(database_url)
    clients = Clients.from_settings(settings)
    yield runner.Runtime(settings, sessionmaker, clients, InProcessDispatcher())
    await clients.aclose()


async def plan(
    rt: runner.Runtime, action: str, payload: dict[str, Any], incident_id: int | None = None
) -> int:
    async with unit_of_work(rt.sessionmaker) as session:
        delivery = await deliveries.add(
            session,
            provider="freshdesk",
            action=action,
            payload=payload,
            idempotency_key=f"test:{action}:{payload['ticket_id']}:{payload.get('fields', '')}",
            settings=rt.settings.delivery,
            incident_id=incident_id,
        )
    assert delivery.id is not None
    return delivery.id


async def stored(rt: runner.Runtime, delivery_id: int) -> Delivery:
    async with rt.sessionmaker() as session:
        delivery = await session.get(Delivery, delivery_id)
    assert delivery is not None
    return delivery


async def test_a_429_waits_for_retry_after_and_holds_the_other_freshdesk_calls_too(
    runtime: runner.Runtime, frozen: FrozenClock
) -> None:
    with respx.mock() as router:
        limited = router.post(f"{TICKETS}/30571/reply")
        limited.side_effect = [
            httpx.Response(
                429,
                # Retry-After is the provider's exact word; the empty budget says nothing more.
                headers={"Retry-After": "30", "X-RateLimit-Total": "200", "X-RateLimit-Remaining": "0"},
                json={"message": "rate limited"},
            ),
            httpx.Response(201, json={"id": 7001}),
        ]
        other = router.post(f"{TICKETS}/30572/reply").mock(
            return_value=httpx.Response(201, json={"id": 7002})
        )
        first = await plan(runtime, "freshdesk.reply", {"ticket_id": 30571, "body": "<p>Update</p>"})
        second = await plan(runtime, "freshdesk.reply", {"ticket_id": 30572, "body": "<p>Update</p>"})

        assert await runner.deliver(runtime, first) == "failed_will_retry"
        waiting = await stored(runtime, first)
        assert "HTTP 429" in (waiting.last_error or "")
        assert waiting.next_attempt_at >= frozen.now() + timedelta(seconds=30)

        assert await runner.deliver(runtime, second) == "failed_will_retry"
        assert other.call_count == 0, "the account is rate limited for every ticket, not just one"
        assert (await stored(runtime, second)).last_error == (
            "holding back Freshdesk calls for 30s to keep 20% of the account's API budget for others"
        )

        frozen.advance(timedelta(seconds=29))
        assert await runner.deliver(runtime, first) == "skipped", "not before Retry-After"
        frozen.advance(timedelta(seconds=2))
        assert await runner.deliver(runtime, first) == "done"
        assert await runner.deliver(runtime, second) == "done"
    assert limited.call_count == 2
    assert (await stored(runtime, first)).result == {"ticket_id": 30571, "conversation_id": 7001}


async def test_below_the_reserved_share_of_the_budget_calls_pause_until_the_window_rolls_over(
    runtime: runner.Runtime, frozen: FrozenClock
) -> None:
    budget = {"X-RateLimit-Total": "200", "X-RateLimit-Used-CurrentRequest": "1"}
    with respx.mock() as router:
        router.post(f"{TICKETS}/30571/notes").mock(
            return_value=httpx.Response(
                201, json={"id": 1}, headers={**budget, "X-RateLimit-Remaining": "41"}
            )
        )
        low = router.post(f"{TICKETS}/30572/notes").mock(
            return_value=httpx.Response(
                201, json={"id": 2}, headers={**budget, "X-RateLimit-Remaining": "39"}
            )
        )
        later = router.post(f"{TICKETS}/30573/notes").mock(return_value=httpx.Response(201, json={"id": 3}))
        note = {"body": "<p>Links</p>", "private": True}
        above = await plan(runtime, "freshdesk.add_note", {"ticket_id": 30571, **note})
        below = await plan(runtime, "freshdesk.add_note", {"ticket_id": 30572, **note})
        held = await plan(runtime, "freshdesk.add_note", {"ticket_id": 30573, **note})

        assert await runner.deliver(runtime, above) == "done", "41 of 200 left is above the 20% reserve"
        assert await runner.deliver(runtime, below) == "done", "the call that reads 39 left was already made"
        assert await runner.deliver(runtime, held) == "failed_will_retry"
        assert later.call_count == 0
        waiting = await stored(runtime, held)
        assert waiting.last_error == (
            "holding back Freshdesk calls for 60s to keep 20% of the account's API budget for others"
        )
        assert waiting.next_attempt_at >= frozen.now() + timedelta(seconds=60)

        frozen.advance(timedelta(seconds=61))
        assert await runner.deliver(runtime, held) == "done"
    assert (low.call_count, later.call_count) == (1, 1)


def test_the_budget_ignores_missing_or_odd_headers() -> None:
    budget = RateBudget(reserve=0.5)
    for headers in (
        {},
        {"x-ratelimit-total": "0", "x-ratelimit-remaining": "0"},
        {"x-ratelimit-remaining": "x"},
    ):
        budget.observe(headers)
        budget.check()
    budget.observe({"x-ratelimit-total": "10", "x-ratelimit-remaining": "4"})
    with pytest.raises(TransientError) as caught:
        budget.check()
    assert caught.value.retry_after == pytest.approx(60, abs=1)


async def test_a_closure_refused_for_missing_fields_is_on_the_timeline_and_not_retried(
    runtime: runner.Runtime,
) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        actor = Actor(name="Dana", scope=Scope.write)
        incident = await incident_service.declare(
            session, IncidentCreate(**declaration()), actor, runtime.settings
        )
        now = clock.now()
        session.add(
            FreshdeskTicket(
                ticket_id=30571,
                state=TicketState.linked,
                incident_id=incident.id,
                created_at=now,
                updated_at=now,
            )
        )
    refusal = {
        "description": "Validation failed",
        "errors": [{"field": "cf_root_cause", "message": "It should not be blank", "code": "invalid_value"}],
    }
    with respx.mock() as router:
        close = router.put(f"{TICKETS}/30571").mock(return_value=httpx.Response(400, json=refusal))
        delivery_id = await plan(
            runtime, "freshdesk.update_ticket", {"ticket_id": 30571, "fields": {"status": 5}}, incident.id
        )
        assert await runner.deliver(runtime, delivery_id) == "dead"
    assert close.call_count == 1
    dead = await stored(runtime, delivery_id)
    assert dead.attempts == 1
    assert dead.last_error == (
        "HTTP 400 from Freshdesk PUT api/v2/tickets/30571: "
        "validation failed: cf_root_cause: It should not be blank"
    )
    async with runtime.sessionmaker() as session:
        entries = (
            await session.scalars(
                select(TimelineEntry)
                .where(
                    col(TimelineEntry.incident_id) == incident.id, col(TimelineEntry.source) == "freshdesk"
                )
                .order_by(col(TimelineEntry.id))
            )
        ).all()
    assert [e.body for e in entries] == [
        "Freshdesk refused to close ticket #30571: cf_root_cause: It should not be blank. "
        "Fill these in on the ticket, then retry the delivery."
    ]
    assert entries[0].data == {"ticket_id": 30571, "fields": {"status": 5}, "errors": refusal["errors"]}
