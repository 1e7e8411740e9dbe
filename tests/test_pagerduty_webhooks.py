"""PagerDuty webhooks: verified, recorded once, applied once, in order or not."""

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app import clock
from app.auth.models import Scope
from app.config import DatabaseSettings, PagerDutySettings, Settings
from app.db.session import unit_of_work
from app.deliveries.models import Delivery
from app.incidents.models import Incident, IncidentLink, TimelineEntry
from app.main import create_app
from app.people.models import OwnedService, Person, Team
from tests.conftest import RelayApp, make_token
from tests.fake_pagerduty import LIFE, envelope_bytes, fixture, signed_headers
from tests.test_incidents_api import PROBLEM

pytestmark = pytest.mark.usefixtures("clean_database")

SECRET = "whsec-current"
OLD_SECRET = "whsec-previous"
PD_INCIDENT = "Q2KSTH1X9B7YRE"
_ids = itertools.count(1)


@dataclass
class Relay:
    app: FastAPI
    client: httpx.AsyncClient
    maker: async_sessionmaker[AsyncSession]
    auth: dict[str, str]

    async def post(self, envelope: dict[str, Any], *, webhook_id: str | None = None) -> httpx.Response:
        body = envelope_bytes(envelope)
        headers = signed_headers(body, SECRET, webhook_id=webhook_id or f"wh-{next(_ids)}")
        return await self.client.post("/webhooks/pagerduty", content=body, headers=headers)

    async def deliver(self, *names: str) -> list[httpx.Response]:
        """Post fixture events and wait until every job they caused has run."""
        responses = [await self.post(fixture(f"incident.{name}")) for name in names]
        await self.settle()
        return responses

    async def settle(self) -> None:
        await self.app.state.dispatcher.drain()

    async def incidents(self) -> list[Incident]:
        async with self.maker() as session:
            return list((await session.scalars(select(Incident).order_by(col(Incident.id)))).all())

    async def timeline(self, incident_id: int) -> list[TimelineEntry]:
        async with self.maker() as session:
            rows = await session.scalars(
                select(TimelineEntry)
                .where(col(TimelineEntry.incident_id) == incident_id)
                .order_by(col(TimelineEntry.id))
            )
            return list(rows.all())

    async def receipts(self) -> list[dict[str, Any]]:
        response = await self.client.get("/api/v1/webhooks/receipts?provider=pagerduty", headers=self.auth)
        assert response.status_code == 200
        listed: list[dict[str, Any]] = response.json()
        return listed


def pd_settings(settings: Settings, **pagerduty: Any) -> Settings:
    values: dict[str, Any] = {"webhook_secrets": [SecretStr(OLD_SECRET), SecretStr(SECRET)], **pagerduty}
    return settings.model_copy(update={"pagerduty": PagerDutySettings(**values)})


@pytest.fixture
def auto_declare() -> str:
    return "all"


@pytest.fixture
async def relay(
    settings: Settings,
    relay_app: RelayApp,
    sessionmaker: async_sessionmaker[AsyncSession],
    auto_declare: str,
) -> AsyncIterator[Relay]:
    auth = {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.admin)}"}
    async with relay_app(pd_settings(settings, auto_declare=auto_declare)) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
            yield Relay(app, client, sessionmaker, auth)
            await app.state.dispatcher.drain()


async def test_a_signed_ping_is_recorded_and_acknowledged(relay: Relay) -> None:
    response = await relay.post(fixture("pagey.ping"), webhook_id="wh-ping")
    await relay.settle()
    assert response.status_code == 202
    assert response.json()["duplicate"] is False
    (receipt,) = await relay.receipts()
    assert receipt["dedupe_key"] == "wh-ping"
    assert receipt["event_type"] == "pagey.ping"
    assert receipt["status"] == "ignored"
    assert receipt["reason"] == "PagerDuty's test ping"


