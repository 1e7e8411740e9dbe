"""From Freshdesk's ticket and conversation JSON to the facts Relay acts on. Pure, no I/O."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from typing import Any

from app.config import FreshdeskSettings

REFERENCE = re.compile(r"\bINC-(\d{1,9})\b", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
FALSY = frozenset({"", "0", "false", "no", "off", "none", "null"})
MAX_REPLY_CHARS = 5000


@dataclass(frozen=True)
class TicketFacts:
    ticket_id: int
    updated_at: datetime | None
    subject: str | None
    requester_id: int | None
    requester_name: str | None
    requester_email: str | None
    url: str
    reference: str | None  # the incident the ticket names, as "INC-<n>"
    marked: bool  # incident-related by its incident field, a tag or the marker field
    named_value: str | None  # what the incident field holds, when it holds something


@dataclass(frozen=True)
class CustomerReply:
    conversation_id: int
    text: str
    created_at: datetime
    author: str | None


def parse_time(value: Any) -> datetime | None:
    """Freshdesk's ISO 8601 times ("2026-11-20T09:48:40Z") as aware UTC datetimes."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def ticket_url(base_url: str, ticket_id: int) -> str:
    return f"{base_url.rstrip('/')}/a/tickets/{ticket_id}"


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() not in FALSY


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def ticket_facts(ticket: dict[str, Any], settings: FreshdeskSettings) -> TicketFacts:
    """What a ticket (as ``GET /tickets/{id}?include=requester`` returns it) says about incidents."""
    ticket_id = int(ticket["id"])
    fields = _object(ticket.get("custom_fields"))
    named = fields.get(settings.incident_field)
    named_value = str(named).strip() if named is not None and str(named).strip() else None
    match = REFERENCE.search(named_value or "")
    raw_tags = ticket.get("tags")
    tags = {str(t).strip().lower() for t in raw_tags} if isinstance(raw_tags, list) else set()
    marker = settings.incident_marker_field
    marked = (
        named_value is not None
        or bool(tags & {t.lower() for t in settings.incident_tags})
        or (marker is not None and _truthy(fields.get(marker)))
    )
    requester = _object(ticket.get("requester"))
    subject = ticket.get("subject")
    return TicketFacts(
        ticket_id=ticket_id,
        updated_at=parse_time(ticket.get("updated_at")),
        subject=str(subject)[:300] if subject else None,
        requester_id=_int(ticket.get("requester_id")) or _int(requester.get("id")),
        requester_name=str(requester["name"])[:200] if requester.get("name") else None,
        requester_email=str(requester["email"])[:320] if requester.get("email") else None,
        url=ticket_url(settings.url, ticket_id),
        reference=f"INC-{int(match.group(1))}" if match else None,
        marked=marked,
        named_value=named_value[:100] if named_value else None,
    )


def plain_text(html: str) -> str:
    """A conversation body without its markup."""
    text = re.sub(r"<\s*(br|/p|/div)\s*/?>", "\n", html, flags=re.IGNORECASE)
    return unescape(_TAGS.sub("", text)).strip()


def customer_replies(conversations: list[dict[str, Any]], facts: TicketFacts) -> list[CustomerReply]:
    """The public messages that came in from outside (the customer), oldest first."""
    replies = []
    for conversation in conversations:
        created_at = parse_time(conversation.get("created_at"))
        conversation_id = _int(conversation.get("id"))
        if not conversation.get("incoming") or conversation.get("private") or created_at is None:
            continue
        if conversation_id is None:
            continue
        text = conversation.get("body_text") or plain_text(str(conversation.get("body") or ""))
        from_requester = facts.requester_id is not None and conversation.get("user_id") == facts.requester_id
        author = facts.requester_name if from_requester else conversation.get("from_email")
        replies.append(
            CustomerReply(
                conversation_id=conversation_id,
                text=str(text)[:MAX_REPLY_CHARS],
                created_at=created_at,
                author=str(author)[:200] if author else facts.requester_name,
            )
        )
    return sorted(replies, key=lambda r: (r.created_at, r.conversation_id))
