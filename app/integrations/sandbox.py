"""The sandbox: a provider without credentials gets a transport that records instead of sending."""

import json
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import httpx

from app import redaction

TRANSPORT_HEADERS = frozenset({"content-length", "accept-encoding", "connection", "host"})

Responder = Callable[[httpx.Request, Any], tuple[int, Any]]

# The requests one delivery attempt made (or would have made), collected per asyncio task.
recorded: ContextVar[list[dict[str, Any]] | None] = ContextVar("recorded_requests", default=None)


def describe(request: httpx.Request, body: Any) -> dict[str, Any]:
    """A request as stored on a delivery: secrets never leave the process."""
    headers = redaction.headers(request.headers, skip=TRANSPORT_HEADERS)
    return {
        "method": request.method,
        "url": redaction.url(request.url),
        "headers": headers,
        "body": redaction.body(body),
    }


def _body(request: httpx.Request) -> Any:
    raw = request.content
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


class SandboxTransport(httpx.AsyncBaseTransport):
    """Answers like the provider would on success, and remembers what it was asked."""

    def __init__(self, respond: Responder) -> None:
        self._respond = respond

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = _body(request)
        calls = recorded.get()
        if calls is not None:
            calls.append(describe(request, body))
        status, answer = self._respond(request, body)
        return httpx.Response(status, json=answer, request=request, headers={"x-relay-sandbox": "1"})


class RecordingTransport(httpx.AsyncBaseTransport):
    """Wraps the real transport so that a delivery keeps a copy of what it sent."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        calls = recorded.get()
        if calls is not None:
            calls.append(describe(request, _body(request)))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