async def test_a_signature_under_the_previous_secret_passes_during_rotation(relay: Relay) -> None:
    body = envelope_bytes(fixture("pagey.ping"))
    for secrets in ((OLD_SECRET,), (SECRET,), ("not-ours", SECRET)):
        headers = signed_headers(body, *secrets)
        assert (
            await relay.client.post("/webhooks/pagerduty", content=body, headers=headers)
        ).status_code == 202


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (None, "header is missing"),
        ("v1=" + "0" * 64, "no signature"),
        ("signed-by-me", "no v1 signature"),
    ],
)
async def test_forgeries_get_401_and_are_kept_as_refused(
    relay: Relay, signature: str | None, reason: str
) -> None:
    body = envelope_bytes(fixture("incident.triggered"))
    headers = signed_headers(body, SECRET)
    if signature is None:
        del headers["X-PagerDuty-Signature"]
    else:
        headers["X-PagerDuty-Signature"] = signature
    response = await relay.client.post("/webhooks/pagerduty", content=body, headers=headers)
    await relay.settle()
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert reason in response.json()["detail"]
    (receipt,) = await relay.receipts()
    assert receipt["status"] == "refused"
    assert reason in receipt["reason"]
    assert await relay.incidents() == [], "a forgery changes nothing"


async def test_a_body_changed_after_signing_is_refused(relay: Relay) -> None:
    body = envelope_bytes(fixture("incident.triggered"))
    headers = signed_headers(body, SECRET)
    tampered = body.replace(b"Login API error rate", b"Login API error fate")
    response = await relay.client.post("/webhooks/pagerduty", content=tampered, headers=headers)
    assert response.status_code == 401


async def test_without_a_configured_secret_every_webhook_waits_with_503(
    settings: Settings, relay_app: RelayApp
) -> None:
    async with relay_app(settings) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
            body = envelope_bytes(fixture("pagey.ping"))
            response = await client.post(
                "/webhooks/pagerduty", content=body, headers=signed_headers(body, SECRET)
            )
    assert response.status_code == 503
    assert "RELAY_PAGERDUTY_WEBHOOK_SECRETS" in response.json()["detail"]


async def test_an_unreachable_database_answers_503_so_pagerduty_retries(settings: Settings) -> None:
    # Port 9 (discard) is closed here: every connection attempt is refused at once.
    down = pd_settings(settings).model_copy(
        update={"database": DatabaseSettings(url="postgresql+asyncpg://relay@127.0.0.1:9/relay")}
    )
    application = create_app(down)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
            body = envelope_bytes(fixture("incident.triggered"))
            response = await client.post(
                "/webhooks/pagerduty", content=body, headers=signed_headers(body, SECRET)
            )
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"] == "5"


async def test_the_same_webhook_twice_is_acknowledged_twice_and_applied_once(relay: Relay) -> None:
    envelope = fixture("incident.triggered")
    first = await relay.post(envelope, webhook_id="wh-1")
    await relay.settle()
    again = await relay.post(envelope, webhook_id="wh-1")
    await relay.settle()
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["duplicate"] is False
    assert again.json() == {**first.json(), "duplicate": True, "status": "applied"}
    (incident,) = await relay.incidents()
    (receipt,) = await relay.receipts()
    assert receipt["duplicates"] == 1
    assert receipt["incident_id"] == incident.id

    # The same event through a second subscription (another webhook id) finds its entry and stops.
    other = await relay.post(envelope, webhook_id="wh-other-subscription")
    await relay.settle()
    assert other.json()["duplicate"] is False
    assert len(await relay.incidents()) == 1
    newest = (await relay.receipts())[0]
    assert newest["status"] == "ignored"
    assert "already applied" in newest["reason"]


