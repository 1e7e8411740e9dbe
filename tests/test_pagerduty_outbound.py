"""What Relay sends PagerDuty: pages, acknowledgements, resolutions, priorities, assignments, notes."""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app import clock
from app.auth.models import Scope
from app.auth.service import Actor
from app.config import PagerDutySettings, Settings
from app.db.session import unit_of_work
from app.deliveries import planning
from app.deliveries.models import Delivery
from app.incidents import service as incident_service
from app.incidents.models import IncidentLink
from app.incidents.schemas import IncidentCreate, TransitionIn
from app.people.models import OwnedService, Person, Team
from tests.conftest import PAGERDUTY_API, RelayApp, make_token
from tests.factories import declaration

pytestmark = pytest.mark.usefixtures("clean_database")

EVENTS_API = "https://events.pagerduty.test"
PRIORITIES = [{"id": f"PPRI{n}", "type": "priority", "name": f"P{n}"} for n in range(1, 5)]


@dataclass
class Relay:
    app: FastAPI
    client: httpx.AsyncClient
    maker: async_sessionmaker[AsyncSession]
    auth: dict[str, str]
    person_id: int

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.client.request(method, f"/api/v1{path}", headers=self.auth, **kwargs)
        assert response.status_code < 300, response.text
        await self.settle()
        return response

    async def settle(self, timeout: float = 15) -> None:
        """Wait until no delivery is pending or waiting for a retry."""
        deadline = time.monotonic() + timeout
        while True:
            await self.app.state.dispatcher.drain()
            rows = await self.deliveries()
            if all(d.status in ("done", "sandboxed", "dead") for d in rows):
                return
            assert time.monotonic() < deadline, [(d.action, d.status, d.last_error) for d in rows]
            await asyncio.sleep(0.1)

    async def deliveries(self, action: str | None = None) -> list[Delivery]:
        async with self.maker() as session:
            query = select(Delivery).order_by(col(Delivery.id))
            if action:
                query = query.where(col(Delivery.action) == action)
            return list((await session.scalars(query)).all())


def pd_settings(settings: Settings, **pagerduty: Any) -> Settings:
    values: dict[str, Any] = {
        "api_url": PAGERDUTY_API,
        "events_url": EVENTS_API,
        "api_token": SecretStr("pd-test-token"),
        "from_email": "relay@example.com",
        "default_service_id": "PDEFAULT",
        **pagerduty,
    }
    delivery = settings.delivery.model_copy(
        update={"sweep_interval_seconds": 1, "backoff_base_seconds": 0.05, "backoff_max_seconds": 0.2}
    )
    return settings.model_copy(update={"pagerduty": PagerDutySettings(**values), "delivery": delivery})


@pytest.fixture
def pagerduty() -> dict[str, Any]:
    return {}


@pytest.fixture
async def relay(
    settings: Settings,
    relay_app: RelayApp,
    sessionmaker: async_sessionmaker[AsyncSession],
    pagerduty: dict[str, Any],
) -> AsyncIterator[Relay]:
    async with unit_of_work(sessionmaker) as session:
        ana = Person(
            name="Ana Commander", email="ana@example.com", pagerduty_user_id="PANA", created_at=clock.now()
        )
        team = Team(name="Payments", pagerduty_service_id="PPAYMENTS", created_at=clock.now())
        session.add_all([ana, team])
        await session.flush()
        assert team.id is not None
        assert ana.id is not None
        session.add(OwnedService(name="checkout", team_id=team.id))
        person_id = ana.id
    auth = {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.write, person_id)}"}
    async with relay_app(pd_settings(settings, **pagerduty)) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
            yield Relay(app, client, sessionmaker, auth, person_id)
            await app.state.dispatcher.drain()


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{PAGERDUTY_API}/priorities").mock(
            return_value=httpx.Response(200, json={"priorities": PRIORITIES, "more": False})
        )
        router.post(f"{PAGERDUTY_API}/incidents", name="create").mock(
            return_value=httpx.Response(
                201, json={"incident": {"id": "PINC1", "html_url": "https://pd.test/incidents/PINC1"}}
            )
        )
        router.put(f"{PAGERDUTY_API}/incidents/PINC1", name="update").mock(
            return_value=httpx.Response(200, json={"incident": {"id": "PINC1"}})
        )
        router.post(f"{PAGERDUTY_API}/incidents/PINC1/notes", name="note").mock(
            return_value=httpx.Response(201, json={"note": {"id": "PNOTE1"}})
        )
        router.post(f"{EVENTS_API}/v2/enqueue", name="event").mock(
            side_effect=lambda request: httpx.Response(
                202, json={"status": "success", "dedup_key": json.loads(request.content)["dedup_key"]}
            )
        )
        yield router


