"""Credentials never survive into what Relay stores or shows of a request."""

import httpx

from app import redaction


def test_headers_mask_credentials_and_drop_the_skipped() -> None:
    shown = redaction.headers(
        {"Authorization": "Bearer x", "X-Relay-Token": "s3", "Content-Length": "2", "X-Webhook-Id": "w1"},
        skip=frozenset({"content-length"}),
    )
    assert shown == {"authorization": "<redacted>", "x-relay-token": "<redacted>", "x-webhook-id": "w1"}


def test_body_masks_credential_fields_at_any_depth() -> None:
    body = {"routing_key": "R" * 32, "payload": {"summary": "s", "items": [{"token": "t", "n": 1}]}}
    assert redaction.body(body) == {
        "routing_key": "<redacted>",
        "payload": {"summary": "s", "items": [{"token": "<redacted>", "n": 1}]},
    }


def test_url_loses_its_user_info_and_secret_query_values() -> None:
    assert redaction.url(httpx.URL("https://user:pw@hooks.example/in?token=abc&team=ops")) == (
        "https://hooks.example/in?token=%3Credacted%3E&team=ops"
    )
    assert redaction.url(httpx.URL("https://pagerduty.test/incidents?incident_key=INC-1")) == (
        "https://pagerduty.test/incidents?incident_key=INC-1"
    )
    assert redaction.url(httpx.URL("https://slack.test/api/chat.postMessage")) == (
        "https://slack.test/api/chat.postMessage"
    )
