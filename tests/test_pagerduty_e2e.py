"""Relay as an operator runs it (``relay serve``) against a local fake PagerDuty, in both directions."""

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import pytest

from tests.fake_pagerduty import FakePagerDuty, envelope_bytes, fake_pagerduty, signed_headers
from tests.processes import relay, relay_env, serving

pytestmark = pytest.mark.usefixtures("clean_database")

SECRETS = ("whsec-old", "whsec-new")
T = TypeVar("T")


def eventually(check: Callable[[], T | None], timeout: float = 20) -> T:
    """Poll until ``check`` returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"{check.__name__} did not happen in {timeout}s")
        time.sleep(0.1)


def environment(database_url: str, fake: FakePagerDuty, **extra: str) -> dict[str, str]:
    return relay_env(
        database_url,
        RELAY_PAGERDUTY_API_URL=fake.url,
        RELAY_PAGERDUTY_EVENTS_URL=fake.url,
        RELAY_PAGERDUTY_FROM_EMAIL="relay@example.com",
        RELAY_PAGERDUTY_DEFAULT_SERVICE_ID="PE2ESERVICE",
        RELAY_PAGERDUTY_WEBHOOK_SECRETS=",".join(SECRETS),
        RELAY_DELIVERY_SWEEP_INTERVAL_SECONDS="1",
        **extra,
    )


def token_for(env: dict[str, str]) -> dict[str, str]:
    created = relay("tokens", "create", "--name", "e2e", "--scope", "write", env=env)
    assert created.returncode == 0, created.stderr
    return {"Authorization": f"Bearer {created.stdout.strip()}"}


def send_webhook(url: str, envelope: dict[str, Any]) -> None:
    body = envelope_bytes(envelope)
    response = httpx.post(f"{url}/webhooks/pagerduty", content=body, headers=signed_headers(body, *SECRETS))
    assert response.status_code == 202, response.text


def declare_sev1(url: str, auth: dict[str, str]) -> str:
    response = httpx.post(
        f"{url}/api/v1/incidents",
        headers=auth,
        json={
            "title": "Checkout returns 502",
            "service": "checkout",
            "functionality": "Paying",
            "state": "down",
            "audience": "all users",
            "severity": "SEV1",
            "affects_end_users": True,
        },
    )
    assert response.status_code == 201, response.text
    reference: str = response.json()["reference"]
    return reference


def status_of(url: str, auth: dict[str, str], reference: str) -> str:
    status: str = httpx.get(f"{url}/api/v1/incidents/{reference}", headers=auth).json()["status"]
    return status


def test_a_sev1_pages_pagerduty_and_pagerduty_s_webhooks_move_the_incident(database_url: str) -> None:
    with fake_pagerduty() as fake:
        env = environment(database_url, fake, RELAY_PAGERDUTY_API_TOKEN="pd-e2e-token")
        auth = token_for(env)
        with serving(env) as url:
            reference = declare_sev1(url, auth)

            def paged() -> Any:
                return fake.calls("POST", "/incidents")

            (page,) = eventually(paged)
            incident = page.body["incident"]
            assert incident["incident_key"] == reference
            assert incident["service"] == {"id": "PE2ESERVICE", "type": "service_reference"}
            assert incident["priority"] == {"id": "PPRI1", "type": "priority_reference"}
            assert incident["urgency"] == "high"
            assert "Slack: #inc-" in incident["body"]["details"]
            assert page.headers["authorization"] == "Token token=pd-e2e-token"
            assert page.headers["from"] == "relay@example.com"
            assert page.headers["accept"] == "application/vnd.pagerduty+json;version=2"
            assert len(fake.calls("GET", "/priorities")) == 1

            # PagerDuty tells Relay about the incident it created, then someone acknowledges it there.
            send_webhook(url, fake.webhook("incident.triggered", "PFAKE1", agent=None))
            send_webhook(url, fake.webhook("incident.acknowledged", "PFAKE1"))
            eventually(lambda: status_of(url, auth, reference) == "investigating")
            timeline = httpx.get(f"{url}/api/v1/incidents/{reference}/timeline", headers=auth).json()
            entries = timeline["items"] if isinstance(timeline, dict) else timeline
            assert any(e["body"] == "Acknowledged in PagerDuty by Dana Okafor" for e in entries)

            # Relay resolves: PagerDuty's incident is resolved; the acknowledgement was not echoed back.
            moved = httpx.post(
                f"{url}/api/v1/incidents/{reference}/transitions",
                headers=auth,
                json={"status": "resolved", "durable_reason": "The rollback removed the bad build."},
            )
            assert moved.status_code == 200, moved.text

            def resolved() -> Any:
                return fake.calls("PUT", "/incidents/PFAKE1")

            (put,) = eventually(resolved)
            assert put.body["incident"]["status"] == "resolved"
            assert fake.incidents["PFAKE1"]["status"] == "resolved"
            links = httpx.get(f"{url}/api/v1/incidents/{reference}/links", headers=auth).json()
            assert [(link["kind"], link["external_id"]) for link in links] == [
                ("pagerduty_incident", "PFAKE1")
            ]


def test_with_only_a_routing_key_the_events_api_pages_and_webhooks_link_the_incident(
    database_url: str,
) -> None:
    with fake_pagerduty() as fake:
        env = environment(database_url, fake, RELAY_PAGERDUTY_ROUTING_KEY="R" * 32)
        auth = token_for(env)
        with serving(env) as url:
            reference = declare_sev1(url, auth)

            def enqueued() -> Any:
                return fake.calls("POST", "/v2/enqueue")

            (trigger,) = eventually(enqueued)
            assert trigger.body["event_action"] == "trigger"
            assert trigger.body["dedup_key"] == reference
            assert trigger.body["payload"]["severity"] == "critical"

            # The Events API answers with no incident id: the triggered webhook is how Relay learns it.
            fake.add_incident("PEVENT1", reference, f"{reference}: Checkout returns 502")
            send_webhook(url, fake.webhook("incident.triggered", "PEVENT1", agent=None))
            send_webhook(url, fake.webhook("incident.acknowledged", "PEVENT1"))
            eventually(lambda: status_of(url, auth, reference) == "investigating")

            cancelled = httpx.post(
                f"{url}/api/v1/incidents/{reference}/transitions",
                headers=auth,
                json={"status": "cancelled", "reason": "A load test, not an incident."},
            )
            assert cancelled.status_code == 200, cancelled.text
            eventually(lambda: len(enqueued()) == 2)
            assert enqueued()[1].body == {
                "routing_key": "R" * 32,
                "event_action": "resolve",
                "dedup_key": reference,
            }
            links = httpx.get(f"{url}/api/v1/incidents/{reference}/links", headers=auth).json()
            assert [link["external_id"] for link in links] == ["PEVENT1"]
