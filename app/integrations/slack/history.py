"""Backfill a timeline from its channel: history and threads, one delivery per page.

A page per delivery means a rate limit (``conversations.history`` can drop to one call a minute) delays
one page through the fan-out's backoff instead of failing the whole import, and progress survives restarts.
"""

import uuid
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.session import unit_of_work
from app.deliveries import service as deliveries
from app.deliveries.models import SUCCEEDED, WAITING, Delivery, DeliveryStatus
from app.errors import Conflict, NotFound
from app.incidents.models import Incident
from app.integrations.actions import ActionContext, Result
from app.integrations.errors import PermanentError
from app.integrations.slack import mapping
from app.integrations.slack import repository as repo
from app.integrations.slack.mapping import OwnIdentity


class ImportReport(BaseModel):
    """What one import of a channel brought onto the timeline so far."""

    import_id: str
    status: str  # running, done, or failed (a page is dead; retry it through the deliveries API)
    channel: str
    pages: int
    threads: int
    messages_imported: int
    replies_imported: int
    already_present: int
    skipped: int
    errors: list[str]


def _prefix(reference: str, import_id: str) -> str:
    return f"{reference}:slack:import:{import_id}:"


async def _add_page(
    session: AsyncSession,
    incident: Incident,
    settings: Settings,
    action: str,
    key: str,
    payload: dict[str, Any],
) -> Delivery:
    return await deliveries.add(
        session,
        provider="slack",
        action=action,
        payload=payload,
        idempotency_key=_prefix(incident.reference, payload["import_id"]) + key,
        settings=settings.delivery,
        incident_id=incident.id,
    )


async def start(session: AsyncSession, incident: Incident, settings: Settings) -> str:
    """Queue the first page of an import of the incident's channel; returns the import's id."""
    if not incident.slack_channel_id:
        raise Conflict(
            f"{incident.reference} has no Slack channel yet. Wait for it to be created, or adopt an "
            f"existing one with PATCH /api/v1/incidents/{incident.reference} (slack_channel_id)."
        )
    import_id = uuid.uuid4().hex[:12]
    payload = {"incident_id": incident.id, "channel": incident.slack_channel_id, "import_id": import_id}
    await _add_page(session, incident, settings, "slack.import_history", "history:1", {**payload, "page": 1})
    return import_id


async def _own(ctx: ActionContext, payload: dict[str, Any]) -> OwnIdentity:
    known = payload.get("own")
    if known is not None:
        return OwnIdentity(user_ids=frozenset(known["user_ids"]), bot_ids=frozenset(known["bot_ids"]))
    data = await ctx.clients.slack.auth_test()
    return OwnIdentity(
        user_ids=frozenset({str(data["user_id"])} if data.get("user_id") else ()),
        bot_ids=frozenset({str(data["bot_id"])} if data.get("bot_id") else ()),
    )


def _next_cursor(page: dict[str, Any]) -> str | None:
    return (page.get("response_metadata") or {}).get("next_cursor") or None


async def import_history(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """One page of the channel's history; queues its threads and the next page."""
    own = await _own(ctx, payload)
    page = await ctx.clients.slack.conversations_history(
        channel=payload["channel"], cursor=payload.get("cursor"), limit=ctx.settings.slack.history_page_size
    )
    found: list[dict[str, Any]] = page.get("messages") or []
    cursor = _next_cursor(page)
    threads = [str(m["ts"]) for m in found if m.get("reply_count") and m.get("thread_ts") == m.get("ts")]
    carried = {**payload, "own": {"user_ids": sorted(own.user_ids), "bot_ids": sorted(own.bot_ids)}}
    async with unit_of_work(ctx.sessionmaker) as session:
        incident = await session.get(Incident, payload["incident_id"])
        if incident is None:
            raise PermanentError(f"incident {payload['incident_id']} does not exist")
        counts = await mapping.add_messages(session, incident, found, own, ctx.settings)
        for ts in threads:
            thread = {**carried, "ts": ts, "cursor": None, "page": 1}
            await _add_page(
                session, incident, ctx.settings, "slack.import_replies", f"replies:{ts}:1", thread
            )
        if cursor:
            following = {**carried, "cursor": cursor, "page": payload["page"] + 1}
            key = f"history:{payload['page'] + 1}"
            await _add_page(session, incident, ctx.settings, "slack.import_history", key, following)
    return {
        "kind": "history",
        "page": payload["page"],
        "messages": len(found),
        "threads": len(threads),
        **counts,
    }


async def import_replies(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """One page of a thread's replies, linked to their parent; queues the next page."""
    own = await _own(ctx, payload)
    page = await ctx.clients.slack.conversations_replies(
        channel=payload["channel"],
        ts=payload["ts"],
        cursor=payload.get("cursor"),
        limit=ctx.settings.slack.history_page_size,
    )
    # Every page of a thread starts with its parent, which the history page already imported.
    replies = [m for m in page.get("messages") or [] if m.get("ts") != payload["ts"]]
    cursor = _next_cursor(page)
    async with unit_of_work(ctx.sessionmaker) as session:
        incident = await session.get(Incident, payload["incident_id"])
        if incident is None:
            raise PermanentError(f"incident {payload['incident_id']} does not exist")
        counts = await mapping.add_messages(session, incident, replies, own, ctx.settings)
        if cursor:
            following = {**payload, "cursor": cursor, "page": payload["page"] + 1}
            key = f"replies:{payload['ts']}:{payload['page'] + 1}"
            await _add_page(session, incident, ctx.settings, "slack.import_replies", key, following)
    return {"kind": "replies", "page": payload["page"], "messages": len(replies), **counts}


async def report(session: AsyncSession, incident: Incident, import_id: str) -> ImportReport:
    """Add up the pages of one import."""
    pages = await repo.deliveries_with_prefix(session, _prefix(incident.reference, import_id))
    if not pages:
        raise NotFound(f"{incident.reference} has no Slack import {import_id}.")
    totals = {"history": 0, "replies": 0, "threads": 0, "imported": 0, "replies_imported": 0}
    present = skipped = 0
    for page in pages:
        result = page.result or {}
        kind = "history" if page.action == "slack.import_history" else "replies"
        if page.status in SUCCEEDED:
            totals[kind] += 1
            totals["threads"] += int(result.get("threads", 0))
            totals["imported" if kind == "history" else "replies_imported"] += int(result.get("imported", 0))
            present += int(result.get("present", 0))
            skipped += int(result.get("skipped", 0))
    statuses = {page.status for page in pages}
    if statuses <= set(SUCCEEDED):
        status = "done"
    elif statuses & {*WAITING, DeliveryStatus.in_flight}:
        status = "running"
    else:
        status = "failed"
    return ImportReport(
        import_id=import_id,
        status=status,
        channel=str(pages[0].payload.get("channel")),
        pages=totals["history"] + totals["replies"],
        threads=totals["threads"],
        messages_imported=totals["imported"],
        replies_imported=totals["replies_imported"],
        already_present=present,
        skipped=skipped,
        errors=[f"delivery {p.id}: {p.last_error}" for p in pages if p.status == DeliveryStatus.dead],
    )
