"""Freshdesk API v2: tickets, their conversations, replies, notes and updates."""

from typing import Any

import httpx

from app.integrations.errors import PermanentError, TransientError
from app.integrations.freshdesk.ratelimit import RateBudget
from app.integrations.http import check

CONVERSATIONS_PER_PAGE = 100  # Freshdesk's maximum
MAX_CONVERSATION_PAGES = 20


class TicketNotFound(PermanentError):
    """The ticket was deleted, merged away, or never existed."""


class FreshdeskValidationError(PermanentError):
    """Freshdesk refused the fields (e.g. ones required before closing); retrying will not help."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors


def _validation_errors(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        data = response.json()
    except ValueError:
        return []
    errors = data.get("errors") if isinstance(data, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def describe_errors(errors: list[dict[str, Any]]) -> str:
    """Freshdesk's own words, one field at a time."""
    return "; ".join(f"{e.get('field', '?')}: {e.get('message', e.get('code', 'invalid'))}" for e in errors)


class FreshdeskClient:
    def __init__(self, http: httpx.AsyncClient, *, budget: RateBudget | None = None) -> None:
        self._http = http
        self.budget = budget or RateBudget()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.budget.check()
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise TransientError(f"timed out calling Freshdesk {method} {path}") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"could not reach Freshdesk for {method} {path}: {exc}") from exc
        if response.status_code != 429:  # a 429's Retry-After says exactly how long to wait
            self.budget.observe(response.headers)
        if response.status_code == 404:
            raise TicketNotFound(f"HTTP 404 from Freshdesk {method} {path}: {response.text[:300]}")
        if response.status_code == 400 and (errors := _validation_errors(response)):
            raise FreshdeskValidationError(
                f"HTTP 400 from Freshdesk {method} {path}: validation failed: {describe_errors(errors)}",
                errors,
            )
        try:
            return check(response)
        except TransientError as exc:
            if response.status_code == 429 and exc.retry_after is not None:
                self.budget.pause(exc.retry_after)
            raise

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._request(method, path, **kwargs)
        return response.json() if response.content else {}

    async def get_ticket(self, *, ticket_id: int, include: str | None = "requester") -> dict[str, Any]:
        params = {"include": include} if include else None
        data: dict[str, Any] = await self._json("GET", f"api/v2/tickets/{ticket_id}", params=params)
        return data

    async def list_tickets(
        self,
        *,
        updated_since: str,
        page: int = 1,
        per_page: int = 100,
        include: str | None = "requester,stats",
    ) -> list[dict[str, Any]]:
        """One page of the tickets updated since a time, oldest change first."""
        params: dict[str, Any] = {
            "updated_since": updated_since,
            "order_by": "updated_at",
            "order_type": "asc",
            "page": page,
            "per_page": per_page,
        }
        if include:
            params["include"] = include
        data = await self._json("GET", "api/v2/tickets", params=params)
        return [t for t in data if isinstance(t, dict)] if isinstance(data, list) else []

    async def list_conversations(
        self, *, ticket_id: int, page: int = 1, per_page: int = CONVERSATIONS_PER_PAGE
    ) -> list[dict[str, Any]]:
        data = await self._json(
            "GET",
            f"api/v2/tickets/{ticket_id}/conversations",
            params={"page": page, "per_page": per_page},
        )
        return [c for c in data if isinstance(c, dict)] if isinstance(data, list) else []

    async def all_conversations(self, *, ticket_id: int) -> list[dict[str, Any]]:
        """Every conversation of a ticket, oldest first: pages until a short one."""
        found: list[dict[str, Any]] = []
        for page in range(1, MAX_CONVERSATION_PAGES + 1):
            batch = await self.list_conversations(ticket_id=ticket_id, page=page)
            found.extend(batch)
            if len(batch) < CONVERSATIONS_PER_PAGE:
                break
        return found

    async def reply(self, *, ticket_id: int, body: str) -> dict[str, Any]:
        data: dict[str, Any] = await self._json(
            "POST", f"api/v2/tickets/{ticket_id}/reply", json={"body": body}
        )
        return data

    async def add_note(self, *, ticket_id: int, body: str, private: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = await self._json(
            "POST", f"api/v2/tickets/{ticket_id}/notes", json={"body": body, "private": private}
        )
        return data

    async def update_ticket(self, *, ticket_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = await self._json("PUT", f"api/v2/tickets/{ticket_id}", json=fields)
        return data


def sandbox_response(request: httpx.Request, body: Any) -> tuple[int, Any]:
    if request.url.path.endswith("/conversations"):
        return 200, []
    ticket = request.url.path.split("/tickets/")[-1].split("/")[0]
    return 200, {"id": int(ticket) if ticket.isdigit() else 0, **(body if isinstance(body, dict) else {})}
