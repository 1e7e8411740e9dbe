"""What Relay wants each external object to be, what the provider has, and how they differ. Pure, no I/O.

Relay owns status, priority, assignments and the pinned summary: a difference there is repaired by
sending Relay's state again. A PagerDuty acknowledge or resolve and a Freshdesk customer reply are
inputs: Relay applies them, as the webhook that never arrived would have.
"""

import hashlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from html import unescape
from typing import Any

from app.incidents.lifecycle import TERMINAL
from app.incidents.models import IncidentStatus
from app.integrations.pagerduty.planning import ENDED, WORKING

S = IncidentStatus
# Freshdesk ticket statuses Relay sets, and those it accepts as at least as far along.
FRESHDESK_RESOLVED = 4
FRESHDESK_CLOSED = 5
TICKET_STATUS_NAMES = {2: "Open", 3: "Pending", 4: "Resolved", 5: "Closed"}


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time from a provider ("2026-11-20T09:48:40Z") as aware UTC; None if it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class Remedy(StrEnum):
    apply = "apply"  # the provider's change is an input Relay takes
    repair = "repair"  # Relay's state is sent to the provider again
    leave = "leave"  # noted on the timeline; a person decides (a customer reopened the ticket)


@dataclass(frozen=True)
class Finding:
    """One difference between what Relay wants and what the provider has."""

    field: str
    want: Any
    have: Any
    remedy: Remedy


# --- PagerDuty -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PagerDutyView:
    """A PagerDuty incident as reconciliation compares it."""

    id: str
    number: int | None
    status: str
    priority: str | None
    assignees: tuple[str, ...]
    changed_at: str | None
    url: str | None

    def as_seen(self) -> dict[str, Any]:
        return {**asdict(self), "assignees": list(self.assignees)}


@dataclass(frozen=True)
class PagerDutyWant:
    relay_status: str
    priority: str
    commander: str | None  # the commander's PagerDuty user id, when Relay knows it

    @property
    def status(self) -> str:
        return pagerduty_status_for(self.relay_status)


def pagerduty_view(data: dict[str, Any]) -> PagerDutyView | None:
    """The fields of a PagerDuty incident (REST or webhook shape); None when it has no id or status."""
    if not data.get("id") or data.get("status") not in ("triggered", "acknowledged", "resolved"):
        return None
    priority = data.get("priority")
    assignees = []
    for item in data.get("assignments") or []:
        assignee = item.get("assignee") if isinstance(item, dict) else None
        if isinstance(assignee, dict) and assignee.get("id"):
            assignees.append(str(assignee["id"]))
    for item in data.get("assignees") or []:
        if isinstance(item, dict) and item.get("id"):
            assignees.append(str(item["id"]))
    number = data.get("incident_number", data.get("number"))
    return PagerDutyView(
        id=str(data["id"]),
        number=number if isinstance(number, int) else None,
        status=str(data["status"]),
        priority=_priority_name(priority),
        assignees=tuple(dict.fromkeys(assignees)),
        changed_at=str(data.get("last_status_change_at") or data.get("updated_at") or "") or None,
        url=str(data["html_url"]) if data.get("html_url") else None,
    )


def pagerduty_seen(seen: dict[str, Any] | None) -> PagerDutyView | None:
    if not seen:
        return None
    return PagerDutyView(**{**seen, "assignees": tuple(seen.get("assignees") or ())})


def _priority_name(priority: Any) -> str | None:
    if not isinstance(priority, dict):
        return None
    name = priority.get("summary") or priority.get("name")
    return str(name) if name else None


def pagerduty_status_for(relay_status: str) -> str:
    """The PagerDuty status Relay's status calls for."""
    if relay_status in ENDED:
        return "resolved"
    if relay_status in WORKING:
        return "acknowledged"
    return "triggered"


