"""The process clock through simulated time: reminders, escalation, retrospectives and auto-close."""

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from arq import Worker, func
from arq.connections import ArqRedis, RedisSettings
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.auth.models import Scope
from app.comms import tick
from app.config import CalendarSettings, Settings
from app.deliveries.models import Delivery
from app.incidents.models import TimelineEntry
from app.jobs import worker as relay_worker
from tests.clock_helpers import (
    Headers,
    assign,
    at,
    declare,
    edit,
    frozen,
    move,
    person,
    send_update,
)
from tests.conftest import REDIS_URL, RelayApp, make_token

pytestmark = pytest.mark.usefixtures("clean_database")

Event = tuple[str, str, str]  # (when, incident, what)


async def clock_deliveries(maker: async_sessionmaker[AsyncSession]) -> list[Delivery]:
    async with maker() as session:
        rows = await session.scalars(
            select(Delivery)
            .where(col(Delivery.idempotency_key).contains(":clock:"))
            .order_by(col(Delivery.id))
        )
        return list(rows.all())


def event(delivery: Delivery) -> Event:
    ref, _, rest = delivery.idempotency_key.partition(":clock:")
    what = rest.split(":")[0]
    if what.endswith("-update"):
        what += "#" + rest.rsplit(":", 1)[1]  # which overdue period
    return (f"{delivery.created_at:%a %H:%M}", ref, what)


async def status_of(client: httpx.AsyncClient, headers: Headers, ref: str) -> dict[str, Any]:
    result: dict[str, Any] = (await client.get(f"/api/v1/incidents/{ref}", headers=headers)).json()
    return result


