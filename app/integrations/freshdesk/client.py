"""Freshdesk API v2: replies, notes and status changes on a ticket."""

from typing import Any

import httpx

from app.integrations.http import send


class FreshdeskClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def get_ticket(self, *, ticket_id: int) -> dict[str, Any]:
        data: dict[str, Any] = (await send(self._http, "GET", f"api/v2/tickets/{ticket_id}")).json()
        return data

    async def reply(self, *, ticket_id: int, body: str) -> dict[str, Any]:
        response = await send(self._http, "POST", f"api/v2/tickets/{ticket_id}/reply", json={"body": body})
        data: dict[str, Any] = response.json()
        return data

    async def add_note(self, *, ticket_id: int, body: str, private: bool = True) -> dict[str, Any]:
        response = await send(
            self._http, "POST", f"api/v2/tickets/{ticket_id}/notes", json={"body": body, "private": private}
        )
        data: dict[str, Any] = response.json()
        return data

    async def update_ticket(self, *, ticket_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = (
            await send(self._http, "PUT", f"api/v2/tickets/{ticket_id}", json=fields)
        ).json()
        return data


def sandbox_response(request: httpx.Request, body: Any) -> tuple[int, Any]:
    ticket = request.url.path.split("/tickets/")[-1].split("/")[0]
    return 200, {"id": int(ticket) if ticket.isdigit() else 0, **(body if isinstance(body, dict) else {})}
