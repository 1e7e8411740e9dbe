"""Tickets and incidents: linking, candidates, customer replies and the close rule."""

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import respx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import RelayApp
from tests.fake_freshdesk import FakeFreshdesk, make_ticket
from tests.freshdesk_support import Relay, freshdesk_settings, route_to, start_relay

pytestmark = pytest.mark.usefixtures("clean_database")


@pytest.fixture
async def relay(
    database_url: str, relay_app: RelayApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Relay]:
    async for started in start_relay(relay_app, sessionmaker, freshdesk_settings(database_url)):
        yield started


@pytest.fixture
def desk() -> Iterator[FakeFreshdesk]:
    """Freshdesk's tickets, answered through respx."""
    fake = FakeFreshdesk()
    with respx.mock(assert_all_called=False) as router:
        route_to(router, fake)
        yield fake


async def make_liaison(relay: Relay, reference: str, agent_id: str, name: str = "Lee Okafor") -> None:
    person = await relay.client.post(
        "/api/v1/people", json={"name": name, "freshdesk_agent_id": agent_id}, headers=relay.writer
    )
    assert person.status_code == 201, person.text
    role = await relay.client.post(
        f"/api/v1/incidents/{reference}/roles",
        json={"role": "liaison", "person_id": person.json()["id"]},
        headers=relay.writer,
    )
    assert role.status_code == 201, role.text


async def timeline(relay: Relay, reference: str) -> list[dict[str, Any]]:
    response = await relay.client.get(f"/api/v1/incidents/{reference}/timeline", headers=relay.writer)
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def notify(relay: Relay, ticket_id: int) -> None:
    """The automation rule fires for the ticket, and the job that applies it runs."""
    assert (await relay.webhook({"ticket_id": ticket_id, "event": "ticket_updated"})).status_code == 202
    await relay.settle()


async def incident(relay: Relay, reference: str) -> dict[str, Any]:
    data: dict[str, Any] = (
        await relay.client.get(f"/api/v1/incidents/{reference}", headers=relay.writer)
    ).json()
    return data


async def test_a_ticket_naming_an_incident_is_linked_acknowledged_noted_and_assigned(
    relay: Relay, desk: FakeFreshdesk
) -> None:
    reference = await relay.declare(summary="Login returns 500 for everyone")
    await make_liaison(relay, reference, "5001")
    desk.add_ticket(make_ticket(30571, incident=reference.lower()))
    await notify(relay, 30571)

    changes = desk.changes(30571)
    assert [kind for kind, _ in changes] == ["reply", "private note", "update"]
    acknowledgement, note, assignment = (body for _, body in changes)
    assert acknowledgement.startswith("<p>Hello Ana Silva,</p>")
    assert "related to Login returns 500 for everyone" in acknowledgement
    assert f'<a href="https://relay.example/incidents/{reference}">{reference}</a>' in acknowledgement
    channel = (await incident(relay, reference))["channel_name"]
    assert f"Slack: #{channel}" in note
    assert f'Relay: <a href="https://relay.example/incidents/{reference}">' in note
    assert assignment == {"responder_id": 5001}

    links = (await relay.client.get(f"/api/v1/incidents/{reference}/links", headers=relay.writer)).json()
    assert [(link["kind"], link["external_id"], link["url"]) for link in links] == [
        ("freshdesk_ticket", "30571", "https://acme.freshdesk.test/a/tickets/30571")
    ]
    entries = await timeline(relay, reference)
    assert entries[-1]["source"] == "freshdesk"
    assert entries[-1]["body"] == "Freshdesk ticket #30571 from Ana Silva linked: Cannot log in to my account"

    await make_liaison(relay, reference, "5002", name="Sam Ruiz")
    await relay.settle()
    assert desk.changes(30571)[-1] == ("update", {"responder_id": 5002}), "a new liaison takes the ticket"


