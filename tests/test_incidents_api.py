import asyncio

import httpx

from tests.factories import declaration

Headers = dict[str, str]
PROBLEM = "application/problem+json"


async def declare(client: httpx.AsyncClient, headers: Headers, **overrides: object) -> dict[str, object]:
    response = await client.post("/api/v1/incidents", json=declaration(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_declare_returns_the_stable_fields(client: httpx.AsyncClient, writer: Headers) -> None:
    body = declaration(functionality="Logging in", severity="SEV1", affects_end_users=True, summary="500s")
    response = await client.post("/api/v1/incidents", json=body, headers=writer)
    assert response.status_code == 201
    incident = response.json()
    assert incident["reference"] == "INC-1"
    assert incident["status"] == "declared"
    assert incident["severity"] == "SEV1"
    assert incident["priority"] == "P1"
    assert incident["channel_name"].endswith("-logging-in-down-all-users")
    assert incident["summary_line"].endswith("-SEV-1] Logging in is down for all users")
    assert response.headers["location"] == "/api/v1/incidents/INC-1"
    assert response.headers["etag"] == '"1"'


async def test_a_duplicate_declaration_gets_409_naming_the_open_incident(
    client: httpx.AsyncClient, writer: Headers
) -> None:
    first = await declare(client, writer, functionality="Checkout")
    response = await client.post(
        "/api/v1/incidents", json=declaration(functionality="checkout", title="Again"), headers=writer
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["incident"]["reference"] == first["reference"]
    assert first["reference"] in problem["detail"]


async def test_force_declares_despite_an_open_incident_and_suffixes_the_channel(
    client: httpx.AsyncClient, writer: Headers
) -> None:
    first = await declare(client, writer, functionality="Checkout")
    second = await declare(client, writer, functionality="Checkout", force=True)
    assert second["reference"] == "INC-2"
    assert second["channel_name"] == f"{first['channel_name']}-2"


async def test_concurrent_declarations_get_distinct_references(
    client: httpx.AsyncClient, writer: Headers
) -> None:
    responses = await asyncio.gather(
        *(client.post("/api/v1/incidents", json=declaration(), headers=writer) for _ in range(12))
    )
    assert [r.status_code for r in responses] == [201] * 12
    references = {r.json()["reference"] for r in responses}
    assert references == {f"INC-{n}" for n in range(1, 13)}


async def test_concurrent_duplicates_make_exactly_one_incident(
    client: httpx.AsyncClient, writer: Headers
) -> None:
    body = declaration(functionality="Search")
    responses = await asyncio.gather(
        *(client.post("/api/v1/incidents", json=body, headers=writer) for _ in range(6))
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5


async def test_malformed_bodies_name_the_fields_at_fault(client: httpx.AsyncClient, writer: Headers) -> None:
    response = await client.post(
        "/api/v1/incidents",
        json=declaration(state="sideways", severity="SEV9", title=""),
        headers=writer,
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"state", "severity", "title"}

    broken = await client.post(
        "/api/v1/incidents", content=b'{"title": ', headers={**writer, "content-type": "application/json"}
    )
    assert broken.status_code == 422
    assert broken.json()["errors"][0]["field"] == "body"


async def test_tokens_are_required_and_scoped(
    client: httpx.AsyncClient, reader: Headers, writer: Headers
) -> None:
    await declare(client, writer)
    missing = await client.get("/api/v1/incidents/INC-1")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    bad = await client.get("/api/v1/incidents/INC-999", headers={"Authorization": "Bearer rly_nope"})
    assert bad.status_code == 401, "an unknown token must not learn whether an incident exists"
    assert (await client.get("/api/v1/incidents/INC-1", headers=reader)).status_code == 200
    refused = await client.post("/api/v1/incidents", json=declaration(), headers=reader)
    assert refused.status_code == 403
    assert "write" in refused.json()["detail"]


async def test_get_and_list_with_filters_and_cursor(client: httpx.AsyncClient, writer: Headers) -> None:
    for severity in ("SEV1", "SEV2", "SEV2", "SEV3", "SEV2"):
        await declare(client, writer, severity=severity)
    await declare(client, writer, service="billing")
    page = (await client.get("/api/v1/incidents?severity=SEV2&limit=2", headers=writer)).json()
    assert [i["reference"] for i in page["items"]] == ["INC-6", "INC-5"]
    rest = (
        await client.get(
            f"/api/v1/incidents?severity=SEV2&limit=2&cursor={page['next_cursor']}", headers=writer
        )
    ).json()
    assert [i["reference"] for i in rest["items"]] == ["INC-3", "INC-2"]
    assert rest["next_cursor"] is None
    billing = (await client.get("/api/v1/incidents?service=billing", headers=writer)).json()
    assert [i["reference"] for i in billing["items"]] == ["INC-6"]
    tampered = await client.get("/api/v1/incidents?cursor=zzz", headers=writer)
    assert tampered.status_code == 422
    assert tampered.json()["errors"][0]["field"] == "query.cursor"
    assert (await client.get("/api/v1/incidents/INC-77", headers=writer)).status_code == 404
    # A time typed without an offset is read in the team's zone (UTC here), not refused with a 500.
    naive = await client.get("/api/v1/incidents?since=2000-01-01T00:00:00", headers=writer)
    assert naive.status_code == 200
    assert len(naive.json()["items"]) == 6
    future = await client.get("/api/v1/incidents?since=2999-01-01T00:00:00", headers=writer)
    assert future.json()["items"] == []


async def test_edits_need_the_current_version(client: httpx.AsyncClient, writer: Headers) -> None:
    await declare(client, writer, severity="SEV3")
    no_precondition = await client.patch("/api/v1/incidents/INC-1", json={"severity": "SEV1"}, headers=writer)
    assert no_precondition.status_code == 428

    ok = await client.patch(
        "/api/v1/incidents/INC-1", json={"severity": "SEV1"}, headers={**writer, "If-Match": '"1"'}
    )
    assert ok.status_code == 200
    assert ok.json()["severity"] == "SEV1"
    assert ok.json()["priority"] == "P2"
    assert ok.headers["etag"] == '"2"'

    stale = await client.patch(
        "/api/v1/incidents/INC-1", json={"severity": "SEV2"}, headers={**writer, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM
    current = (await client.get("/api/v1/incidents/INC-1", headers=writer)).json()
    assert current["severity"] == "SEV1", "a stale write must not land"

    by_body = await client.patch(
        "/api/v1/incidents/INC-1", json={"title": "New", "version": 2}, headers=writer
    )
    assert by_body.status_code == 200


async def test_concurrent_edits_from_one_version_let_exactly_one_through(
    client: httpx.AsyncClient, writer: Headers
) -> None:
    await declare(client, writer)
    headers = {**writer, "If-Match": '"1"'}
    responses = await asyncio.gather(
        *(client.patch("/api/v1/incidents/INC-1", json={"title": f"T{n}"}, headers=headers) for n in range(5))
    )
    assert sorted(r.status_code for r in responses) == [200] + [412] * 4


async def test_only_admins_adopt_a_slack_channel(
    client: httpx.AsyncClient, writer: Headers, admin: Headers
) -> None:
    await declare(client, writer)
    body = {"slack_channel_id": "C0123ABCD", "version": 1}
    assert (await client.patch("/api/v1/incidents/INC-1", json=body, headers=writer)).status_code == 403
    adopted = await client.patch("/api/v1/incidents/INC-1", json=body, headers=admin)
    assert adopted.json()["slack_channel_id"] == "C0123ABCD"


async def test_unknown_fields_in_an_edit_are_refused(client: httpx.AsyncClient, writer: Headers) -> None:
    await declare(client, writer)
    response = await client.patch(
        "/api/v1/incidents/INC-1", json={"status": "closed", "version": 1}, headers=writer
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"
