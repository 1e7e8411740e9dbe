"""How long one incident took to reach each stage, and how many updates it owed. Pure, no I/O."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.incidents.models import IncidentStatus

S = IncidentStatus

# How far along the lifecycle each status is; a regression moves an incident back down.
PROGRESS = {S.declared: 0, S.investigating: 1, S.mitigated: 2, S.resolved: 3, S.closed: 4}
# Neither measures a response: one was merged into another incident, the other declared in error.
NOT_MEASURED = frozenset({S.duplicate, S.cancelled})
STAGES = ("acknowledge", "mitigate", "resolve", "close")


@dataclass(frozen=True)
class IncidentFacts:
    """What the durations are computed from: the incident's timestamps and two timeline aggregates."""

    incident_id: int
    service: str
    severity: str
    status: str
    declared_at: datetime
    investigating_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    # The first move out of `declared`; investigating_at alone forgets it when an incident regresses.
    first_move_at: datetime | None
    updates_sent: int


@dataclass(frozen=True)
class Durations:
    """When an incident reached each stage, counted only for stages it still stands at or beyond."""

    declared_at: datetime
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None

    def reached_at(self, stage: str) -> datetime | None:
        """When ``stage`` (acknowledge, mitigate, resolve, close) was reached."""
        return {
            "acknowledge": self.acknowledged_at,
            "mitigate": self.mitigated_at,
            "resolve": self.resolved_at,
            "close": self.closed_at,
        }[stage]

    def seconds(self, stage: str) -> float | None:
        """Seconds from declaration to ``stage``; None when the incident has not reached it."""
        at = self.reached_at(stage)
        return None if at is None else (at - self.declared_at).total_seconds()


def durations(facts: IncidentFacts) -> Durations:
    """The stages an incident reached; acknowledged means its first move out of ``declared``."""
    progress = -1 if facts.status in NOT_MEASURED else PROGRESS.get(S(facts.status), -1)
    acknowledged = None
    if progress >= 1:
        later = [t for t in (facts.investigating_at, facts.mitigated_at, facts.resolved_at) if t]
        acknowledged = facts.first_move_at or (min(later) if later else None)
    # Resolving straight from declared or investigating also ends the customers' impact.
    mitigated = (facts.mitigated_at or facts.resolved_at) if progress >= 2 else None
    return Durations(
        declared_at=facts.declared_at,
        acknowledged_at=acknowledged,
        mitigated_at=mitigated,
        resolved_at=facts.resolved_at if progress >= 3 else None,
        closed_at=facts.closed_at if progress >= 4 else None,
    )


def updates_due(facts: IncidentFacts, cadence_minutes: int, now: datetime) -> int:
    """Internal updates owed: one when declared, then one per full cadence until resolved (or now)."""
    if facts.status in NOT_MEASURED:
        return 0
    end = durations(facts).resolved_at or now
    open_for = max(end - facts.declared_at, timedelta(0))
    return 1 + int(open_for // timedelta(minutes=cadence_minutes))
