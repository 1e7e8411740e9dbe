"""Signatures and secrets as pure functions, with the clock passed in; and the integrations CLI."""

from datetime import UTC, datetime, timedelta

import pytest

from app.alerting import verification
from app.alerting.formats import AlertmanagerWebhook
from app.alerting.mapping import from_alertmanager
from tests.processes import relay, relay_env

SECRET = "rlyi_test-secret"
BODY = b'{"event_action":"resolve","dedup_key":"disk-full"}'
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
# From the shell recipe in the docs: printf '%s.%s' 1795428000 "$BODY" | openssl dgst -sha256 -hmac "$SECRET"
VECTOR = "v1=cb1eb6481cc53cb6c0afba7fe59b0984949934eebbffb6790c27fc4fee7fdee5"


def test_the_signature_follows_the_documented_recipe() -> None:
    assert TS == 1795428000
    assert verification.signature(SECRET, TS, BODY) == VECTOR
    headers = verification.signed_headers(SECRET, BODY, NOW)
    assert headers == {"X-Relay-Timestamp": str(TS), "X-Relay-Signature": VECTOR}
    lowered = {k.lower(): v for k, v in headers.items()}
    assert verification.check_signature(SECRET, lowered, BODY, NOW) is None


@pytest.mark.parametrize(
    ("headers", "now", "reason"),
    [
        ({}, NOW, "are both needed"),
        ({"x-relay-timestamp": "soon", "x-relay-signature": "v1=00"}, NOW, "Unix time"),
        (None, NOW + timedelta(seconds=301), "more than 300 seconds"),
        (None, NOW - timedelta(seconds=301), "more than 300 seconds"),
        ({"x-relay-timestamp": str(TS), "x-relay-signature": "v1=" + "0" * 64}, NOW, "does not match"),
        ({"x-relay-timestamp": str(TS), "x-relay-signature": "sha256=abc"}, NOW, "does not match"),
    ],
)
def test_bad_or_stale_signatures_are_refused_with_a_reason(
    headers: dict[str, str] | None, now: datetime, reason: str
) -> None:
    if headers is None:
        headers = {k.lower(): v for k, v in verification.signed_headers(SECRET, BODY, NOW).items()}
    refusal = verification.check_signature(SECRET, headers, BODY, now)
    assert refusal is not None
    assert reason in refusal


def test_a_signature_is_accepted_within_the_window_and_among_several() -> None:
    good = verification.signature(SECRET, TS, BODY)
    rotated = {"x-relay-timestamp": str(TS), "x-relay-signature": f"v1={'a' * 64},{good}"}
    assert verification.check_signature(SECRET, rotated, BODY, NOW + timedelta(seconds=299)) is None
    assert verification.check_signature(SECRET, rotated, BODY + b" ", NOW) is not None


def test_bearer_secrets_must_match_exactly() -> None:
    stored = SECRET
    assert verification.check_bearer(stored, f"Bearer {SECRET}") is None
    assert verification.check_bearer(stored, "Bearer rlyi_other") == (
        "the bearer secret does not match this integration"
    )
    assert verification.check_bearer(stored, None) is not None
    assert verification.check_bearer(stored, f"Token {SECRET}") is not None
    # A signature, when sent, is what is checked: a right bearer does not rescue a wrong signature.
    headers = {
        "authorization": f"Bearer {SECRET}",
        "x-relay-signature": "v1=00",
        "x-relay-timestamp": str(TS),
    }
    assert verification.authenticate(secret=stored, headers=headers, body=BODY, now=NOW)


def test_an_alertmanager_group_without_a_summary_falls_back_to_its_labels() -> None:
    body = AlertmanagerWebhook.model_validate(
        {
            "version": "4",
            "groupKey": '{}:{job="api"}',
            "status": "firing",
            "receiver": "relay",
            "groupLabels": {"job": "api"},
            "commonLabels": {"job": "api", "severity": "page"},
            "alerts": [{"status": "firing", "labels": {"job": "api"}, "startsAt": "2026-11-23T10:00:00Z"}],
        }
    )
    alert = from_alertmanager(body)
    assert alert.summary == "job=api"
    assert alert.severity is None, "an unknown severity label leaves the integration's default"
    assert alert.firing == 1


@pytest.mark.usefixtures("clean_database")
def test_relay_integrations_create_and_list(database_url: str) -> None:
    env = relay_env(database_url, RELAY_BASE_URL="https://relay.example.com")
    created = relay("integrations", "create", "--name", "Grafana", "--service", "search", env=env)
    assert created.returncode == 0, created.stderr
    lines = dict(line.split(": ", 1) for line in created.stdout.strip().splitlines())
    assert lines["events"].startswith("https://relay.example.com/api/v1/integrations/")
    assert lines["alertmanager"].endswith("/alertmanager")
    assert lines["secret"].startswith("rlyi_")
    listed = relay("integrations", "list", env=env)
    assert listed.returncode == 0
    assert "Grafana\tsearch\tSEV2" in listed.stdout
    assert lines["secret"] not in listed.stdout, "the secret is shown once"
    refused = relay("integrations", "create", "--name", "x", "--service", "y", "--team-id", "9", env=env)
    assert refused.returncode == 1
    assert "There is no team 9" in refused.stderr
