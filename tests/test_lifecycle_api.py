import httpx

from tests.test_incidents_api import Headers, declare


async def move(client: httpx.AsyncClient, headers: Headers, ref: str, **body: object) -> httpx.Response:
    return await client.post(f"/api/v1/incidents/{ref}/transitions", json=body, headers=headers)


async def test_an_incident_walks_the_whole_lifecycle(client: httpx.AsyncClient, writer: Headers) -> None:
    await declare(client, writer)
    assert (await move(client, writer, "INC-1", status="investigating")).json()["status"] == "investigating"
    mitigated = await move(client, writer, "INC-1", status="mitigated", mitigation="Rolled back the deploy")
    assert mitigated.json()["mitigated_at"] is not None

    item = await client.post(
        "/api/v1/incidents/INC-1/action-items", json={"title": "Pin the dependency"}, headers=writer
    )
    refused = await move(client, writer, "INC-1", status="resolved")
    assert refused.status_code == 409
    assert refused.json()["missing"] == [
        "1 durable action item(s) still open; complete them or record why the mitigation itself is "
        "durable (durable_reason)"
    ]
    done = await client.patch(
        f"/api/v1/incidents/INC-1/action-items/{item.json()['id']}", json={"status": "done"}, headers=writer
    )
    assert done.json()["completed_at"] is not None
    assert (await move(client, writer, "INC-1", status="resolved")).status_code == 200

    closing = await move(client, writer, "INC-1", status="closed")
    assert closing.status_code == 409
    assert len(closing.json()["missing"]) == 2
    version = (await client.get("/api/v1/incidents/INC-1", headers=writer)).json()["version"]
    await client.patch(
        "/api/v1/incidents/INC-1", json={"report_completed": True, "version": version}, headers=writer
    )
    closed = await move(client, writer, "INC-1", status="closed", customer_confirmed=True)
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert closed.json()["customer_confirmed_at"] is not None

    final = await move(client, writer, "INC-1", status="investigating")
    assert final.status_code == 409
    assert "nothing (it is final)" in final.json()["detail"]

    timeline = (await client.get("/api/v1/incidents/INC-1/timeline", headers=writer)).json()["items"]
    changes = [e["body"] for e in timeline if e["kind"] == "status_change"]
    assert changes[0].startswith("Declared: [inc-")
    assert changes[1:] == [
        "Status: declared → investigating",
        "Status: investigating → mitigated",
        "Status: mitigated → resolved",
        "Status: resolved → closed",
    ]


async def test_a_recorded_durable_reason_resolves(client: httpx.AsyncClient, writer: Headers) -> None:
    await declare(client, writer)
    response = await move(
        client, writer, "INC-1", status="resolved", durable_reason="The rollback is the fix"
    )
    assert response.status_code == 200
    assert response.json()["durable_reason"] == "The rollback is the fix"


async def test_a_non_durable_mitigation_is_flagged_on_the_timeline(
    client: httpx.AsyncClient, writer: Headers
) -> None:
    await declare(client, writer)
    await move(client, writer, "INC-1", status="mitigated", mitigation="Disabled the session cache")
    entries = (await client.get("/api/v1/incidents/INC-1/timeline", headers=writer)).json()["items"]
    assert entries[-1]["body"] == "Status: declared → mitigated"
    assert entries[-1]["data"]["durability_warnings"] == ["a disabled cache is a workaround, not a fix"]
    item = await client.post(
        "/api/v1/incidents/INC-1/action-items",
        json={"title": "Cron job to restart pods every 15 minutes", "durable": True},
        headers=writer,
    )
    assert item.json()["durability_warnings"] == [
        "a scheduled restart hides the fault instead of removing it"
    ]


async def test_duplicate_needs_another_open_incident(client: httpx.AsyncClient, writer: Headers) -> None:
    await declare(client, writer)
    await declare(client, writer)
    missing = await move(client, writer, "INC-2", status="duplicate")
    assert missing.status_code == 409
    to_self = await move(client, writer, "INC-2", status="duplicate", duplicate_of="INC-2")
    assert to_self.status_code == 422
    assert to_self.json()["errors"][0]["field"] == "duplicate_of"
    merged = await move(client, writer, "INC-2", status="duplicate", duplicate_of="INC-1")
    assert merged.json()["duplicate_of"] == "INC-1"
    assert merged.json()["status"] == "duplicate"


async def test_cancel_needs_a_reason(client: httpx.AsyncClient, writer: Headers) -> None:
    await declare(client, writer)
    assert (await move(client, writer, "INC-1", status="cancelled")).status_code == 409
    cancelled = await move(client, writer, "INC-1", status="cancelled", reason="Declared in error")
    assert cancelled.json()["status"] == "cancelled"


async def test_a_transition_with_a_stale_if_match_is_refused(
    client: httpx.AsyncClient, writer: Headers
) -> None:
    await declare(client, writer)
    await move(client, writer, "INC-1", status="investigating")
    response = await client.post(
        "/api/v1/incidents/INC-1/transitions",
        json={"status": "mitigated"},
        headers={**writer, "If-Match": '"1"'},
    )
    assert response.status_code == 412


async def test_a_closed_incident_frees_its_functionality_for_a_new_declaration(
    client: httpx.AsyncClient, writer: Headers
) -> None:
    await declare(client, writer, functionality="Payments")
    await move(client, writer, "INC-1", status="cancelled", reason="test")
    again = await declare(client, writer, functionality="Payments")
    assert again["reference"] == "INC-2"
