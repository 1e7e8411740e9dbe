"""Teams have members: the people invited to the channels of the incidents their team owns."""

import httpx
import pytest

from tests.test_incidents_api import PROBLEM, Headers

pytestmark = pytest.mark.usefixtures("clean_database")


async def test_a_team_lists_its_members_and_refuses_unknown_people(
    client: httpx.AsyncClient, writer: Headers
) -> None:
    ids = [
        (await client.post("/api/v1/people", json={"name": name}, headers=writer)).json()["id"]
        for name in ("Ann", "Bo")
    ]
    created = await client.post(
        "/api/v1/teams", json={"name": "Core", "members": [ids[1], ids[0], ids[1]]}, headers=writer
    )
    assert created.status_code == 201
    assert created.json()["members"] == sorted(ids)

    team_id = created.json()["id"]
    changed = await client.patch(f"/api/v1/teams/{team_id}", json={"members": [ids[0]]}, headers=writer)
    assert changed.json()["members"] == [ids[0]]
    kept = await client.patch(f"/api/v1/teams/{team_id}", json={"slack_channel": "core"}, headers=writer)
    assert kept.json()["members"] == [ids[0]], "members stay when the update does not mention them"

    refused = await client.patch(f"/api/v1/teams/{team_id}", json={"members": [999]}, headers=writer)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["errors"] == [{"field": "members", "message": "unknown person id"}]
