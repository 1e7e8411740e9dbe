"""One incident, two customer tickets, from acknowledgement to Closed: real workers, a local Freshdesk."""

from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.models import Scope
from app.config import PagerDutySettings, Settings, SlackSettings
from app.db.session import unit_of_work
from app.deliveries import planning
from app.incidents import repository as incidents_repo
from tests.conftest import RelayApp, make_token, provider_settings
from tests.factories import declaration
from tests.fake_freshdesk import FakeFreshdesk, fake_freshdesk, make_ticket
from tests.freshdesk_support import BASE_URL, SECRET, deliveries, freshdesk_config
from tests.workers import drain, sweep

pytestmark = pytest.mark.usefixtures("clean_database")


async def external_update(
    maker: async_sessionmaker[AsyncSession], settings: Settings, reference: str
) -> None:
    """What the liaison's external status update does (the comms feature calls the same hook)."""
    async with unit_of_work(maker) as session:
        incident = await incidents_repo.get_by_reference(session, reference)
        assert incident is not None
        update = planning.StatusUpdate(
            key="external-1",
            audience=planning.Audience.external,
            body="We found the cause: a bad deploy.\n\nWe are rolling it back; next update in two hours.",
        )
        await planning.on_status_update(session, incident, update, settings)


async def test_two_tickets_follow_one_incident_from_acknowledgement_to_closed(
    database_url: str,
    relay_app: RelayApp,
    redis: ArqRedis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    token = {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.write)}"}
    with fake_freshdesk() as fake:
        settings = provider_settings(
            database_url,
            base_url=BASE_URL,
            slack=SlackSettings(),
            pagerduty=PagerDutySettings(),
            freshdesk=freshdesk_config(url=fake.url),
        )
        async with relay_app(settings) as app:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:

                async def call(method: str, path: str, body: Any = None, ok: int = 200) -> Any:
                    response = await client.request(method, path, json=body, headers=token)
                    assert response.status_code == ok, response.text
                    if method != "GET":
                        await drain(settings, redis)
                    return response.json()

                async def hook(ticket_id: int) -> None:
                    response = await client.post(
                        "/webhooks/freshdesk",
                        json={"ticket_id": ticket_id, "event": "ticket_updated"},
                        headers={"X-Relay-Token": SECRET},
                    )
                    assert response.status_code == 202
                    await drain(settings, redis)

                body = declaration(severity="SEV2", summary="Login returns 500 for everyone")
                reference = (await call("POST", "/api/v1/incidents", body, ok=201))["reference"]
                person = await call(
                    "POST", "/api/v1/people", {"name": "Lee Okafor", "freshdesk_agent_id": "5001"}, 201
                )
                liaison = {"role": "liaison", "person_id": person["id"]}
                await call("POST", f"/api/v1/incidents/{reference}/roles", liaison, 201)

                fake.add_ticket(make_ticket(30571, incident=reference))
                fake.add_ticket(make_ticket(30572, subject="Login broken", requester="Ravi Patel"))
                await hook(30571)
                await hook(30572)
                candidates = await call("GET", "/api/v1/freshdesk/candidates")
                assert [c["ticket_id"] for c in candidates] == [30572]
                await call("POST", "/api/v1/freshdesk/candidates/30572/link", {"reference": reference})

                await external_update(sessionmaker, settings, reference)
                await sweep(settings, redis)
                await drain(settings, redis)

                fake.customer_replies(30571, "<div>Still failing for our whole team.</div>")
                await hook(30571)
                resolve = {"status": "resolved", "durable_reason": "The rollback is the fix."}
                resolved = await call("POST", f"/api/v1/incidents/{reference}/transitions", resolve)
                assert resolved["customer_confirmed_at"] is None
                fake.customer_replies(30572, "<p>Works again on our side, thanks!</p>")
                await hook(30572)
                confirmed = await call("GET", f"/api/v1/incidents/{reference}")
                assert confirmed["customer_confirmed_at"] is not None
                report = {"report_completed": True, "version": confirmed["version"]}
                await call("PATCH", f"/api/v1/incidents/{reference}", report)
                await call("POST", f"/api/v1/incidents/{reference}/transitions", {"status": "closed"})
                timeline = (await call("GET", f"/api/v1/incidents/{reference}/timeline"))["items"]

        assert_ticket_path(fake, 30571, "Ana Silva", reference)
        assert_ticket_path(fake, 30572, "Ravi Patel", reference)
    replies = [(e["author_name"], e["body"]) for e in timeline if e["kind"] == "communication"]
    assert replies == [
        ("Ana Silva", "Customer reply on Freshdesk ticket #30571: Still failing for our whole team."),
        ("Ravi Patel", "Customer reply on Freshdesk ticket #30572: Works again on our side, thanks!"),
    ]
    freshdesk_rows = [d for d in await deliveries(sessionmaker) if d.provider == "freshdesk"]
    assert len(freshdesk_rows) == 14
    assert {d.status for d in freshdesk_rows} == {"done"}


def assert_ticket_path(fake: FakeFreshdesk, ticket_id: int, requester: str, reference: str) -> None:
    changes = fake.changes(ticket_id)
    assert [(kind, body if kind == "update" else None) for kind, body in changes] == [
        ("reply", None),
        ("private note", None),
        ("update", {"responder_id": 5001}),
        ("reply", None),
        ("reply", None),
        ("update", {"status": 4}),
        ("update", {"status": 5}),
    ]
    acknowledgement, note, _, update, resolved = (body for _, body in changes[:5])
    assert f"Hello {requester}," in acknowledgement
    assert f'href="{BASE_URL}/incidents/{reference}"' in acknowledgement
    assert reference in note
    assert update == (
        "<p>We found the cause: a bad deploy.</p><p>We are rolling it back; next update in two hours.</p>"
    )
    assert "is resolved and things should be back to normal" in resolved
    assert fake.tickets[ticket_id]["status"] == 5
    assert fake.tickets[ticket_id]["responder_id"] == 5001
