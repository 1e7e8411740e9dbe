"""Reading an automation rule's webhook body: a hint that names a ticket, nothing more."""

import json
import re
from dataclasses import dataclass
from typing import Any

# Placeholders such as {{ticket.latest_public_comment}} put raw HTML into a hand-written JSON body, which
# then no longer parses; the ticket id, usually rendered first and always a number, can still be read.
_TICKET_ID = re.compile(rb'"ticket_id"\s*:\s*"?(\d{1,19})\b')
_EVENT = re.compile(rb'"event"\s*:\s*"([A-Za-z0-9_. -]{1,60})"')
EXAMPLE = '{"ticket_id": {{ticket.id}}, "event": "ticket_updated"}'


class MalformedHint(ValueError):
    """The body names no ticket that Relay could fetch."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Hint:
    ticket_id: int
    event: str | None = None
    updated_at: str | None = None
    salvaged: bool = False  # the JSON was broken and the ticket id was read from the text

    @property
    def dedupe_key(self) -> str | None:
        """A redelivery of the same ticket version has the same key; without a version there is none."""
        return f"{self.ticket_id}:{self.updated_at}" if self.updated_at else None


def _ticket_number(value: Any) -> int:
    if isinstance(value, bool):
        raise MalformedHint("ticket_id", "must be a ticket number, not true/false")
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str) and value.strip().lstrip("#").isdigit():
        return int(value.strip().lstrip("#"))
    raise MalformedHint("ticket_id", f"must be a ticket number, got {json.dumps(value)[:40]}")


def _short_text(value: Any, limit: int) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()[:limit]
    return None


def _from_object(data: dict[str, Any]) -> Hint:
    nested = data.get("ticket")
    ticket: dict[str, Any] = nested if isinstance(nested, dict) else {}
    value = next(
        (v for v in (data.get("ticket_id"), data.get("id"), ticket.get("id")) if v not in (None, "")),
        None,
    )
    if value is None:
        raise MalformedHint("ticket_id", f"missing: send a body such as {EXAMPLE}")
    return Hint(
        ticket_id=_ticket_number(value),
        event=_short_text(data.get("event"), 100),
        updated_at=_short_text(data.get("updated_at") or ticket.get("updated_at"), 60),
    )


def read_hint(raw: bytes) -> Hint:
    """The ticket a webhook is about; raises MalformedHint with the field at fault when there is none."""
    if not raw.strip():
        raise MalformedHint("body", f"the body is empty; send a body such as {EXAMPLE}")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        found = _TICKET_ID.search(raw)
        if found is None:
            where = (
                f" ({exc.msg} at line {exc.lineno} column {exc.colno})"
                if isinstance(exc, json.JSONDecodeError)
                else ""
            )
            raise MalformedHint(
                "body", f"the body is not valid JSON{where} and names no ticket_id; send {EXAMPLE}"
            ) from exc
        event = _EVENT.search(raw)
        return Hint(
            ticket_id=int(found.group(1)),
            event=event.group(1).decode() if event else None,
            salvaged=True,
        )
    if not isinstance(data, dict):
        raise MalformedHint("body", f"the body must be a JSON object such as {EXAMPLE}")
    return _from_object(data)