async def test_without_a_webhook_id_the_event_id_deduplicates(relay: Relay) -> None:
    body = envelope_bytes(fixture("incident.triggered"))
    headers = signed_headers(body, SECRET)
    del headers["X-Webhook-Id"]
    first = await relay.client.post("/webhooks/pagerduty", content=body, headers=headers)
    again = await relay.client.post("/webhooks/pagerduty", content=body, headers=headers)
    await relay.settle()
    assert again.json()["duplicate"] is True
    assert (await relay.receipts())[0]["dedupe_key"] == fixture("incident.triggered")["event"]["id"]
    assert first.json()["receipt_id"] == again.json()["receipt_id"]


async def _final_state(relay: Relay) -> tuple[Incident, list[TimelineEntry]]:
    (incident,) = await relay.incidents()
    assert incident.id is not None
    return incident, await relay.timeline(incident.id)


async def test_the_fixture_incident_s_whole_life_in_order(relay: Relay) -> None:
    for name in LIFE:
        (response,) = await relay.deliver(name)
        assert response.status_code == 202
    incident, timeline = await _final_state(relay)
    assert incident.status == "mitigated", "PagerDuty's resolve means mitigated: Relay owns resolved"
    assert incident.priority == "P2"
    assert incident.title == "Login API error rate above 20%"
    assert incident.service == "Login API"
    assert incident.severity == "SEV1", "P1 in PagerDuty"
    assert incident.investigating_at is not None

    by_source = [(e.kind, e.source, e.author_name, e.body) for e in timeline]
    assert ("status_change", "pagerduty", "Dana Okafor", "Status: declared → investigating") in by_source
    assert ("status_change", "pagerduty", "Dana Okafor", "Status: investigating → mitigated") in by_source
    assert ("event", "pagerduty", "Dana Okafor", "Acknowledged in PagerDuty by Dana Okafor") in by_source
    notes = [e for e in timeline if e.kind == "note"]
    assert [(n.body, n.author_name) for n in notes] == [
        ("Rolled back deploy 2026.11.20-3; error rate falling.", "Lee Park")
    ]
    declared = timeline[0]
    assert (declared.author_name, declared.source) == ("PagerDuty", "pagerduty"), "triggered by automation"
    assert {r["status"] for r in await relay.receipts()} == {"applied"}

    async with relay.maker() as session:
        (link,) = (await session.scalars(select(IncidentLink))).all()
        actions = {d.action for d in (await session.scalars(select(Delivery))).all()}
    assert (link.kind, link.external_id) == ("pagerduty_incident", PD_INCIDENT)
    assert link.url == "https://example.pagerduty.com/incidents/Q2KSTH1X9B7YRE"
    assert not any(a.startswith("pagerduty.") for a in actions), "nothing is echoed back to PagerDuty"
    assert "slack.create_channel" in actions


@pytest.mark.parametrize(
    "order",
    [
        ("triggered", "resolved", "acknowledged", "priority_updated", "annotated"),
        ("triggered", "annotated", "priority_updated", "resolved", "acknowledged"),
        tuple(reversed(LIFE)),
    ],
    ids=["acknowledged-after-resolved", "shuffled", "reversed"],
)
async def test_the_same_life_out_of_order_ends_in_the_same_state(
    relay: Relay, order: tuple[str, ...]
) -> None:
    for name in order:  # one at a time, as PagerDuty would have to deliver them to reorder them
        await relay.deliver(name)
    incident, timeline = await _final_state(relay)
    assert incident.status == "mitigated", "a late acknowledgement does not move the incident back"
    assert incident.priority == "P2"
    assert [e.body for e in timeline if e.kind == "note"] == [
        "Rolled back deploy 2026.11.20-3; error rate falling."
    ]
    assert {r["status"] for r in await relay.receipts()} == {"applied"}


