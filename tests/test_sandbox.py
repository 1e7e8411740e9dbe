"""The embedded default: no Redis and no provider accounts; deliveries are recorded, not sent."""

import httpx
import respx
from fastapi import FastAPI

from tests.factories import declaration
from tests.test_incidents_api import Headers


async def test_without_credentials_deliveries_are_sandboxed_with_the_exact_request(
    app: FastAPI, client: httpx.AsyncClient, writer: Headers
) -> None:
    with respx.mock(assert_all_mocked=True):  # any real network call would fail the test
        response = await client.post(
            "/api/v1/incidents", json=declaration(severity="SEV1", functionality="Checkout"), headers=writer
        )
        assert response.status_code == 201
        await app.state.dispatcher.drain()
    incident = response.json()
    deliveries = (await client.get("/api/v1/incidents/INC-1/deliveries", headers=writer)).json()
    assert {d["status"] for d in deliveries} == {"sandboxed"}
    assert len(deliveries) == 6  # channel, summary, pin, announcement, links, page

    create = next(d for d in deliveries if d["action"] == "slack.create_channel")
    (request,) = create["request"]
    assert request["method"] == "POST"
    assert request["url"] == "https://slack.com/api/conversations.create"
    assert request["body"] == {"name": incident["channel_name"], "is_private": False}
    assert "authorization" not in {h.lower() for h in request["headers"]}

    pin = next(d for d in deliveries if d["action"] == "slack.pin_message")
    assert pin["request"][0]["body"] == {"channel": "CSANDBOX", "timestamp": "0000000000.000100"}
    page = next(d for d in deliveries if d["action"] == "pagerduty.create_incident")
    priorities, created = page["request"]  # the priority's id is looked up by name first
    assert priorities["url"] == "https://api.pagerduty.com/priorities?limit=100"
    assert created["body"]["incident"]["incident_key"] == "INC-1"
    assert created["body"]["incident"]["priority"]["id"] == "PSANDBOXP2"

    refreshed = (await client.get("/api/v1/incidents/INC-1", headers=writer)).json()
    assert refreshed["slack_channel_id"] is None, "a sandboxed channel is not a real one"


async def test_sev3_does_not_page(app: FastAPI, client: httpx.AsyncClient, writer: Headers) -> None:
    await client.post("/api/v1/incidents", json=declaration(severity="SEV3"), headers=writer)
    await app.state.dispatcher.drain()
    actions = [
        d["action"] for d in (await client.get("/api/v1/incidents/INC-1/deliveries", headers=writer)).json()
    ]
    assert "pagerduty.create_incident" not in actions
    assert actions.count("slack.post_message") == 2
