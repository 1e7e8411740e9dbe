"""The incident state machine: which moves are legal and what each one needs. Pure, no I/O."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from app.incidents.models import ActionItemStatus, IncidentStatus

S = IncidentStatus

ALLOWED: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    S.declared: frozenset({S.investigating, S.mitigated, S.resolved, S.duplicate, S.cancelled}),
    S.investigating: frozenset({S.mitigated, S.resolved, S.duplicate, S.cancelled}),
    # An incident can regress: the impact came back after mitigation or resolution.
    S.mitigated: frozenset({S.investigating, S.resolved}),
    S.resolved: frozenset({S.closed, S.investigating}),
    S.closed: frozenset(),
    S.duplicate: frozenset(),
    S.cancelled: frozenset(),
}

OPEN = frozenset({S.declared, S.investigating, S.mitigated})
TERMINAL = frozenset({S.closed, S.duplicate, S.cancelled})

# The order of progress. A move down it (mitigated → investigating) is a regression, which only a
# person decides: events from other systems, possibly late or out of order, only move up it.
PROGRESS: tuple[IncidentStatus, ...] = (S.declared, S.investigating, S.mitigated, S.resolved, S.closed)

# Each status and the incident column that records when it was entered.
ENTERED_AT = {
    S.investigating: "investigating_at",
    S.mitigated: "mitigated_at",
    S.resolved: "resolved_at",
    S.closed: "closed_at",
}


@dataclass(frozen=True)
class ActionItemState:
    durable: bool
    status: str


@dataclass(frozen=True)
class TransitionFacts:
    """What the guards look at, gathered by the service."""

    durable_reason: str | None
    action_items: Iterable[ActionItemState]
    report_completed_at: datetime | None
    customer_confirmed_at: datetime | None
    autoclose_at: datetime | None
    now: datetime
    duplicate_of: str | None = None
    cancel_reason: str | None = None


def advances(current: IncidentStatus, target: IncidentStatus) -> bool:
    """Whether ``target`` is a legal move further along ``PROGRESS`` than ``current``."""
    if current not in PROGRESS or target not in PROGRESS or target not in ALLOWED[current]:
        return False
    return PROGRESS.index(target) > PROGRESS.index(current)


def missing_for(current: IncidentStatus, target: IncidentStatus, facts: TransitionFacts) -> list[str]:
    """What stands between ``current`` and ``target``; empty when the move may happen."""
    if target == current:
        return [f"the incident is already {current}"]
    if target not in ALLOWED[current]:
        allowed = ", ".join(sorted(ALLOWED[current])) or "nothing (it is final)"
        return [f"an incident that is {current} cannot become {target}; it can become {allowed}"]
    if target == S.resolved:
        return _missing_for_resolve(facts)
    if target == S.closed:
        return _missing_for_close(facts)
    if target == S.duplicate and not facts.duplicate_of:
        return ["the reference of the incident this one duplicates (duplicate_of)"]
    if target == S.cancelled and not facts.cancel_reason:
        return ["a reason why the incident was declared in error (reason)"]
    return []


def _missing_for_resolve(facts: TransitionFacts) -> list[str]:
    if facts.durable_reason:
        return []
    durable = [item for item in facts.action_items if item.durable and item.status != "cancelled"]
    if not durable:
        return [
            "a durable resolution: add durable action items and complete them, "
            "or record why the mitigation itself is durable (durable_reason)"
        ]
    open_items = sum(1 for item in durable if item.status != ActionItemStatus.done)
    if open_items:
        return [
            f"{open_items} durable action item(s) still open; complete them "
            "or record why the mitigation itself is durable (durable_reason)"
        ]
    return []


def _missing_for_close(facts: TransitionFacts) -> list[str]:
    missing = []
    if facts.report_completed_at is None:
        missing.append("the incident report (mark it complete with report_completed)")
    clock_ran_out = facts.autoclose_at is not None and facts.autoclose_at <= facts.now
    if facts.customer_confirmed_at is None and not clock_ran_out:
        missing.append("the customer's confirmation (customer_confirmed) or the end of the auto-close wait")
    return missing
