import httpx

from tests.test_incidents_api import Headers, declare


async def person(client: httpx.AsyncClient, headers: Headers, name: str, **ids: str) -> int:
    response = await client.post("/api/v1/people", json={"name": name, **ids}, headers=headers)
    assert response.status_code == 201, response.text
    person_id: int = response.json()["id"]
    return person_id


async def test_roles_transfer_and_keep_their_history(client: httpx.AsyncClient, writer: Headers) -> None:
    await declare(client, writer)
    ada = await person(client, writer, "Ada", slack_user_id="U0ADA")
    bob = await person(client, writer, "Bob", email="bob@example.com")
    url = "/api/v1/incidents/INC-1/roles"
    first = await client.post(url, json={"role": "commander", "person_id": ada}, headers=writer)
    assert first.status_code == 201
    await client.post(url, json={"role": "commander", "person_id": bob}, headers=writer)
    await client.post(url, json={"role": "sme", "person_id": ada}, headers=writer)
    await client.post(url, json={"role": "sme", "person_id": bob}, headers=writer)

    current = (await client.get(url, headers=writer)).json()
    assert sorted((r["role"], r["person_name"]) for r in current) == [
        ("commander", "Bob"),
        ("sme", "Ada"),
        ("sme", "Bob"),
    ]
    history = (await client.get(f"{url}/history", headers=writer)).json()
    ada_commander = next(r for r in history if r["role"] == "commander" and r["person_name"] == "Ada")
    assert ada_commander["relieved_at"] is not None

    sme = next(r for r in current if r["role"] == "sme" and r["person_name"] == "Ada")
    relieved = await client.delete(f"{url}/{sme['id']}", headers=writer)
    assert relieved.json()["relieved_at"] is not None
    assert len((await client.get(url, headers=writer)).json()) == 2

    unknown = await client.post(url, json={"role": "commander", "person_id": 999}, headers=writer)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "person_id"
    bad_role = await client.post(url, json={"role": "captain", "person_id": ada}, headers=writer)
    assert bad_role.json()["errors"][0]["field"] == "role"


async def test_timeline_keeps_threads_and_orders_by_time(client: httpx.AsyncClient, writer: Headers) -> None:
    await declare(client, writer)
    url = "/api/v1/incidents/INC-1/timeline"
    parent = await client.post(url, json={"body": "Error rate up since 09:34"}, headers=writer)
    assert parent.status_code == 201
    reply = await client.post(
        url, json={"body": "Matches the 3rd-party outage", "parent_id": parent.json()["id"]}, headers=writer
    )
    assert reply.json()["parent_id"] == parent.json()["id"]
    early = await client.post(
        url, json={"body": "First report", "occurred_at": "2020-01-01T09:00:00Z"}, headers=writer
    )
    assert early.status_code == 201

    page = (await client.get(f"{url}?limit=2", headers=writer)).json()
    assert page["items"][0]["body"] == "First report"
    rest = (await client.get(f"{url}?limit=10&cursor={page['next_cursor']}", headers=writer)).json()
    bodies = [e["body"] for e in page["items"] + rest["items"]]
    assert bodies[-2:] == ["Error rate up since 09:34", "Matches the 3rd-party outage"]
    assert len(bodies) == 4

    await declare(client, writer)
    foreign = await client.post(
        "/api/v1/incidents/INC-2/timeline",
        json={"body": "x", "parent_id": parent.json()["id"]},
        headers=writer,
    )
    assert foreign.status_code == 422


async def test_hypotheses_milestones_and_links(client: httpx.AsyncClient, writer: Headers) -> None:
    await declare(client, writer)
    base = "/api/v1/incidents/INC-1"
    root = await client.post(
        f"{base}/hypotheses",
        json={"statement": "The IdP rate limits us", "test_plan": "Check 429s", "proposed_fix": "Back off"},
        headers=writer,
    )
    assert root.status_code == 201
    child = await client.post(
        f"{base}/hypotheses",
        json={"statement": "Our retry storm", "parent_id": root.json()["id"]},
        headers=writer,
    )
    assert child.json()["parent_id"] == root.json()["id"]
    concluded = await client.patch(
        f"{base}/hypotheses/{root.json()['id']}",
        json={"conclusion": "ruled_out", "conclusion_notes": "No 429s"},
        headers=writer,
    )
    assert concluded.json()["conclusion"] == "ruled_out"
    assert concluded.json()["concluded_at"] is not None
    assert (await client.patch(f"{base}/hypotheses/999", json={}, headers=writer)).status_code == 404

    milestone = await client.post(
        f"{base}/milestones", json={"label": "Possibly identified: bad deploy"}, headers=writer
    )
    assert milestone.status_code == 201
    assert [m["label"] for m in (await client.get(f"{base}/milestones", headers=writer)).json()] == [
        "Possibly identified: bad deploy"
    ]

    link = {"kind": "issue", "external_id": "ops#412", "url": "https://example.com/ops/412"}
    assert (await client.post(f"{base}/links", json=link, headers=writer)).status_code == 201
    assert (await client.post(f"{base}/links", json=link, headers=writer)).status_code == 409
    bad = await client.post(f"{base}/links", json={**link, "url": "ftp://x"}, headers=writer)
    assert bad.json()["errors"][0]["field"] == "url"

    kinds = [e["kind"] for e in (await client.get(f"{base}/timeline", headers=writer)).json()["items"]]
    assert kinds.count("hypothesis") == 3
    assert "milestone" in kinds


async def test_teams_own_services_and_incidents_find_their_team(
    client: httpx.AsyncClient, writer: Headers
) -> None:
    team = await client.post(
        "/api/v1/teams",
        json={"name": "Core Services", "services": ["auth-api"], "pagerduty_service_id": "PIJ90N7"},
        headers=writer,
    )
    assert team.status_code == 201
    assert team.json()["services"] == ["auth-api"]
    taken = await client.post(
        "/api/v1/teams", json={"name": "Other", "services": ["auth-api"]}, headers=writer
    )
    assert taken.status_code == 409
    incident = await declare(client, writer, service="AUTH-API")
    assert incident["team"] == "Core Services"
    renamed = await client.patch(
        f"/api/v1/teams/{team.json()['id']}", json={"services": ["auth-api", "sessions"]}, headers=writer
    )
    assert renamed.json()["services"] == ["auth-api", "sessions"]


async def test_people_identities_are_unique(client: httpx.AsyncClient, writer: Headers) -> None:
    await person(client, writer, "Ada", slack_user_id="U0ADA")
    clash = await client.post(
        "/api/v1/people", json={"name": "Eve", "slack_user_id": "U0ADA"}, headers=writer
    )
    assert clash.status_code == 409
    bad = await client.post("/api/v1/people", json={"name": "Eve", "email": "not-an-email"}, headers=writer)
    assert bad.json()["errors"][0]["field"] == "email"
    assert [p["name"] for p in (await client.get("/api/v1/people", headers=writer)).json()] == ["Ada"]
