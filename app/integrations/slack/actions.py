"""Slack deliveries."""

from typing import Any

import structlog

from app.integrations.actions import Action, ActionContext, Result
from app.integrations.slack import repository as slack_repo
from app.integrations.slack.client import SlackError

MAX_NAME_ATTEMPTS = 20
MAX_LIST_PAGES = 10
log = structlog.get_logger(__name__)


def _alternative(name: str, n: int) -> str:
    suffix = f"-{n}"
    return name[: 80 - len(suffix)].rstrip("-_") + suffix


async def _channels_by_name(ctx: ActionContext) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    for _ in range(MAX_LIST_PAGES):
        try:
            page = await ctx.clients.slack.conversations_list(cursor=cursor)
        except SlackError as exc:  # e.g. missing_scope: fall back to a suffixed name, as before
            log.warning("slack_channel_list_failed", error=exc.error)
            return found
        found.update((channel["name"], channel) for channel in page.get("channels", []))
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return found


async def _ours_unclaimed(ctx: ActionContext, channel: dict[str, Any] | None) -> bool:
    """A channel Relay's bot is in that no incident claims: made by an earlier try whose answer was lost."""
    if channel is None or not channel.get("is_member"):
        return False
    async with ctx.sessionmaker() as session:
        return await slack_repo.incident_by_channel(session, channel["id"]) is None


async def create_channel(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """Create the incident channel, adding a suffix while the name is taken."""
    base = payload["name"]
    existing: dict[str, dict[str, Any]] | None = None
    for n in range(1, MAX_NAME_ATTEMPTS + 1):
        name = base if n == 1 else _alternative(base, n)
        try:
            data = await ctx.clients.slack.conversations_create(
                name=name, is_private=payload.get("is_private", False)
            )
        except SlackError as exc:
            if exc.error != "name_taken":
                raise
            # A retry after a lost answer finds its own channel taken: adopt it rather than open a second.
            existing = existing if existing is not None else await _channels_by_name(ctx)
            channel = existing.get(name)
            if channel is not None and await _ours_unclaimed(ctx, channel):
                return {"channel_id": channel["id"], "channel_name": name}
            continue
        return {"channel_id": data["channel"]["id"], "channel_name": data["channel"].get("name", name)}
    raise SlackError(
        "conversations.create", f"name_taken for {base} and {MAX_NAME_ATTEMPTS - 1} alternatives"
    )


async def post_message(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    data = await ctx.clients.slack.chat_post_message(
        channel=payload["channel"],
        text=payload["text"],
        blocks=payload.get("blocks"),
        thread_ts=payload.get("thread_ts"),
    )
    return {"channel": data.get("channel", payload["channel"]), "ts": data["ts"]}


async def pin_message(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    try:
        await ctx.clients.slack.pins_add(channel=payload["channel"], timestamp=payload["timestamp"])
    except SlackError as exc:
        if exc.error != "already_pinned":
            raise
    return {"channel": payload["channel"], "ts": payload["timestamp"]}


async def invite(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    try:
        await ctx.clients.slack.conversations_invite(channel=payload["channel"], users=payload["users"])
    except SlackError as exc:
        # Whoever is already there (the bot itself included) is where the invitation wanted them.
        if exc.error not in {"already_in_channel", "cant_invite_self"}:
            raise
    return {"channel": payload["channel"], "users": payload["users"]}


async def post_ephemeral(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """A reply only one person sees, for button presses and forms that have no reply of their own."""
    data = await ctx.clients.slack.chat_post_ephemeral(
        channel=payload["channel"], user=payload["user"], text=payload["text"]
    )
    return {"channel": payload["channel"], "message_ts": data.get("message_ts")}


ACTIONS: dict[str, Action] = {
    "slack.create_channel": create_channel,
    "slack.post_message": post_message,
    # The pinned summary, kept apart so that its ts is remembered for chat.update.
    "slack.post_summary": post_message,
    "slack.pin_message": pin_message,
    "slack.invite": invite,
    "slack.post_ephemeral": post_ephemeral,
}
