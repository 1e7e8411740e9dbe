"""The operator's path: a token from ``relay tokens create`` used with plain HTTP and ``relay declare``."""

import json
import time
from typing import Any

import httpx
import pytest

from tests.processes import relay, relay_env, serving


def _settled_deliveries(url: str, token: str, reference: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while True:
        response = httpx.get(
            f"{url}/api/v1/incidents/{reference}/deliveries", headers={"Authorization": f"Bearer {token}"}
        )
        deliveries: list[dict[str, Any]] = response.json()
        if deliveries and all(d["status"] not in ("pending", "in_flight") for d in deliveries):
            return deliveries
        if time.monotonic() > deadline:
            raise TimeoutError(f"deliveries still under way: {deliveries}")
        time.sleep(0.1)


@pytest.mark.usefixtures("clean_database")
def test_a_created_token_declares_over_http_and_with_relay_declare(database_url: str) -> None:
    env = relay_env(database_url)
    created = relay("tokens", "create", "--name", "ops-script", "--scope", "write", env=env)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("rly_")

    listed = relay("tokens", "list", env=env)
    assert "ops-script" in listed.stdout
    assert token not in listed.stdout, "a token's secret is shown once only"

    with serving(env) as url:
        assert httpx.get(f"{url}/docs").status_code == 200
        curl_like = httpx.post(
            f"{url}/api/v1/incidents",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "title": "Login is down",
                "service": "auth-api",
                "functionality": "Logging in",
                "state": "down",
                "audience": "all users",
                "severity": "SEV1",
                "affects_end_users": True,
            },
        )
        assert curl_like.status_code == 201
        assert curl_like.json()["reference"] == "INC-1"

        cli_env = {**env, "RELAY_URL": url, "RELAY_TOKEN": token}
        declared = relay(
            "declare",
            "--title",
            "Search is slow",
            "--service",
            "search",
            "--functionality",
            "Searching",
            "--state",
            "degraded",
            "--audience",
            "EU users",
            "--severity",
            "SEV2",
            env=cli_env,
        )
        assert declared.returncode == 0, declared.stderr
        assert declared.stdout.startswith("INC-2 declared: [inc-")

        duplicate = relay(
            "declare",
            "--title",
            "Again",
            "--service",
            "search",
            "--functionality",
            "searching",
            "--state",
            "down",
            "--audience",
            "all",
            "--severity",
            "SEV1",
            env=cli_env,
        )
        assert duplicate.returncode == 1
        assert "INC-2" in duplicate.stderr

        deliveries = _settled_deliveries(url, token, "INC-1")
        assert {d["status"] for d in deliveries} == {"sandboxed"}
        create = next(d for d in deliveries if d["action"] == "slack.create_channel")
        assert create["request"][0]["url"] == "https://slack.com/api/conversations.create"
        assert create["request"][0]["body"] == {"name": curl_like.json()["channel_name"], "is_private": False}

        listing = relay("incidents", "list", "--json", env=cli_env)
        assert [i["reference"] for i in json.loads(listing.stdout)] == ["INC-2", "INC-1"]
        shown = relay("incidents", "show", "INC-1", env=cli_env)
        assert "Logging in is down for all users" in shown.stdout

        revoked = relay("tokens", "revoke", "1", env=env)
        assert revoked.returncode == 0
        refused = relay("incidents", "list", env=cli_env)
        assert refused.returncode == 1
        assert "revoked" in refused.stderr
