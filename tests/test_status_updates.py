"""Status updates through the API: templates, free text, due times, the sandboxed templates, the policy."""

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app import clock
from app.auth.models import Scope
from app.comms.models import MessageTemplate
from app.config import Settings, SmtpSettings
from app.db.session import unit_of_work
from app.deliveries.models import Delivery
from tests.clock_helpers import Headers, assign, declare, edit, frozen, move, person, send_update
from tests.conftest import RelayApp, make_token
from tests.factories import declaration

pytestmark = pytest.mark.usefixtures("clean_database")


async def test_an_update_is_rendered_recorded_and_resets_only_its_audience_clock(
    client: httpx.AsyncClient, writer: Headers
) -> None:
    with frozen() as now:
        ref = await declare(client, writer, severity="SEV1", functionality="Logging in")
        ada = await person(client, writer, "Ada Lovelace", "U0ADA")
        await assign(client, writer, ref, "commander", ada)
        incident = (await client.get(f"/api/v1/incidents/{ref}", headers=writer)).json()
        assert incident["next_internal_update_due_at"] == "2026-11-23T09:30:00Z"
        assert incident["next_external_update_due_at"] == "2026-11-23T11:00:00Z"

        now.advance(timedelta(minutes=20))
        sent = await send_update(
            client, writer, ref, audience="internal", template="update", text="Rolling back the 08:55 deploy."
        )
        assert sent["template"] == "update"
        assert sent["body"].startswith("UPDATE: Logging in is still down for all users (SEV1).")
        assert "Rolling back the 08:55 deploy." in sent["body"]
        assert "Expect an update on the status of this incident in 30 minutes or sooner." in sent["body"]
        assert sent["next_update_due_at"] == "2026-11-23T09:50:00Z"

        incident = (await client.get(f"/api/v1/incidents/{ref}", headers=writer)).json()
        assert incident["next_internal_update_due_at"] == "2026-11-23T09:50:00Z"
        assert incident["next_external_update_due_at"] == "2026-11-23T11:00:00Z"

        acknowledged = await send_update(client, writer, ref, audience="internal", template="acknowledge")
        assert "Ada Lovelace is the incident commander." in acknowledged["body"]

    timeline = (await client.get(f"/api/v1/incidents/{ref}/timeline", headers=writer)).json()["items"]
    updates = [e for e in timeline if e["kind"] == "communication"]
    assert [e["data"]["template"] for e in updates] == ["update", "acknowledge"]
    assert updates[0]["data"]["audience"] == "internal"
    listed = (await client.get(f"/api/v1/incidents/{ref}/updates", headers=writer)).json()
    assert [u["template"] for u in listed] == ["acknowledge", "update"]


async def test_free_text_goes_out_verbatim_and_external_updates_have_their_own_clock(
    client: httpx.AsyncClient, writer: Headers
) -> None:
    with frozen() as now:
        ref = await declare(client, writer, severity="SEV3")
        now.advance(timedelta(hours=1))
        text = "We are seeing errors on login and are on it. {{ not a template }}"
        sent = await send_update(client, writer, ref, audience="external", text=text)
    assert sent["body"] == text
    assert sent["template"] is None
    assert sent["next_update_due_at"] == "2026-11-23T14:00:00Z"  # SEV3: every four hours
    incident = (await client.get(f"/api/v1/incidents/{ref}", headers=writer)).json()
    assert incident["next_internal_update_due_at"] == "2026-11-23T09:30:00Z"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"audience": "internal"}, "template"),
        ({"audience": "customers", "text": "hi"}, "audience"),
        ({"audience": "internal", "template": "farewell"}, "template"),
    ],
)
async def test_a_bad_update_names_the_field_at_fault(
    client: httpx.AsyncClient, writer: Headers, body: dict[str, str], field: str
) -> None:
    ref = await declare(client, writer)
    response = await client.post(f"/api/v1/incidents/{ref}/updates", json=body, headers=writer)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_a_cancelled_incident_takes_no_updates(client: httpx.AsyncClient, writer: Headers) -> None:
    ref = await declare(client, writer)
    await move(client, writer, ref, status="cancelled", reason="declared by mistake")
    response = await client.post(
        f"/api/v1/incidents/{ref}/updates", json={"audience": "internal", "text": "hello"}, headers=writer
    )
    assert response.status_code == 409
    assert "cancelled" in response.json()["detail"]


