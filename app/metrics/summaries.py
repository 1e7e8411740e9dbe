"""Counts, medians and 90th percentiles of response durations, overall and by group. Pure, no I/O."""

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from app.metrics.durations import STAGES, IncidentFacts, durations, updates_due


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` quantile, interpolating linearly between the closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class StageSummary:
    count: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass
class GroupSummary:
    """Everything the metrics endpoint reports for one set of incidents."""

    count: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    stage_seconds: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})
    updates_sent: int = 0
    updates_due: int = 0

    def stage(self, name: str) -> StageSummary:
        values = self.stage_seconds[name]
        return StageSummary(len(values), percentile(values, 0.5), percentile(values, 0.9))


def _add(summary: GroupSummary, facts: IncidentFacts, due: int) -> None:
    summary.count += 1
    summary.statuses[facts.status] += 1
    measured = durations(facts)
    for stage in STAGES:
        seconds = measured.seconds(stage)
        if seconds is not None:
            summary.stage_seconds[stage].append(seconds)
    if due:
        summary.updates_sent += facts.updates_sent
        summary.updates_due += due


@dataclass
class Summaries:
    overall: GroupSummary
    by_service: dict[str, GroupSummary]
    by_severity: dict[str, GroupSummary]
    by_service_and_severity: dict[tuple[str, str], GroupSummary]


def summarise(
    incidents: Iterable[IncidentFacts], cadence_minutes: Callable[[str], int], now: datetime
) -> Summaries:
    """Summaries of ``incidents`` overall, by service, by severity, and by both."""
    result = Summaries(
        GroupSummary(), defaultdict(GroupSummary), defaultdict(GroupSummary), defaultdict(GroupSummary)
    )
    for facts in incidents:
        due = updates_due(facts, cadence_minutes(facts.severity), now)
        for summary in (
            result.overall,
            result.by_service[facts.service],
            result.by_severity[facts.severity],
            result.by_service_and_severity[(facts.service, facts.severity)],
        ):
            _add(summary, facts, due)
    return result