def body(call: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(call.request.content)
    return parsed


async def declare_sev1(relay: Relay, **overrides: Any) -> str:
    fields = {"severity": "SEV1", "service": "checkout", "affects_end_users": True, **overrides}
    response = await relay.call("POST", "/incidents", json=declaration(**fields))
    reference: str = response.json()["reference"]
    return reference


async def test_a_sev1_pages_the_owning_team_with_p1_details_and_the_declarer(
    relay: Relay, api: respx.MockRouter
) -> None:
    reference = await declare_sev1(relay, summary="Card payments fail with 502.")
    (call,) = api["create"].calls
    incident = body(call)["incident"]
    assert incident["service"] == {"id": "PPAYMENTS", "type": "service_reference"}
    assert incident["incident_key"] == reference
    assert incident["urgency"] == "high"
    assert incident["priority"] == {"id": "PPRI1", "type": "priority_reference"}, "end users: P1"
    assert incident["title"].startswith(f"{reference}: Customers cannot log in")
    details = incident["body"]["details"]
    assert "\nSlack: #inc-" in details
    assert f"Relay: http://127.0.0.1:8000/api/v1/incidents/{reference}" in details
    assert details.endswith("Card payments fail with 502.")
    assert "assignments" not in incident, "no commander yet"
    assert call.request.headers["From"] == "ana@example.com", "the declarer is a PagerDuty user"
    assert call.request.headers["Authorization"] == "Token token=pd-test-token"

    async with relay.maker() as session:
        (link,) = (await session.scalars(select(IncidentLink))).all()
    assert (link.kind, link.external_id, link.url) == (
        "pagerduty_incident",
        "PINC1",
        "https://pd.test/incidents/PINC1",
    )


async def test_a_sev2_does_not_page_until_it_is_raised_to_sev1(relay: Relay, api: respx.MockRouter) -> None:
    response = await relay.call("POST", "/incidents", json=declaration(severity="SEV2"))
    reference = response.json()["reference"]
    assert not api["create"].called
    await relay.call(
        "POST",
        f"/incidents/{reference}/links",
        json={
            "kind": "freshdesk_ticket",
            "external_id": "30571",
            "url": "https://acme.freshdesk.com/a/tickets/30571",
        },
    )
    await relay.call("PATCH", f"/incidents/{reference}", json={"severity": "SEV1", "version": 1})
    (call,) = api["create"].calls
    incident = body(call)["incident"]
    assert "Freshdesk: https://acme.freshdesk.com/a/tickets/30571" in incident["body"]["details"]
    assert incident["priority"]["id"] == "PPRI2", "SEV1 without end users: P2"
    assert incident["service"]["id"] == "PDEFAULT", "auth-api has no owning team"


async def test_moves_acknowledge_then_resolve_and_already_done_counts_as_done(
    relay: Relay, api: respx.MockRouter
) -> None:
    reference = await declare_sev1(relay)
    api["update"].side_effect = [
        httpx.Response(400, json={"error": {"code": 1002, "message": "Incident Already Acknowledged"}}),
        httpx.Response(400, json={"error": {"code": 1001, "message": "Incident Already Resolved"}}),
    ]
    await relay.call("POST", f"/incidents/{reference}/transitions", json={"status": "investigating"})
    await relay.call("POST", f"/incidents/{reference}/transitions", json={"status": "mitigated"})
    await relay.call(
        "POST",
        f"/incidents/{reference}/transitions",
        json={"status": "resolved", "durable_reason": "Rollback."},
    )
    sent = [body(call)["incident"] for call in api["update"].calls]
    assert sent == [
        {"type": "incident_reference", "status": "acknowledged"},
        {
            "type": "incident_reference",
            "status": "resolved",
            "resolution": f"{reference} is resolved in Relay.",
        },
    ]
    assert {call.request.headers["From"] for call in api["update"].calls} == {"ana@example.com"}
    rows = await relay.deliveries("pagerduty.update_status")
    assert [(d.status, (d.result or {}).get("already")) for d in rows] == [("done", 1002), ("done", 1001)]


async def test_another_refusal_is_dead_with_pagerduty_s_words(relay: Relay, api: respx.MockRouter) -> None:
    reference = await declare_sev1(relay)
    api["update"].mock(
        return_value=httpx.Response(
            400, json={"error": {"code": 2001, "message": "Invalid Input Provided", "errors": ["Bad status"]}}
        )
    )
    await relay.call("POST", f"/incidents/{reference}/transitions", json={"status": "investigating"})
    (ack,) = await relay.deliveries("pagerduty.update_status")
    assert ack.status == "dead"
    assert "Invalid Input Provided; Bad status (code 2001)" in (ack.last_error or "")


async def test_priority_commander_and_status_updates_reach_the_pagerduty_incident(
    relay: Relay, api: respx.MockRouter
) -> None:
    reference = await declare_sev1(relay)
    await relay.call("PATCH", f"/incidents/{reference}", json={"priority": "P3", "version": 1})
    await relay.call(
        "POST", f"/incidents/{reference}/roles", json={"role": "commander", "person_id": relay.person_id}
    )
    async with unit_of_work(relay.app.state.sessionmaker) as session:
        incident = await incident_service.get_or_404(session, reference)
        update = planning.StatusUpdate(
            key="u1",
            audience=planning.Audience.internal,
            body="Rolled back; watching.",
            author_id=relay.person_id,
        )
        await planning.on_status_update(session, incident, update, relay.app.state.settings)
    await relay.settle()

    priority, assignment = (body(call)["incident"] for call in api["update"].calls)
    assert priority == {
        "type": "incident_reference",
        "priority": {"id": "PPRI3", "type": "priority_reference"},
    }
    assert assignment["assignments"] == [{"assignee": {"id": "PANA", "type": "user_reference"}}]
    (note,) = api["note"].calls
    assert body(note) == {
        "note": {"content": f"Status update from Relay ({reference}, internal):\n\nRolled back; watching."}
    }
    assert note.request.headers["From"] == "ana@example.com"
    priorities = [c for c in api.calls if c.request.url.path == "/priorities"]
    assert len(priorities) == 1, "the priorities are fetched once and cached"


async def test_what_happens_before_the_page_lands_waits_for_it(relay: Relay, api: respx.MockRouter) -> None:
    api["create"].side_effect = [
        httpx.Response(503, text="try later"),
        httpx.Response(
            201, json={"incident": {"id": "PINC1", "html_url": "https://pd.test/incidents/PINC1"}}
        ),
    ]
    # Declare and acknowledge in one go, before the page has gone out.
    async with unit_of_work(relay.app.state.sessionmaker) as session:
        actor = Actor(name="Ana Commander", scope=Scope.write, person_id=relay.person_id)
        settings = relay.app.state.settings
        incident = await incident_service.declare(
            session, IncidentCreate(**declaration(severity="SEV1", service="checkout")), actor, settings
        )
        await incident_service.transition(
            session, incident, TransitionIn(status="investigating"), actor, settings
        )
    (create,) = await relay.deliveries("pagerduty.create_incident")
    (ack,) = await relay.deliveries("pagerduty.update_status")
    assert ack.depends_on_id == create.id
    assert ack.payload["incident_id"] == {"$dep": "id"}
    await relay.settle()
    assert api["create"].call_count == 2
    (call,) = api["update"].calls
    assert call.request.url.path == "/incidents/PINC1"
    assert body(call)["incident"]["status"] == "acknowledged"


async def test_a_page_whose_answer_was_lost_finds_the_incident_it_made(
    relay: Relay, api: respx.MockRouter
) -> None:
    api["create"].mock(
        return_value=httpx.Response(
            400,
            json={
                "error": {
                    "code": 2001,
                    "message": "Invalid Input Provided",
                    "errors": ["Open incident with matching dedup key already exists on this service"],
                }
            },
        )
    )
    api.get(f"{PAGERDUTY_API}/incidents", params={"incident_key": "INC-1"}).mock(
        return_value=httpx.Response(
            200,
            json={"incidents": [{"id": "PINC1", "status": "triggered", "html_url": "https://pd.test/PINC1"}]},
        )
    )
    await declare_sev1(relay)
    (create,) = await relay.deliveries("pagerduty.create_incident")
    assert create.status == "done"
    assert create.result == {
        "id": "PINC1",
        "html_url": "https://pd.test/PINC1",
        "incident_key": "INC-1",
        "already_open": True,
    }
    async with relay.maker() as session:
        (link,) = (await session.scalars(select(IncidentLink))).all()
    assert link.external_id == "PINC1"


@pytest.mark.parametrize("pagerduty", [{"api_token": None, "routing_key": SecretStr("R" * 32)}])
async def test_with_only_a_routing_key_relay_pages_through_the_events_api(
    relay: Relay, api: respx.MockRouter
) -> None:
    reference = await declare_sev1(relay)
    await relay.call("POST", f"/incidents/{reference}/transitions", json={"status": "investigating"})
    version = (await relay.call("GET", f"/incidents/{reference}")).json()["version"]
    await relay.call("PATCH", f"/incidents/{reference}", json={"priority": "P2", "version": version})
    await relay.call(
        "POST", f"/incidents/{reference}/transitions", json={"status": "cancelled", "reason": "Test"}
    )
    trigger, acknowledge, resolve = (body(call) for call in api["event"].calls)
    assert trigger["routing_key"] == "R" * 32
    assert (trigger["event_action"], trigger["dedup_key"]) == ("trigger", reference)
    assert trigger["payload"]["severity"] == "critical"
    assert trigger["payload"]["summary"].startswith(f"{reference}: ")
    assert trigger["payload"]["custom_details"]["slack_channel"].startswith("#inc-")
    assert trigger["links"][0]["text"] == f"{reference} in Relay"
    assert acknowledge == {"routing_key": "R" * 32, "event_action": "acknowledge", "dedup_key": reference}
    assert resolve == {"routing_key": "R" * 32, "event_action": "resolve", "dedup_key": reference}
    assert not api["create"].called
    assert not api["update"].called, "the Events API cannot set a priority"
    # What Relay keeps of each call, and shows to any reader, carries the routing key masked.
    shown = (await relay.call("GET", f"/incidents/{reference}/deliveries")).text
    assert "R" * 32 not in shown
    assert '"routing_key":"<redacted>"' in shown