async def test_templates_are_listed_edited_used_and_reset(
    client: httpx.AsyncClient, writer: Headers, admin: Headers, reader: Headers
) -> None:
    listed = (await client.get("/api/v1/templates", headers=reader)).json()
    assert len(listed) == 10
    assert {(t["audience"], t["name"]) for t in listed} >= {("internal", "update"), ("external", "resolved")}
    assert not any(t["customized"] for t in listed)

    url = "/api/v1/templates/internal/update"
    body = {"body": "{{ incident.reference }} at {{ milestone | default('no milestone') }}: {{ note }}"}
    assert (await client.put(url, json=body, headers=writer)).status_code == 403
    edited = await client.put(url, json=body, headers=admin)
    assert edited.status_code == 200, edited.text
    assert edited.json()["customized"] is True

    ref = await declare(client, writer)
    sent = await send_update(client, writer, ref, audience="internal", template="update", text="all hands")
    assert sent["body"] == f"{ref} at : all hands"  # no milestone yet: None renders as nothing

    reset = await client.delete(url, headers=admin)
    assert reset.json()["customized"] is False
    assert (await client.get(url, headers=reader)).json()["body"].startswith("UPDATE:")
    assert (await client.get("/api/v1/templates/internal/farewell", headers=reader)).status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        "{{ incident.__class__.__mro__[1].__subclasses__() }}",
        "{{ incident['__class__'] }}",
        "{{ incident.title.upper() }}",
        "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "{% include 'settings.py' %}",
        "{{ 'x' * 1000000 }}",
        "{{ settings }}",
    ],
)
async def test_a_template_that_reaches_for_python_internals_is_refused(
    client: httpx.AsyncClient, admin: Headers, body: str
) -> None:
    response = await client.put("/api/v1/templates/external/update", json={"body": body}, headers=admin)
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["type"] == "https://relay.dev/problems/template-refused"
    assert problem["errors"][0]["field"] == "body"
    stored = (await client.get("/api/v1/templates/external/update", headers=admin)).json()
    assert stored["customized"] is False


async def test_the_sandbox_also_refuses_at_render_time(
    client: httpx.AsyncClient, writer: Headers, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # A row written around the API (an old release, a hand edit) still cannot escape the sandbox.
    async with unit_of_work(sessionmaker) as session:
        session.add(
            MessageTemplate(
                name="update", audience="internal", body="{{ incident.__class__ }}", updated_at=clock.now()
            )
        )
    ref = await declare(client, writer)
    response = await client.post(
        f"/api/v1/incidents/{ref}/updates",
        json={"audience": "internal", "template": "update"},
        headers=writer,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "template"
    assert "unsafe" in response.json()["detail"]
    assert (await client.get(f"/api/v1/incidents/{ref}/updates", headers=writer)).json() == []


async def test_the_policy_is_readable(client: httpx.AsyncClient, reader: Headers) -> None:
    policy = (await client.get("/api/v1/policy", headers=reader)).json()
    sev1, sev3 = policy["severities"]["SEV1"], policy["severities"]["SEV3"]
    assert sev1["internal_update_minutes"] == 30
    assert sev1["escalate_after_minutes"] == 30
    assert (sev1["retrospective_working_days"], sev3["retrospective_working_days"]) == (1, 2)
    assert sev3["autoclose_working_hours"] == 48
    assert policy["retrospective_max_days"] == 7
    assert policy["calendar"] == {
        "timezone": "UTC",
        "working_days": ["mon", "tue", "wed", "thu", "fri"],
        "hours": "09:00-17:00",
        "holidays": [],
    }


async def test_a_retrospective_can_be_scheduled(client: httpx.AsyncClient, writer: Headers) -> None:
    with frozen():
        ref = await declare(client, writer, severity="SEV1")
        await move(client, writer, ref, status="resolved", durable_reason="the rollback is the fix")
        incident = (await client.get(f"/api/v1/incidents/{ref}", headers=writer)).json()
        assert incident["retrospective_due_at"] == "2026-11-24T17:00:00Z"
        assert incident["next_internal_update_due_at"] is None
        scheduled = await edit(client, writer, ref, retrospective_at="2026-11-24T10:00:00+00:00")
    assert scheduled["retrospective_at"] == "2026-11-24T10:00:00Z"
    naive = await client.patch(
        f"/api/v1/incidents/{ref}",
        json={"retrospective_at": "2026-11-24T10:00:00", "version": 99},
        headers=writer,
    )
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "retrospective_at"


async def test_internal_updates_are_mailed_to_the_incident_list(
    settings: Settings, relay_app: RelayApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    mailing = settings.model_copy(update={"smtp": SmtpSettings(mailing_list=["incidents@example.com"])})
    token = {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.write)}"}
    async with relay_app(mailing) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
            response = await client.post(
                "/api/v1/incidents", json=declaration(severity="SEV2"), headers=token
            )
            ref = response.json()["reference"]
            await send_update(client, token, ref, audience="internal", template="investigating")
            await send_update(client, token, ref, audience="external", template="investigating")
            await app.state.dispatcher.drain()
    async with sessionmaker() as session:
        mails = (await session.scalars(select(Delivery).where(col(Delivery.action) == "email.send"))).all()
    assert len(mails) == 1, "the mailing list reads internal updates only"
    mail = mails[0]
    assert mail.status == "sandboxed"
    assert mail.payload["to"] == ["incidents@example.com"]
    assert mail.payload["subject"].startswith(f"[{ref}] Investigating: ")
    assert mail.payload["text"].startswith("INVESTIGATING:")
    assert mail.request is not None
    assert mail.request[0]["method"] == "SMTP"
    assert mail.request[0]["headers"]["To"] == "incidents@example.com"
