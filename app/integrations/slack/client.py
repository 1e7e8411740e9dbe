"""Slack Web API: one method per endpoint the deliveries use."""

from typing import Any

import httpx

from app.integrations.errors import PermanentError, TransientError
from app.integrations.http import send

# Errors that say "try again later" rather than "this request is wrong".
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


class SlackError(PermanentError):
    def __init__(self, method: str, error: str) -> None:
        super().__init__(f"Slack {method} failed: {error}")
        self.error = error


class SlackClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def _call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await send(self._http, "POST", method, json=body)
        data: dict[str, Any] = response.json()
        if not data.get("ok"):
            error = str(data.get("error", "unknown_error"))
            if error in TRANSIENT_ERRORS:
                raise TransientError(f"Slack {method} failed: {error}")
            raise SlackError(method, error)
        return data

    async def conversations_create(self, *, name: str, is_private: bool = False) -> dict[str, Any]:
        return await self._call("conversations.create", {"name": name, "is_private": is_private})

    async def conversations_invite(self, *, channel: str, users: list[str]) -> dict[str, Any]:
        return await self._call("conversations.invite", {"channel": channel, "users": ",".join(users)})

    async def chat_post_message(
        self,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"channel": channel, "text": text}
        if blocks:
            body["blocks"] = blocks
        if thread_ts:
            body["thread_ts"] = thread_ts
        return await self._call("chat.postMessage", body)

    async def chat_update(
        self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"channel": channel, "ts": ts, "text": text}
        if blocks:
            body["blocks"] = blocks
        return await self._call("chat.update", body)

    async def pins_add(self, *, channel: str, timestamp: str) -> dict[str, Any]:
        return await self._call("pins.add", {"channel": channel, "timestamp": timestamp})


def sandbox_response(request: httpx.Request, body: Any) -> tuple[int, Any]:
    """What Slack answers on success, with placeholder ids."""
    method = request.url.path.rsplit("/", 1)[-1]
    body = body if isinstance(body, dict) else {}
    if method == "conversations.create":
        return 200, {"ok": True, "channel": {"id": "CSANDBOX", "name": body.get("name")}}
    if method == "chat.postMessage":
        return 200, {"ok": True, "channel": body.get("channel"), "ts": "0000000000.000100"}
    return 200, {"ok": True}
