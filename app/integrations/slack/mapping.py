"""From Slack to Relay: users become people, channel messages become timeline entries."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Scope
from app.auth.service import Actor
from app.config import Settings
from app.deliveries import service as deliveries
from app.incidents import service as incident_service
from app.incidents.models import Incident, TimelineKind
from app.integrations.slack import repository as repo
from app.people import service as people
from app.people.models import Person

SOURCE = repo.SOURCE
# Messages people write; joins, topic changes, pins and the like are channel noise, not timeline.
IMPORTED_SUBTYPES = frozenset({None, "thread_broadcast", "file_share", "me_message", "bot_message"})


@dataclass(frozen=True)
class OwnIdentity:
    """How Relay's own bot shows up in Slack, so that it never imports what it posted itself."""

    user_ids: frozenset[str] = frozenset()
    bot_ids: frozenset[str] = frozenset()
    app_id: str | None = None

    @classmethod
    def from_envelope(cls, envelope: dict[str, Any]) -> "OwnIdentity":
        """Our bot user from the event's authorizations, our app from ``api_app_id``."""
        users = {
            str(a["user_id"])
            for a in envelope.get("authorizations") or []
            if isinstance(a, dict) and a.get("is_bot") and a.get("user_id")
        }
        return cls(user_ids=frozenset(users), app_id=envelope.get("api_app_id"))

    def posted(self, message: dict[str, Any]) -> bool:
        """Whether Relay's bot wrote this message."""
        app_id = message.get("app_id") or (message.get("bot_profile") or {}).get("app_id")
        return (
            message.get("user") in self.user_ids
            or message.get("bot_id") in self.bot_ids
            or (self.app_id is not None and app_id == self.app_id)
        )


@dataclass(frozen=True)
class Outcome:
    changed: bool
    note: str


def occurred(ts: str) -> datetime:
    """A Slack timestamp (``1763631299.000200``) as a UTC datetime, to the microsecond."""
    seconds, _, fraction = ts.partition(".")
    if not seconds.isdigit() or not (fraction.isdigit() or fraction == ""):
        raise ValueError(f"not a Slack timestamp: {ts!r}")
    micros = int((fraction + "000000")[:6]) if fraction else 0
    return datetime.fromtimestamp(int(seconds), UTC) + timedelta(microseconds=micros)


def actor_for(person: Person) -> Actor:
    """Whoever acts from Slack acts as themselves, with write access."""
    return Actor(name=person.name, scope=Scope.write, person_id=person.id)


async def person_for(session: AsyncSession, user_id: str, name: str | None, settings: Settings) -> Person:
    """The person behind a Slack user; someone new is created and their profile fetched later."""
    placeholder = name or user_id
    person, created = await people.person_for_slack_user(session, user_id, placeholder)
    if created:
        await deliveries.add(
            session,
            provider="slack",
            action="slack.sync_person",
            payload={"person_id": person.id, "user": user_id, "placeholder": placeholder},
            idempotency_key=f"person:{person.id}:slack_profile",
            settings=settings.delivery,
        )
    return person


def body_of(message: dict[str, Any]) -> str:
    """The message as text; attached files are named, since the timeline keeps no files."""
    text = str(message.get("text") or "")
    files = [str(f.get("name") or f.get("title") or "a file") for f in message.get("files") or []]
    if files:
        text = (text + "\n" if text else "") + "Attached: " + ", ".join(files)
    return text


async def _author(
    session: AsyncSession, message: dict[str, Any], settings: Settings
) -> tuple[int | None, str | None]:
    user = message.get("user")
    if user:
        profile = message.get("user_profile") or {}
        name = profile.get("real_name") or profile.get("display_name")
        person = await person_for(session, str(user), name, settings)
        return person.id, person.name
    bot = message.get("bot_profile") or {}
    return None, message.get("username") or bot.get("name") or "a Slack app"