def pagerduty_findings(want: PagerDutyWant, have: PagerDutyView) -> list[Finding]:
    """How a PagerDuty incident differs from what its Relay incident calls for."""
    findings: list[Finding] = []
    status = want.relay_status
    if have.status == "resolved":
        if status in (S.declared, S.investigating):
            # A resolve in PagerDuty is an input: to Relay it means mitigated (Relay decides resolved).
            findings.append(Finding("status", S.mitigated, have.status, Remedy.apply))
    elif status in ENDED:
        findings.append(Finding("status", "resolved", have.status, Remedy.repair))
    elif have.status == "acknowledged" and status == S.declared:
        findings.append(Finding("status", S.investigating, have.status, Remedy.apply))
    elif have.status == "triggered" and status in WORKING:
        findings.append(Finding("status", "acknowledged", have.status, Remedy.repair))
    if have.status == "resolved" or status in ENDED:
        return findings
    # No priority at all means the account has priorities switched off: nothing to put back.
    if have.priority is not None and have.priority != want.priority:
        findings.append(Finding("priority", want.priority, have.priority, Remedy.repair))
    # While it is only triggered, escalation reassigns it on purpose: leave that to PagerDuty.
    if want.commander and have.status == "acknowledged" and want.commander not in have.assignees:
        findings.append(Finding("assignee", want.commander, list(have.assignees), Remedy.repair))
    return findings


# --- Freshdesk -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketView:
    """A Freshdesk ticket as reconciliation compares it."""

    id: int
    status: int | None
    responder_id: int | None
    updated_at: str | None
    requester_responded_at: str | None

    def as_seen(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TicketWant:
    relay_status: str
    # When Relay asked for the ticket's status (resolved_at or closed_at): a customer reply after it
    # is what reopened the ticket.
    since: datetime | None
    responder_id: int | None  # the liaison's Freshdesk agent id

    @property
    def accepted(self) -> frozenset[int]:
        if self.relay_status == S.resolved:
            return frozenset({FRESHDESK_RESOLVED, FRESHDESK_CLOSED})
        if self.relay_status == S.closed:
            return frozenset({FRESHDESK_CLOSED})
        return frozenset()


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def ticket_view(ticket: dict[str, Any]) -> TicketView:
    """The fields of a ticket as ``GET /tickets`` returns it (with ``include=stats`` when available)."""
    stats = ticket.get("stats") if isinstance(ticket.get("stats"), dict) else {}
    responded = (stats or {}).get("requester_responded_at")
    return TicketView(
        id=int(ticket["id"]),
        status=_int(ticket.get("status")),
        responder_id=_int(ticket.get("responder_id")),
        updated_at=str(ticket["updated_at"]) if ticket.get("updated_at") else None,
        requester_responded_at=str(responded) if responded else None,
    )


def ticket_seen(seen: dict[str, Any] | None) -> TicketView | None:
    return TicketView(**seen) if seen else None


def newer(value: str | None, than: str | None) -> bool:
    """Whether Freshdesk time ``value`` is later than ``than`` (anything beats nothing)."""
    later, earlier = parse_time(value), parse_time(than)
    return later is not None and (earlier is None or later > earlier)


def customer_reopened(want: TicketWant, have: TicketView) -> bool:
    responded = parse_time(have.requester_responded_at)
    return responded is not None and want.since is not None and responded > want.since


def ticket_findings(want: TicketWant, have: TicketView) -> list[Finding]:
    """How a linked ticket differs from what its incident calls for."""
    findings: list[Finding] = []
    accepted = want.accepted
    if accepted and have.status not in accepted:
        # A customer's reply reopens a resolved ticket in Freshdesk: their words wait for a person.
        remedy = Remedy.leave if customer_reopened(want, have) else Remedy.repair
        findings.append(Finding("status", min(accepted), have.status, remedy))
    if (
        want.responder_id is not None
        and want.relay_status not in TERMINAL
        and have.responder_id != want.responder_id
    ):
        findings.append(Finding("responder_id", want.responder_id, have.responder_id, Remedy.repair))
    return findings


def ticket_status_name(status: Any) -> str:
    return TICKET_STATUS_NAMES.get(status, str(status)) if isinstance(status, int) else "unknown"


# --- Slack -----------------------------------------------------------------------------------------


def _texts(node: Any, out: list[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                out.append(unescape(value).strip())
            else:
                _texts(value, out)
    elif isinstance(node, list):
        for item in node:
            _texts(item, out)


def summary_fingerprint(text: str | None, blocks: Any) -> str:
    """What a summary says, independent of the ids and flags Slack adds to blocks it stores."""
    parts = [unescape(text or "").strip()]
    _texts(blocks or [], parts)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def summary_findings(want: str, message: dict[str, Any] | None) -> list[Finding]:
    """How the pinned summary in Slack differs from the one Relay renders now."""
    if message is None:
        return [Finding("summary", "posted", "deleted", Remedy.repair)]
    have = summary_fingerprint(message.get("text"), message.get("blocks"))
    if have != want:
        return [Finding("summary", want[:12], have[:12], Remedy.repair)]
    return []