async def test_a_burst_of_the_whole_life_converges_to_the_same_state(
    settings: Settings, relay_app: RelayApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # All five at once: their jobs run side by side, and in whatever order they get the database.
    fast = pd_settings(settings)
    fast = fast.model_copy(
        update={
            "delivery": fast.delivery.model_copy(
                update={"sweep_interval_seconds": 1, "backoff_base_seconds": 0.05, "backoff_max_seconds": 0.2}
            )
        }
    )
    auth = {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.admin)}"}
    async with relay_app(fast) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
            relay = Relay(app, client, sessionmaker, auth)
            await asyncio.gather(*(relay.post(fixture(f"incident.{name}")) for name in LIFE))
            deadline = time.monotonic() + 30
            while {r["status"] for r in await relay.receipts()} != {"applied"}:
                assert time.monotonic() < deadline, [
                    (r["event_type"], r["status"], r["reason"]) for r in await relay.receipts()
                ]
                await asyncio.sleep(0.2)
            await relay.settle()
            incident, timeline = await _final_state(relay)
    assert incident.status == "mitigated"
    assert incident.priority == "P2"
    assert [e.body for e in timeline if e.kind == "note"] == [
        "Rolled back deploy 2026.11.20-3; error rate falling."
    ]


async def test_an_older_priority_change_does_not_undo_a_newer_one(relay: Relay) -> None:
    newer = fixture("incident.priority_updated")
    newer["event"].update(id="01NEWER", occurred_at="2026-11-20T10:00:00.000Z")
    newer["event"]["data"]["priority"]["summary"] = "P3"
    await relay.deliver("triggered")
    await relay.post(newer)
    await relay.settle()
    await relay.deliver("priority_updated")  # P2, at 09:45: older than the P3 already applied
    (incident,) = await relay.incidents()
    assert incident.priority == "P3"
    assert "older than the change already applied" in (await relay.receipts())[0]["reason"]


async def test_an_acknowledger_relay_knows_is_the_author(relay: Relay) -> None:
    async with unit_of_work(relay.maker) as session:
        person = Person(
            name="Dana O.", email="dana@example.com", pagerduty_user_id="PUSR001", created_at=clock.now()
        )
        session.add(person)
        await session.flush()
        person_id = person.id
    await relay.deliver("triggered")
    await relay.deliver("acknowledged")
    incident, timeline = await _final_state(relay)
    ack = next(e for e in timeline if e.body.startswith("Acknowledged"))
    assert (ack.author_id, ack.author_name) == (person_id, "Dana Okafor")