async def add_message(
    session: AsyncSession, incident: Incident, message: dict[str, Any], own: OwnIdentity, settings: Settings
) -> Outcome:
    """Put one channel message on the timeline once, linked to its thread's parent."""
    assert incident.id is not None
    ts = str(message.get("ts") or "")
    if not ts:
        return Outcome(False, "a message without ts")
    at = occurred(ts)
    edited = message.get("edited") or {}
    edited_at = occurred(str(edited["ts"])) if edited.get("ts") else None
    if message.get("subtype") not in IMPORTED_SUBTYPES:
        return Outcome(False, f"{message.get('subtype')} messages are not kept")
    if own.posted(message):
        return Outcome(False, "Relay's own message")
    if await repo.entry_by_ts(session, incident.id, ts) is not None:
        return Outcome(False, f"message {ts} is already on the timeline")
    thread_ts = message.get("thread_ts")
    is_reply = bool(thread_ts) and thread_ts != ts
    parent = await repo.entry_by_ts(session, incident.id, str(thread_ts)) if is_reply else None
    author_id, author_name = await _author(session, message, settings)
    try:
        async with session.begin_nested():
            entry = await incident_service.add_entry(
                session,
                incident,
                TimelineKind.message,
                body_of(message),
                source=SOURCE,
                occurred_at=at,
                author_id=author_id,
                author_name=author_name,
                external_id=ts,
                parent_id=parent.id if parent else None,
                data={"thread_ts": thread_ts} if is_reply else None,
            )
    except IntegrityError:  # the same message, stored at the same moment by the import or a retry
        return Outcome(False, f"message {ts} is already on the timeline")
    entry.edited_at = edited_at
    if not is_reply:
        for orphan in await repo.orphan_replies(session, incident.id, ts, at):
            orphan.parent_id = entry.id
    return Outcome(True, f"reply {ts} in thread {thread_ts}" if is_reply else f"message {ts}")


async def edit_message(
    session: AsyncSession, incident: Incident, message: dict[str, Any], at: datetime
) -> Outcome:
    """An edit replaces the entry's text and keeps the original; a tombstone marks it deleted."""
    assert incident.id is not None
    ts = str(message.get("ts") or "")
    entry = await repo.entry_by_ts(session, incident.id, ts)
    if entry is None:
        return Outcome(False, f"edit of message {ts}, which is not on the timeline")
    if message.get("subtype") == "tombstone":
        return await delete_message(session, incident, ts, at)
    body = body_of(message)
    if body == entry.body:
        return Outcome(False, f"message {ts} changed but its text did not")  # e.g. a new reply count
    edited = message.get("edited") or {}
    edited_at = occurred(str(edited["ts"])) if edited.get("ts") else at
    entry.data = {**(entry.data or {}), "original_body": (entry.data or {}).get("original_body", entry.body)}
    entry.body = body
    entry.edited_at = edited_at
    return Outcome(True, f"edit of message {ts}")


async def delete_message(session: AsyncSession, incident: Incident, ts: str, at: datetime) -> Outcome:
    """A deleted message stays on the timeline, marked, so the record keeps what was said."""
    assert incident.id is not None
    entry = await repo.entry_by_ts(session, incident.id, ts)
    if entry is None:
        return Outcome(False, f"deletion of message {ts}, which is not on the timeline")
    if entry.deleted_at is not None:
        return Outcome(False, f"message {ts} was already marked deleted")
    entry.deleted_at = at
    return Outcome(True, f"deletion of message {ts}")


async def apply_event(
    session: AsyncSession, incident: Incident, event: dict[str, Any], own: OwnIdentity, settings: Settings
) -> Outcome:
    """One ``message`` event from the incident's channel, whatever its subtype."""
    subtype = event.get("subtype")
    at = occurred(str(event.get("event_ts") or event.get("ts") or "0"))
    if subtype == "message_changed":
        return await edit_message(session, incident, event.get("message") or {}, at)
    if subtype == "message_deleted":
        return await delete_message(session, incident, str(event.get("deleted_ts") or ""), at)
    return await add_message(session, incident, event, own, settings)


async def add_messages(
    session: AsyncSession,
    incident: Incident,
    messages: Iterable[dict[str, Any]],
    own: OwnIdentity,
    settings: Settings,
) -> dict[str, int]:
    """Import a page of history, oldest first; counts what was new, already there, or skipped."""
    counts = {"imported": 0, "present": 0, "skipped": 0}
    ordered = sorted(messages, key=lambda m: float(m.get("ts") or 0))
    present = await repo.present_ts(session, incident.id or 0, [str(m.get("ts")) for m in ordered])
    for message in ordered:
        if str(message.get("ts")) in present:
            counts["present"] += 1
            continue
        outcome = await add_message(session, incident, message, own, settings)
        counts["imported" if outcome.changed else "skipped"] += 1
    return counts
