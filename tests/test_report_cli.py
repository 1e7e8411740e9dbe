"""``relay report INC-n`` prints the report of a running Relay."""

import asyncio
import json

import httpx
import pytest

from app.auth.models import Scope
from app.db.session import create_engine, create_sessionmaker
from tests.conftest import make_token
from tests.factories import declaration
from tests.processes import relay, relay_env, serving


async def _token(database_url: str) -> str:
    engine = create_engine(database_url)
    try:
        return await make_token(create_sessionmaker(engine), Scope.write)
    finally:
        await engine.dispose()


@pytest.mark.usefixtures("clean_database")
def test_relay_report_prints_markdown_or_json_from_a_running_relay(database_url: str) -> None:
    env = relay_env(database_url)
    token = asyncio.run(_token(database_url))
    auth = {"Authorization": f"Bearer {token}"}

    with serving(env) as url:
        declared = httpx.post(
            f"{url}/api/v1/incidents", headers=auth, json=declaration(title="Checkout fails")
        )
        assert declared.status_code == 201
        note = httpx.post(
            f"{url}/api/v1/incidents/INC-1/timeline", headers=auth, json={"body": "Carts empty"}
        )
        assert note.status_code == 201
        written = httpx.patch(
            f"{url}/api/v1/incidents/INC-1/report",
            headers={**auth, "If-Match": '"0"'},
            json={"lessons": "Page the payments team sooner."},
        )
        assert written.status_code == 200

        cli_env = {**env, "RELAY_URL": url, "RELAY_TOKEN": token}
        markdown = relay("report", "INC-1", env=cli_env)
        assert markdown.returncode == 0, markdown.stderr
        lines = markdown.stdout.splitlines()
        assert lines[0] == "# INC-1: Checkout fails"
        assert lines[lines.index("## Lessons") + 2] == "Page the payments team sooner."
        assert any(line.endswith("· Note · test-write: Carts empty") for line in lines)

        as_json = relay("report", "INC-1", "--json", env=cli_env)
        assert as_json.returncode == 0, as_json.stderr
        report = json.loads(as_json.stdout)
        assert report["reference"] == "INC-1"
        assert report["sections"]["lessons"] == "Page the payments team sooner."

        missing = relay("report", "INC-9", env=cli_env)
        assert missing.returncode == 1
        assert "error 404: There is no incident INC-9." in missing.stderr