async def test_a_trigger_whose_key_is_a_relay_reference_links_that_incident(
    relay: Relay, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await make_token(sessionmaker, Scope.write)
    declared = await relay.client.post(
        "/api/v1/incidents",
        json={
            "title": "Checkout fails",
            "service": "checkout",
            "functionality": "Paying",
            "state": "down",
            "audience": "all users",
            "severity": "SEV2",
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert declared.status_code == 201
    for name in ("triggered", "acknowledged"):
        envelope = fixture(f"incident.{name}")
        envelope["event"]["data"]["incident_key"] = "INC-1"  # the key Relay pages with
        await relay.post(envelope)
        await relay.settle()
    (incident,) = await relay.incidents()
    assert incident.status == "investigating"
    assert incident.title == "Checkout fails"


async def test_a_trigger_on_a_service_with_an_open_incident_joins_it(relay: Relay) -> None:
    await relay.deliver("triggered")
    second = fixture("incident.triggered")
    second["event"]["id"] = "01SECOND"
    second["event"]["data"].update(id="QSECOND", incident_key="login-api-latency", number=4813)
    await relay.post(second)
    await relay.settle()
    (incident,) = await relay.incidents()
    async with relay.maker() as session:
        links = sorted(link.external_id for link in (await session.scalars(select(IncidentLink))).all())
    assert links == [PD_INCIDENT, "QSECOND"]
    assert incident.id is not None


@pytest.mark.parametrize("auto_declare", ["mapped"])
async def test_mapped_only_declares_for_a_team_s_service(relay: Relay) -> None:
    await relay.deliver("triggered")
    assert await relay.incidents() == []
    (receipt,) = await relay.receipts()
    assert receipt["status"] == "ignored"
    assert "not mapped to a team" in receipt["reason"]

    async with unit_of_work(relay.maker) as session:
        team = Team(name="Core Services", pagerduty_service_id="PSVC123", created_at=clock.now())
        session.add(team)
        await session.flush()
        assert team.id is not None
        session.add(OwnedService(name="login-api", team_id=team.id))
    acknowledged = fixture("incident.acknowledged")
    await relay.post(acknowledged)  # a later event still carries the whole incident: it declares
    await relay.settle()
    (incident,) = await relay.incidents()
    assert (incident.service, incident.functionality, incident.team_id) == ("login-api", "Login API", team.id)
    assert incident.status == "investigating"


@pytest.mark.parametrize("auto_declare", ["none"])
async def test_none_declares_nothing_and_says_why(relay: Relay) -> None:
    await relay.deliver(*LIFE)
    assert await relay.incidents() == []
    reasons = {r["reason"] for r in await relay.receipts()}
    assert any("RELAY_PAGERDUTY_AUTO_DECLARE is none" in reason for reason in reasons)
    assert any("does not carry the incident" in reason for reason in reasons), (
        "annotated has only a reference"
    )


async def test_other_event_types_are_recorded_and_acknowledged(relay: Relay) -> None:
    await relay.deliver("triggered")
    delegated = fixture("incident.triggered")
    delegated["event"].update(id="01DELEGATED", event_type="incident.delegated")
    service = {
        "event": {"id": "01SVC", "event_type": "service.updated", "resource_type": "service", "data": {}}
    }
    for envelope in (delegated, service):
        assert (await relay.post(envelope)).status_code == 202
    await relay.settle()
    newest = await relay.receipts()
    assert [r["reason"] for r in newest[:2]] == [
        "Relay does not act on service.updated",
        "Relay does not act on incident.delegated",
    ]


async def test_timeline_events_for_reassignment_escalation_responders_and_status_updates(
    relay: Relay,
) -> None:
    await relay.deliver("triggered")
    reassigned = fixture("incident.triggered")
    reassigned["event"].update(id="01REASSIGN", event_type="incident.reassigned")
    reassigned["event"]["data"]["assignees"] = [{"id": "PUSR002", "summary": "Lee Park"}]
    escalated = fixture("incident.triggered")
    escalated["event"].update(id="01ESCALATE", event_type="incident.escalated")
    reference = {"id": PD_INCIDENT, "type": "incident_reference"}
    responder = {
        "event": {
            "id": "01RESPONDER",
            "event_type": "incident.responder.added",
            "resource_type": "incident",
            "agent": {"id": "PUSR002", "summary": "Lee Park"},
            "data": {
                "incident": reference,
                "type": "incident_responder",
                "user": {"summary": "Sam DBA"},
                "message": "Please look at the primary",
            },
        }
    }
    update = {
        "event": {
            "id": "01STATUS",
            "event_type": "incident.status_update_published",
            "resource_type": "incident",
            "agent": {"id": "PUSR002", "summary": "Lee Park"},
            "data": {"incident": reference, "type": "incident_status_update", "message": "Rollback done"},
        }
    }
    for envelope in (reassigned, escalated, responder, update):
        await relay.post(envelope)
    await relay.settle()
    incident, timeline = await _final_state(relay)
    bodies = [e.body for e in timeline if e.source == "pagerduty" and e.kind in ("event", "communication")]
    assert sorted(body for body in bodies if not body.startswith("Triggered")) == [
        "Escalated in PagerDuty; now assigned to Dana Okafor",
        "Reassigned in PagerDuty to Lee Park by PagerDuty",
        "Responder requested in PagerDuty by Lee Park: Sam DBA — Please look at the primary",
        "Status update published in PagerDuty by Lee Park: Rollback done",
    ]
