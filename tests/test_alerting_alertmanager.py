"""The Alertmanager receiver: one group of alerts maps onto the same rules as the events endpoint."""

from typing import Any

import httpx

from tests.alerting_helpers import Headers, make_integration, post_event


def _alert(instance: str, status: str, fingerprint: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "CheckoutErrors", "severity": "warning", "instance": instance},
        "annotations": {"summary": "Checkout returns 5xx"},
        "startsAt": "2026-11-23T10:00:00Z",
        "endsAt": "2026-11-23T10:30:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example.com/graph?g0.expr=checkout_errors",
        "fingerprint": fingerprint,
    }


def _group(status: str, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}/{severity="warning"}:{alertname="CheckoutErrors"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "relay",
        "groupLabels": {"alertname": "CheckoutErrors"},
        "commonLabels": {"alertname": "CheckoutErrors", "severity": "warning"},
        "commonAnnotations": {"summary": "Checkout returns 5xx"},
        "externalURL": "http://alertmanager.example.com:9093",
        "alerts": alerts,
    }


async def test_two_firing_alerts_then_their_resolution(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    integration = await make_integration(client, admin, severity="SEV1")
    firing = _group("firing", [_alert("web-1", "firing", "aaa1"), _alert("web-2", "firing", "bbb2")])
    first = await post_event(client, integration, firing, path="alertmanager")
    assert first.status_code == 202, first.text
    assert (first.json()["outcome"], first.json()["incident"]) == ("declared", "INC-1")
    assert first.json()["dedup_key"] == firing["groupKey"]

    # Alertmanager repeats a group on its repeat_interval: counted, not declared again.
    repeat = await post_event(client, integration, firing, path="alertmanager")
    assert repeat.json()["outcome"] == "counted"

    incident = (await client.get("/api/v1/incidents/INC-1", headers=reader)).json()
    assert incident["severity"] == "SEV3", "the severity label wins over the integration's default"
    assert incident["functionality"] == "CheckoutErrors"
    assert incident["title"] == "Checkout returns 5xx"

    resolved = _group("resolved", [_alert("web-1", "resolved", "aaa1"), _alert("web-2", "resolved", "bbb2")])
    done = await post_event(client, integration, resolved, path="alertmanager")
    assert done.status_code == 202
    assert (done.json()["outcome"], done.json()["incident"]) == ("mitigated", "INC-1")

    incidents = (await client.get("/api/v1/incidents", headers=reader)).json()["items"]
    assert [(i["reference"], i["status"]) for i in incidents] == [("INC-1", "mitigated")]
    timeline = (await client.get("/api/v1/incidents/INC-1/timeline", headers=reader)).json()["items"]
    (counter,) = [e for e in timeline if e["kind"] == "event"]
    assert counter["data"]["count"] == 2
    assert counter["data"]["status"] == "resolved"
    assert counter["data"]["firing"] == 0
    assert [a["fingerprint"] for a in counter["data"]["details"]["alerts"]] == ["aaa1", "bbb2"]
    receipts = (await client.get("/api/v1/webhooks/receipts?provider=integration", headers=admin)).json()
    assert [r["event_type"] for r in receipts] == [
        "alertmanager.resolved",
        "alertmanager.firing",
        "alertmanager.firing",
    ]


async def test_an_alertmanager_body_is_checked_field_by_field(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    integration = await make_integration(client, admin)
    body = _group("firing", [_alert("web-1", "firing", "aaa1")])
    cases: list[tuple[dict[str, Any], str]] = [
        ({k: v for k, v in body.items() if k != "groupKey"}, "groupKey"),
        ({**body, "version": "3"}, "version"),
        ({**body, "status": "burning"}, "status"),
        ({**body, "alerts": []}, "alerts"),
        ({**body, "alerts": [{**body["alerts"][0], "startsAt": "yesterday"}]}, "alerts.0.startsAt"),
    ]
    for payload, field in cases:
        response = await post_event(client, integration, payload, path="alertmanager")
        assert response.status_code == 422, (field, response.text)
        assert field in [e["field"] for e in response.json()["errors"]]