async def test_marked_tickets_naming_no_incident_are_candidates_a_responder_links_or_declares(
    relay: Relay, desk: FakeFreshdesk
) -> None:
    reference = await relay.declare()
    desk.add_ticket(make_ticket(30571))
    desk.add_ticket(make_ticket(30572, subject="Checkout fails with error 502", incident="INC-99", tags=()))
    desk.add_ticket(make_ticket(30573, tags=("billing",)))
    desk.add_ticket(make_ticket(30574, requester="Jo Lin"))
    for ticket_id in (30571, 30572, 30573, 30574):
        await notify(relay, ticket_id)

    listed = await relay.client.get("/api/v1/freshdesk/candidates", headers=relay.writer)
    assert listed.status_code == 200
    notes = {c["ticket_id"]: c["note"] for c in listed.json()}
    assert notes == {
        30571: "marked as incident-related; names no incident",
        30572: "cf_relay_incident names INC-99, but INC-99 does not exist",
        30574: "marked as incident-related; names no incident",
    }
    assert desk.changes(30571) == [], "nobody hears from Relay before a responder decides"

    linked = await relay.client.post(
        "/api/v1/freshdesk/candidates/30571/link", json={"reference": reference}, headers=relay.writer
    )
    assert linked.status_code == 200, linked.text
    assert (linked.json()["state"], linked.json()["incident"]) == ("linked", reference)
    await relay.settle()
    assert [kind for kind, _ in desk.changes(30571)] == ["reply", "private note"], "no liaison: no assignment"

    again = await relay.client.post(
        "/api/v1/freshdesk/candidates/30571/link", json={"reference": reference}, headers=relay.writer
    )
    assert again.status_code == 409
    assert again.json()["detail"] == f"Freshdesk ticket 30571 already follows {reference}."
    unknown = await relay.client.post(
        "/api/v1/freshdesk/candidates/30572/link", json={"reference": "INC-77"}, headers=relay.writer
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [
        {"field": "reference", "message": "INC-77 does not exist; name an open incident"}
    ]
    unseen = await relay.client.post(
        "/api/v1/freshdesk/candidates/4242/link", json={"reference": reference}, headers=relay.writer
    )
    assert unseen.status_code == 404

    declared = await relay.client.post(
        "/api/v1/freshdesk/candidates/30572/declare",
        json={
            "service": "shop",
            "functionality": "Checkout",
            "state": "down",
            "audience": "all users",
            "severity": "SEV2",
        },
        headers=relay.writer,
    )
    assert declared.status_code == 201, declared.text
    new_reference = declared.json()["incident"]
    assert new_reference != reference
    created = await incident(relay, new_reference)
    assert created["title"] == "Checkout fails with error 502"
    assert created["summary"] == "Reported in Freshdesk ticket #30572: Checkout fails with error 502"

    dismissed = await relay.client.post("/api/v1/freshdesk/candidates/30574/dismiss", headers=relay.writer)
    assert dismissed.json()["state"] == "dismissed"
    assert [
        c["ticket_id"]
        for c in (await relay.client.get("/api/v1/freshdesk/candidates", headers=relay.writer)).json()
    ] == []
    desk.tickets[30574]["updated_at"] = "2026-11-20T10:00:00Z"
    await notify(relay, 30574)
    assert desk.changes(30574) == [], "a dismissed ticket stays dismissed until it names an incident"
    anonymous = await relay.client.post("/api/v1/freshdesk/candidates/30574/dismiss")
    assert anonymous.status_code == 401


async def test_a_customer_reply_on_a_linked_ticket_lands_on_the_timeline_once(
    relay: Relay, desk: FakeFreshdesk
) -> None:
    reference = await relay.declare()
    desk.add_ticket(make_ticket(30571, incident=reference))
    await notify(relay, 30571)
    desk.customer_replies(30571, "<div>Still failing for our whole team this morning.</div>")
    await notify(relay, 30571)
    await notify(relay, 30571)  # the same version again
    desk.tickets[30571]["priority"] = 3
    desk.tickets[30571]["updated_at"] = "2030-01-01T00:00:00Z"
    await notify(relay, 30571)  # a newer version, with no new reply

    replies = [e for e in await timeline(relay, reference) if e["kind"] == "communication"]
    assert len(replies) == 1, "our own acknowledgement is not a customer reply, and nothing is added twice"
    (reply,) = replies
    assert reply["source"] == "freshdesk"
    assert reply["author_name"] == "Ana Silva"
    assert (
        reply["body"]
        == "Customer reply on Freshdesk ticket #30571: Still failing for our whole team this morning."
    )
    assert reply["data"]["direction"] == "inbound"
    assert (await incident(relay, reference))["customer_confirmed_at"] is None, "not after a resolved message"


async def test_a_reply_after_the_resolved_message_counts_as_the_customers_confirmation(
    relay: Relay, desk: FakeFreshdesk
) -> None:
    reference = await relay.declare()
    desk.add_ticket(make_ticket(30571, incident=reference))
    await notify(relay, 30571)
    closing = {"status": "closed"}
    resolved = await relay.client.post(
        f"/api/v1/incidents/{reference}/transitions",
        json={"status": "resolved", "durable_reason": "The rollback is the fix."},
        headers=relay.writer,
    )
    assert resolved.status_code == 200
    await relay.settle()
    version = resolved.json()["version"]
    report = await relay.client.patch(
        f"/api/v1/incidents/{reference}",
        json={"report_completed": True, "version": version},
        headers=relay.writer,
    )
    assert report.status_code == 200
    refused = await relay.client.post(
        f"/api/v1/incidents/{reference}/transitions", json=closing, headers=relay.writer
    )
    assert refused.status_code == 409
    assert "customer's confirmation" in refused.json()["detail"]

    desk.customer_replies(30571, "All good on our side now, thanks!")
    await notify(relay, 30571)
    confirmed = await incident(relay, reference)
    assert confirmed["customer_confirmed_at"] is not None
    assert confirmed["version"] > report.json()["version"], "the confirmation is an edit: ETags move on"
    assert "counts as their confirmation" in (await timeline(relay, reference))[-1]["body"]
    closed = await relay.client.post(
        f"/api/v1/incidents/{reference}/transitions", json=closing, headers=relay.writer
    )
    assert closed.status_code == 200, closed.text


async def test_a_ticket_linked_by_hand_is_followed_without_being_marked(
    relay: Relay, desk: FakeFreshdesk
) -> None:
    reference = await relay.declare()
    added = await relay.client.post(
        f"/api/v1/incidents/{reference}/links",
        json={"kind": "freshdesk_ticket", "external_id": "30575"},
        headers=relay.writer,
    )
    assert added.status_code == 201
    desk.add_ticket(make_ticket(30575, tags=()))
    desk.customer_replies(30575, "Any news?")
    await notify(relay, 30575)
    assert [e["body"] for e in await timeline(relay, reference) if e["kind"] == "communication"] == [
        "Customer reply on Freshdesk ticket #30575: Any news?"
    ]
    # The customer hears from the team as on any linked ticket, once.
    assert [kind for kind, _ in desk.changes(30575)] == ["reply", "private note"]
    await notify(relay, 30575)
    assert [kind for kind, _ in desk.changes(30575)] == ["reply", "private note"]
