"""Helpers for tests that move time: a frozen clock and the API calls a responder makes."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx

from app import clock
from app.clock import FrozenClock
from tests.factories import declaration

Headers = dict[str, str]
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@contextmanager
def frozen(at: datetime = MONDAY_9AM) -> Iterator[FrozenClock]:
    """Install a clock that stands still at ``at`` until advanced."""
    fixed = FrozenClock(at)
    clock.install(fixed)
    try:
        yield fixed
    finally:
        clock.install(clock.Clock())


def at(text: str) -> datetime:
    """A UTC moment from ``2026-11-23 09:30``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def declare(client: httpx.AsyncClient, headers: Headers, **overrides: Any) -> str:
    response = await client.post("/api/v1/incidents", json=declaration(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    reference: str = response.json()["reference"]
    return reference


async def person(client: httpx.AsyncClient, headers: Headers, name: str, slack_user_id: str) -> int:
    response = await client.post(
        "/api/v1/people", json={"name": name, "slack_user_id": slack_user_id}, headers=headers
    )
    assert response.status_code == 201, response.text
    person_id: int = response.json()["id"]
    return person_id


async def assign(
    client: httpx.AsyncClient, headers: Headers, reference: str, role: str, person_id: int
) -> None:
    response = await client.post(
        f"/api/v1/incidents/{reference}/roles", json={"role": role, "person_id": person_id}, headers=headers
    )
    assert response.status_code == 201, response.text


async def move(client: httpx.AsyncClient, headers: Headers, reference: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/api/v1/incidents/{reference}/transitions", json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def edit(client: httpx.AsyncClient, headers: Headers, reference: str, **changes: Any) -> dict[str, Any]:
    current = await client.get(f"/api/v1/incidents/{reference}", headers=headers)
    response = await client.patch(
        f"/api/v1/incidents/{reference}",
        json=changes,
        headers={**headers, "If-Match": current.headers["ETag"]},
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def send_update(
    client: httpx.AsyncClient, headers: Headers, reference: str, **body: Any
) -> dict[str, Any]:
    response = await client.post(f"/api/v1/incidents/{reference}/updates", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result
