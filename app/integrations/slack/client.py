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

    async def _call(
        self, method: str, body: dict[str, Any], *, timeout: float | None = None, form: bool = False
    ) -> dict[str, Any]:
        # Slack takes JSON only on write methods; read methods want form fields.
        options: dict[str, Any] = {"data": {k: str(v) for k, v in body.items()}} if form else {"json": body}
        if timeout is not None:
            options["timeout"] = timeout
        response = await send(self._http, "POST", method, **options)
        data: dict[str, Any] = response.json()
        if not data.get("ok"):
            error = str(data.get("error", "unknown_error"))
            if error in TRANSIENT_ERRORS:
                raise TransientError(f"Slack {method} failed: {error}")
            raise SlackError(method, error)
        return data

    async def conversations_create(self, *, name: str, is_private: bool = False) -> dict[str, Any]:
        return await self._call("conversations.create", {"name": name, "is_private": is_private})

    async def conversations_list(self, *, cursor: str | None = None, limit: int = 1000) -> dict[str, Any]:
        body: dict[str, Any] = {"types": "public_channel,private_channel", "exclude_archived": "true"}
        body["limit"] = limit
        if cursor:
            body["cursor"] = cursor
        return await self._call("conversations.list", body, form=True)

    async def conversations_invite(self, *, channel: str, users: list[str]) -> dict[str, Any]:
        body: dict[str, Any] = {"channel": channel, "users": ",".join(users)}
        if len(users) > 1:
            body["force"] = True  # invite the valid users even when one of them cannot be invited
        return await self._call("conversations.invite", body)

    async def conversations_history(
        self,
        *,
        channel: str,
        cursor: str | None = None,
        limit: int = 200,
        oldest: str | None = None,
        latest: str | None = None,
        inclusive: bool = False,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"channel": channel, "limit": limit}
        if cursor:
            body["cursor"] = cursor
        # oldest = latest = a message's ts, inclusive, limit 1: that one message (Slack's own recipe).
        if oldest:
            body["oldest"] = oldest
        if latest:
            body["latest"] = latest
        if inclusive:
            body["inclusive"] = "true"
        return await self._call("conversations.history", body, form=True)

    async def conversations_replies(
        self, *, channel: str, ts: str, cursor: str | None = None, limit: int = 200
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"channel": channel, "ts": ts, "limit": limit}
        if cursor:
            body["cursor"] = cursor
        return await self._call("conversations.replies", body, form=True)

    async def chat_post_ephemeral(self, *, channel: str, user: str, text: str) -> dict[str, Any]:
        return await self._call("chat.postEphemeral", {"channel": channel, "user": user, "text": text})

    async def views_open(self, *, trigger_id: str, view: dict[str, Any], timeout: float) -> dict[str, Any]:
        return await self._call("views.open", {"trigger_id": trigger_id, "view": view}, timeout=timeout)

    async def users_info(self, *, user: str) -> dict[str, Any]:
        return await self._call("users.info", {"user": user}, form=True)

    async def auth_test(self) -> dict[str, Any]:
        return await self._call("auth.test", {}, form=True)

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
    if method in ("conversations.history", "conversations.replies"):
        return 200, {"ok": True, "messages": [], "has_more": False, "response_metadata": {"next_cursor": ""}}
    if method == "auth.test":
        return 200, {"ok": True, "user_id": "USANDBOX", "bot_id": "BSANDBOX"}
    return 200, {"ok": True}