async def test_a_sev1_and_a_sev3_through_a_simulated_day(
    client: httpx.AsyncClient,
    writer: Headers,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    with frozen(at("2026-11-23 09:00")) as now:
        sev1 = await declare(client, writer, severity="SEV1", functionality="Logging in")
        sev3 = await declare(client, writer, severity="SEV3", functionality="Search")
        ada = await person(client, writer, "Ada", "U0ADA")
        lin = await person(client, writer, "Lin", "U0LIN")
        for ref in (sev1, sev3):
            await assign(client, writer, ref, "commander", ada)
        await assign(client, writer, sev1, "liaison", lin)

        # What the responders do, and when; the clock ticks every ten minutes around them.
        script = {
            "Mon 09:20": lambda: send_update(client, writer, sev1, audience="internal", template="update"),
            "Mon 10:10": lambda: send_update(client, writer, sev1, audience="internal", text="Rolling back."),
            "Mon 11:20": lambda: send_update(client, writer, sev1, audience="external", template="update"),
            "Mon 11:30": lambda: move(client, writer, sev1, status="mitigated", mitigation="Rolled back."),
            "Mon 12:00": lambda: move(client, writer, sev1, status="resolved", durable_reason="Reverted."),
            "Mon 12:10": lambda: send_update(client, writer, sev1, audience="external", template="resolved"),
            "Mon 12:20": lambda: edit(client, writer, sev1, report_completed=True),
            "Mon 13:30": lambda: move(client, writer, sev3, status="mitigated", mitigation="Reindexed."),
            "Mon 14:00": lambda: move(client, writer, sev3, status="resolved", durable_reason="Reindexed."),
            "Mon 14:30": lambda: edit(client, writer, sev3, report_completed=True, customer_confirmed=True),
            "Tue 10:00": lambda: edit(client, writer, sev1, retrospective_at="2026-11-24T15:00:00+00:00"),
        }
        while now.now() <= at("2026-11-24 10:30"):
            action = script.get(f"{now.now():%a %H:%M}")
            if action is not None:
                await action()
            await tick.tick(settings, sessionmaker)
            await tick.tick(settings, sessionmaker)  # a second tick in the same minute changes nothing
            now.advance(timedelta(minutes=10))

        events = [event(d) for d in await clock_deliveries(sessionmaker)]
        assert events == [
            ("Mon 09:30", sev1, "escalation"),
            ("Mon 09:30", sev3, "internal-update#0"),
            ("Mon 09:30", sev3, "escalation"),
            ("Mon 09:50", sev1, "internal-update#0"),
            ("Mon 10:00", sev3, "internal-update#1"),
            ("Mon 10:30", sev3, "internal-update#2"),
            ("Mon 10:40", sev1, "internal-update#0"),
            ("Mon 11:00", sev1, "external-update#0"),
            ("Mon 11:00", sev3, "internal-update#3"),
            ("Mon 11:10", sev1, "internal-update#1"),
            ("Mon 11:30", sev3, "internal-update#4"),
            ("Mon 12:00", sev1, "retro-proposal"),
            ("Mon 12:00", sev3, "internal-update#5"),
            ("Mon 12:30", sev3, "internal-update#6"),
            ("Mon 13:00", sev3, "internal-update#7"),
            ("Mon 13:00", sev3, "external-update#0"),
            ("Mon 14:00", sev3, "retro-proposal"),
            ("Tue 09:00", sev1, "retro-reminder"),
        ]
        rows = await clock_deliveries(sessionmaker)
        texts = {event(d): d.payload["text"] for d in rows}
        assert texts[("Mon 09:50", sev1, "internal-update#0")].startswith("<@U0ADA> (commander)")
        assert texts[("Mon 11:00", sev1, "external-update#0")].startswith("<@U0LIN> (liaison)")
        assert texts[("Mon 13:00", sev3, "external-update#0")].startswith("<@U0ADA> (commander)")
        assert "due by Tue 2026-11-24 17:00 UTC" in texts[("Mon 12:00", sev1, "retro-proposal")]
        assert "proposes Tue 2026-11-24 10:00 UTC" in texts[("Mon 12:00", sev1, "retro-proposal")]
        assert "due by Wed 2026-11-25 17:00 UTC" in texts[("Mon 14:00", sev3, "retro-proposal")]
        escalation = next(d for d in rows if d.idempotency_key == f"{sev1}:clock:escalation")
        assert escalation.payload["channel"] == "new-incidents"
        assert "still not resolved 30 minutes after it was declared" in escalation.payload["text"]

        closed = await status_of(client, writer, sev3)
        assert closed["status"] == "closed"
        assert closed["closed_at"] == "2026-11-23T14:30:00Z"  # the customer confirmed and the report was done
        resolved = await status_of(client, writer, sev1)
        assert resolved["status"] == "resolved"
        assert resolved["next_internal_update_due_at"] is None
        # 12:10 Monday + 48 working hours (nine to five): the weekend does not count.
        assert resolved["autoclose_at"] == "2026-12-01T12:10:00Z"

        now.advance(timedelta(days=1))  # Wednesday: the retrospective is booked, nothing more to say
        assert await tick.tick(settings, sessionmaker) == 0
        now.advance(at("2026-12-01 12:09") - now.now())
        assert await tick.tick(settings, sessionmaker) == 0
        now.advance(timedelta(minutes=1))
        assert await tick.tick(settings, sessionmaker) == 1
        assert (await status_of(client, writer, sev1))["status"] == "closed"
        now.advance(timedelta(days=1))
        assert await tick.tick(settings, sessionmaker) == 0, "a closed incident is left alone"

    async with sessionmaker() as session:
        entries = (
            await session.scalars(select(TimelineEntry).where(col(TimelineEntry.source) == "clock"))
        ).all()
    assert sum(1 for e in entries if e.kind == "event") == len(events)
    closing = [e for e in entries if e.kind == "status_change"]
    assert [(e.author_name, e.data["to"] if e.data else None) for e in closing] == [
        ("Relay process clock", "closed"),
        ("Relay process clock", "closed"),
    ]


async def test_the_auto_close_wait_skips_a_weekend_and_a_holiday(
    client: httpx.AsyncClient,
    writer: Headers,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    holiday = settings.model_copy(update={"calendar": CalendarSettings(holidays=[date(2026, 11, 26)])})
    with frozen(at("2026-11-23 09:00")) as now:
        ref = await declare(client, writer, severity="SEV2")
        await move(client, writer, ref, status="resolved", durable_reason="Config reverted.")
        await edit(client, writer, ref, report_completed=True, retrospective_at="2026-11-24T10:00:00+00:00")
        now.advance(timedelta(hours=3, minutes=5))
        await send_update(client, writer, ref, audience="external", template="resolved")
        # Monday 12:05 + 48 working hours: Thursday is a holiday and the weekend does not count.
        expected = at("2026-12-02 12:05")
        for moment in (at("2026-11-28 12:05"), at("2026-12-01 12:05"), expected - timedelta(minutes=1)):
            now.advance(moment - now.now())
            await tick.tick(holiday, sessionmaker)
            assert (await status_of(client, writer, ref))["status"] == "resolved", moment
        now.advance(expected - now.now())
        assert await tick.tick(holiday, sessionmaker) == 1
    incident = await status_of(client, writer, ref)
    assert incident["status"] == "closed"
    assert incident["closed_at"] == "2026-12-02T12:05:00Z"
    assert incident["autoclose_at"] == "2026-12-02T12:05:00Z"
    timeline = (await client.get(f"/api/v1/incidents/{ref}/timeline", headers=writer)).json()["items"]
    assert "no customer reply" in timeline[-1]["body"]


async def test_what_is_missing_to_close_is_reminded_once_per_working_day(
    client: httpx.AsyncClient,
    writer: Headers,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    with frozen(at("2026-11-27 12:00")) as now:  # resolved on a Friday, nothing else done
        ref = await declare(client, writer, severity="SEV2")
        await move(client, writer, ref, status="resolved", durable_reason="Config reverted.")
        moments = [
            "2026-12-07 11:50",
            "2026-12-07 12:00",  # 48 working hours after Friday noon
            "2026-12-07 16:50",
            "2026-12-08 08:50",  # before the working day
            "2026-12-08 09:00",
            "2026-12-08 12:00",
            "2026-12-12 10:00",  # a Saturday
            "2026-12-14 09:30",
        ]
        for moment in moments:
            now.advance(at(moment) - now.now())
            await tick.tick(settings, sessionmaker)
    reminders = [d for d in await clock_deliveries(sessionmaker) if ":close-reminder:" in d.idempotency_key]
    assert [f"{d.created_at:%a %d %H:%M}" for d in reminders] == [
        "Mon 07 12:00",
        "Tue 08 09:00",
        "Mon 14 09:30",
    ]
    text = reminders[0].payload["text"]
    assert text.startswith("Nobody holds the commander role.")
    assert "the incident report" in text
    assert "the resolved message to customers" in text
    assert (await status_of(client, writer, ref))["status"] == "resolved"


async def test_two_workers_ticking_together_produce_one_reminder(
    client: httpx.AsyncClient,
    writer: Headers,
    settings: Settings,
    redis: ArqRedis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    workers = settings.model_copy(update={"redis": settings.redis.model_copy(update={"url": REDIS_URL})})
    contexts: list[dict[str, Any]] = [{"settings": workers, "redis": redis} for _ in range(2)]
    with frozen(at("2026-11-23 09:00")) as now:
        ref = await declare(client, writer, severity="SEV1")
        for ctx in contexts:  # each worker with its own engine and connections, as separate processes have
            await relay_worker.startup(ctx)
        try:
            now.advance(timedelta(minutes=31))
            rounds = [
                sorted(await asyncio.gather(*(relay_worker.run_process_clock(ctx) for ctx in contexts)))
                for _ in range(3)
            ]
        finally:
            for ctx in contexts:
                await relay_worker.shutdown(ctx)
    assert rounds == [[0, 2], [0, 0], [0, 0]]
    assert [event(d) for d in await clock_deliveries(sessionmaker)] == [
        ("Mon 09:31", ref, "internal-update#0"),
        ("Mon 09:31", ref, "escalation"),
    ]
    async with sessionmaker() as session:
        entries = (
            await session.scalars(select(TimelineEntry).where(col(TimelineEntry.source) == "clock"))
        ).all()
    assert len(entries) == 2


@pytest.fixture
async def burst_worker(settings: Settings, redis: ArqRedis) -> AsyncIterator[Worker]:
    del redis  # taken for its empty queue
    worker = Worker(
        functions=[func(relay_worker.run_process_clock, name="run_process_clock")],
        redis_settings=RedisSettings.from_dsn(REDIS_URL),
        on_startup=relay_worker.startup,
        on_shutdown=relay_worker.shutdown,
        ctx={
            "settings": settings.model_copy(
                update={"redis": settings.redis.model_copy(update={"url": REDIS_URL})}
            )
        },
        burst=True,
        poll_delay=0.02,
        handle_signals=False,
    )
    yield worker
    await worker.close()


async def test_the_cron_job_runs_the_tick_in_an_arq_worker(
    client: httpx.AsyncClient,
    writer: Headers,
    redis: ArqRedis,
    burst_worker: Worker,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    assert "cron:run_process_clock" in {job.name for job in relay_worker.WorkerSettings.cron_jobs}
    with frozen(at("2026-11-23 09:00")) as now:
        await declare(client, writer, severity="SEV3")
        now.advance(timedelta(minutes=30))
        # Two workers enqueueing the same scheduled tick: the job id lets only one through.
        first = await redis.enqueue_job("run_process_clock", _job_id="cron:run_process_clock:1")
        second = await redis.enqueue_job("run_process_clock", _job_id="cron:run_process_clock:1")
        assert first is not None
        assert second is None
        await burst_worker.async_run()
    assert burst_worker.jobs_complete == 1
    assert [event(d)[2] for d in await clock_deliveries(sessionmaker)] == ["internal-update#0", "escalation"]


async def test_embedded_mode_runs_the_same_tick_in_the_api_process(
    settings: Settings, relay_app: RelayApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    fast = settings.model_copy(update={"policy": settings.policy.model_copy(update={"tick_seconds": 1})})
    token = {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.write)}"}
    with frozen(at("2026-11-23 09:00")) as now:
        async with relay_app(fast) as app:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
                ref = await declare(client, token, severity="SEV2")
                now.advance(timedelta(minutes=30))
                for _ in range(50):
                    await asyncio.sleep(0.1)
                    if len(await clock_deliveries(sessionmaker)) == 2:
                        break
                await asyncio.sleep(0.2)
                await app.state.dispatcher.drain()
    rows = await clock_deliveries(sessionmaker)
    assert [event(d) for d in rows] == [
        ("Mon 09:30", ref, "internal-update#0"),
        ("Mon 09:30", ref, "escalation"),
    ]
    assert {d.status for d in rows} == {"sandboxed"}, "sent by the API process itself"
