"""The integration endpoint: alerts raise, count, acknowledge and resolve incidents, never backwards."""

import json
import time
from typing import Any

import httpx
import pytest

from app.alerting import alerts
from app.errors import Conflict
from tests.alerting_helpers import Headers, bearer, make_integration, post_event, sign, trigger
from tests.factories import declaration

PROBLEM = "application/problem+json"


async def _timeline(client: httpx.AsyncClient, headers: Headers, reference: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/incidents/{reference}/timeline?limit=200", headers=headers)
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_trigger_repeat_resolve_makes_one_incident_with_one_counter_and_ends_mitigated(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    integration = await make_integration(client, admin)
    first = await post_event(client, integration, trigger())
    assert first.status_code == 202, first.text
    assert first.json()["outcome"] == "declared"
    reference = first.json()["incident"]
    assert reference == "INC-1"
    assert first.json()["dedup_key"] == "checkout-5xx"

    for _ in range(2):
        again = await post_event(client, integration, trigger())
        assert again.status_code == 202
        assert again.json() | {"message": ""} == {
            "status": "success",
            "message": "",
            "dedup_key": "checkout-5xx",
            "outcome": "counted",
            "incident": reference,
        }

    resolved = await post_event(client, integration, {"event_action": "resolve", "dedup_key": "checkout-5xx"})
    assert resolved.status_code == 202
    assert resolved.json()["outcome"] == "mitigated"

    incidents = (await client.get("/api/v1/incidents", headers=reader)).json()["items"]
    assert [(i["reference"], i["status"]) for i in incidents] == [(reference, "mitigated")]
    (incident,) = incidents
    assert incident["severity"] == "SEV1", "critical maps onto SEV1"
    assert incident["service"] == "checkout-api"
    assert incident["functionality"] == "Checkout"
    assert incident["title"] == "Checkout error rate above 5%"

    timeline = await _timeline(client, reader, reference)
    alerts = [e for e in timeline if e["source"] == "integration" and e["kind"] == "event"]
    assert len(alerts) == 1, "repeats update one entry instead of flooding the timeline"
    assert alerts[0]["data"]["count"] == 3
    assert alerts[0]["data"]["status"] == "resolved"
    assert "fired 3 times" in alerts[0]["body"]
    moves = [e["data"]["to"] for e in timeline if e["kind"] == "status_change"]
    assert moves == ["declared", "mitigated"]

    links = (await client.get(f"/api/v1/incidents/{reference}/links", headers=reader)).json()
    assert [(link["kind"], link["external_id"]) for link in links] == [
        ("alert", f"{integration['id']}:checkout-5xx")
    ]
    assert links[0]["url"] == "https://grafana.example.com/d/checkout"

    receipts = (await client.get("/api/v1/webhooks/receipts?provider=integration", headers=admin)).json()
    assert len(receipts) == 4
    assert {r["status"] for r in receipts} == {"applied"}
    assert all(r["headers"]["authorization"] == "<redacted>" for r in receipts)
    assert integration["secret"] not in json.dumps(receipts)


async def test_acknowledge_investigates_and_nothing_moves_an_incident_backwards(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    integration = await make_integration(client, admin, severity="SEV3")
    await post_event(client, integration, trigger(severity="warning"))
    ack = await post_event(client, integration, {"event_action": "acknowledge", "dedup_key": "checkout-5xx"})
    assert ack.json()["outcome"] == "acknowledged"
    incident = (await client.get("/api/v1/incidents/INC-1", headers=reader)).json()
    assert (incident["status"], incident["severity"]) == ("investigating", "SEV3")

    await post_event(client, integration, {"event_action": "resolve", "dedup_key": "checkout-5xx"})
    late_ack = await post_event(
        client, integration, {"event_action": "acknowledge", "dedup_key": "checkout-5xx"}
    )
    assert late_ack.json()["outcome"] == "noted"
    refire = await post_event(client, integration, trigger())
    assert refire.json() | {"message": ""} == {
        "status": "success",
        "message": "",
        "dedup_key": "checkout-5xx",
        "outcome": "counted",
        "incident": "INC-1",
    }
    incident = (await client.get("/api/v1/incidents/INC-1", headers=reader)).json()
    assert incident["status"] == "mitigated", "a late acknowledgement or a repeat never reopens"
    timeline = await _timeline(client, reader, "INC-1")
    assert any("fired again after it resolved" in e["body"] for e in timeline)
    moves = [e["data"]["to"] for e in timeline if e["kind"] == "status_change"]
    assert moves == ["declared", "investigating", "mitigated"]

    unknown = await post_event(client, integration, {"event_action": "resolve", "dedup_key": "never-seen"})
    assert unknown.status_code == 202
    assert unknown.json()["outcome"] == "ignored"
    assert unknown.json()["incident"] is None


async def test_an_alert_joins_the_open_incident_on_the_same_service_and_functionality(
    client: httpx.AsyncClient, admin: Headers, writer: Headers, reader: Headers
) -> None:
    declared = await client.post(
        "/api/v1/incidents",
        json=declaration(service="checkout-api", functionality="checkout"),
        headers=writer,
    )
    assert declared.status_code == 201
    integration = await make_integration(client, admin)
    joined = await post_event(client, integration, trigger())
    assert joined.json()["outcome"] == "added"
    assert joined.json()["incident"] == "INC-1"
    assert len((await client.get("/api/v1/incidents", headers=reader)).json()["items"]) == 1

    # A second alert on the same incident keeps it from mitigating while it still fires.
    await post_event(client, integration, trigger("checkout-latency"))
    first_done = await post_event(
        client, integration, {"event_action": "resolve", "dedup_key": "checkout-5xx"}
    )
    assert first_done.json()["outcome"] == "noted"
    last_done = await post_event(
        client, integration, {"event_action": "resolve", "dedup_key": "checkout-latency"}
    )
    assert last_done.json()["outcome"] == "mitigated"


async def test_a_key_whose_incident_ended_declares_a_new_incident(
    client: httpx.AsyncClient, admin: Headers, writer: Headers, reader: Headers
) -> None:
    integration = await make_integration(client, admin)
    await post_event(client, integration, trigger())
    cancelled = await client.post(
        "/api/v1/incidents/INC-1/transitions",
        json={"status": "cancelled", "reason": "test alert"},
        headers=writer,
    )
    assert cancelled.status_code == 200
    again = await post_event(client, integration, trigger())
    assert (again.json()["outcome"], again.json()["incident"]) == ("declared", "INC-2")
    links = (await client.get("/api/v1/incidents/INC-2/links", headers=reader)).json()
    assert [link["external_id"] for link in links] == [f"{integration['id']}:checkout-5xx"]


async def test_signed_calls_are_accepted_and_forged_or_stale_ones_refused(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    integration = await make_integration(client, admin)
    raw = json.dumps(trigger()).encode()
    ok = await post_event(client, integration, raw, headers=sign(integration["secret"], raw))
    assert ok.status_code == 202, ok.text

    forged = await post_event(client, integration, raw, headers=sign("rlyi_not-the-secret", raw))
    stale = await post_event(
        client, integration, raw, headers=sign(integration["secret"], raw, int(time.time()) - 301)
    )
    tampered = await post_event(
        client, integration, raw.replace(b"critical", b"info"), headers=sign(integration["secret"], raw)
    )
    wrong_bearer = await post_event(client, integration, raw, headers=bearer("rlyi_guess"))
    anonymous = await post_event(client, integration, raw, headers={"Content-Type": "application/json"})
    for refused in (forged, stale, tampered, wrong_bearer, anonymous):
        assert refused.status_code == 401
        assert refused.headers["content-type"] == PROBLEM
    assert "does not match the body" in forged.json()["detail"]
    assert "300 seconds" in stale.json()["detail"]

    incidents = (await client.get("/api/v1/incidents", headers=reader)).json()["items"]
    assert len(incidents) == 1, "no refused call changed anything"
    alerts = [e for e in await _timeline(client, reader, "INC-1") if e["kind"] == "event"]
    assert alerts[0]["data"]["count"] == 1
    receipts = (
        await client.get("/api/v1/webhooks/receipts?provider=integration&status=refused", headers=admin)
    ).json()
    assert len(receipts) == 5
    assert any("more than 300 seconds" in r["reason"] for r in receipts)


async def test_every_field_is_checked_with_a_problem_naming_it(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    integration = await make_integration(client, admin)
    payload = trigger()["payload"]
    cases: list[tuple[Any, str]] = [
        ({"event_action": "explode", "dedup_key": "x"}, "event_action"),
        ({"event_action": "trigger", "dedup_key": "x"}, "payload"),
        ({"event_action": "trigger", "payload": {**payload, "severity": "bad"}}, "payload.severity"),
        (
            {"event_action": "trigger", "payload": {k: v for k, v in payload.items() if k != "source"}},
            "payload.source",
        ),
        ({"event_action": "trigger", "payload": {**payload, "summary": "x" * 1025}}, "payload.summary"),
        ({"event_action": "resolve"}, "dedup_key"),
        ({"event_action": "resolve", "dedup_key": "x", "event_type": "resolve"}, "event_type"),
        ({"event_action": "resolve", "dedup_key": "x", "routing_key": "other"}, "routing_key"),
        ({"event_action": "resolve", "dedup_key": "x", "links": [{"href": "ftp://x"}]}, "links.0.href"),
        (b'{"event_action": "trigger",', "body"),
        (b"[]", "body"),
    ]
    for body, field in cases:
        response = await post_event(client, integration, body)
        assert response.status_code == 422, (field, response.text)
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert field in [e["field"] for e in problem["errors"]], (field, problem)
        assert field in problem["detail"]


async def test_unknown_and_deleted_keys_get_404_and_only_admins_manage_integrations(
    client: httpx.AsyncClient, admin: Headers, writer: Headers
) -> None:
    denied = await client.post("/api/v1/integrations", json={"name": "x", "service": "y"}, headers=writer)
    assert denied.status_code == 403
    bad_team = await client.post(
        "/api/v1/integrations", json={"name": "x", "service": "y", "team_id": 99}, headers=admin
    )
    assert bad_team.status_code == 422
    assert bad_team.json()["errors"] == [{"field": "team_id", "message": "unknown team"}]

    integration = await make_integration(client, admin)
    assert integration["secret"].startswith("rlyi_")
    assert integration["events_url"].endswith(f"/api/v1/integrations/{integration['key']}/events")
    listed = await client.get("/api/v1/integrations", headers=admin)
    shown = await client.get(f"/api/v1/integrations/{integration['id']}", headers=admin)
    for response in (listed, shown):
        assert response.status_code == 200
        assert integration["secret"] not in response.text, "the secret is shown once"
    assert shown.json()["secret_prefix"] == integration["secret"][:12]

    missing = await post_event(client, {**integration, "key": "0" * 32}, trigger())
    assert missing.status_code == 404
    assert (
        await client.delete(f"/api/v1/integrations/{integration['id']}", headers=admin)
    ).status_code == 204
    gone = await post_event(client, integration, trigger())
    assert gone.status_code == 404
    assert (await client.get("/api/v1/integrations", headers=admin)).json() == []


async def test_openapi_documents_both_formats_with_examples_and_the_signature(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    events = spec["paths"]["/api/v1/integrations/{key}/events"]["post"]
    alertmanager = spec["paths"]["/api/v1/integrations/{key}/alertmanager"]["post"]
    body = events["requestBody"]["content"]["application/json"]
    assert set(body["examples"]) == {"trigger", "acknowledge", "resolve"}
    assert "payload" in body["schema"]["properties"]
    assert "$defs" not in json.dumps(body["schema"])
    am = alertmanager["requestBody"]["content"]["application/json"]
    assert am["examples"]["firing"]["value"]["version"] == "4"
    assert "groupKey" in am["schema"]["required"]
    for operation in (events, alertmanager):
        assert "X-Relay-Signature" in operation["description"]
        assert {"202", "401", "422"} <= set(operation["responses"])


async def test_a_failure_while_applying_is_recorded_and_leaves_nothing_half_done(
    client: httpx.AsyncClient, admin: Headers, reader: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    integration = await make_integration(client, admin)
    real_apply = alerts.apply

    async def apply_then_conflict(*args: Any) -> alerts.Outcome:
        await real_apply(*args)
        raise Conflict("INC-1 was changed by someone else at the same time; try again.")

    monkeypatch.setattr(alerts, "apply", apply_then_conflict)
    failed = await post_event(client, integration, trigger())
    assert failed.status_code == 409
    assert failed.headers["content-type"] == PROBLEM
    assert (await client.get("/api/v1/incidents", headers=reader)).json()["items"] == []
    (receipt,) = (await client.get("/api/v1/webhooks/receipts?provider=integration", headers=admin)).json()
    assert (receipt["status"], receipt["reason"]) == ("failed", failed.json()["detail"])

    monkeypatch.setattr(alerts, "apply", real_apply)
    retried = await post_event(client, integration, trigger())
    assert (retried.json()["outcome"], retried.json()["incident"]) == ("declared", "INC-1")
