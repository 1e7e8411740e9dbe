"""Response metrics: per incident, and summarised over a window by service and severity."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.config import PolicySettings
from app.errors import ValidationFailed, field_error
from app.incidents.models import Incident
from app.metrics import repository as repo
from app.metrics.durations import STAGES, durations, updates_due
from app.metrics.schemas import Durations, GroupMetrics, StageMetrics, UpdateMetrics
from app.metrics.summaries import GroupSummary, Summaries, summarise

# Keeps one request's work bounded; a wider window has to be asked for in parts.
MAX_INCIDENTS = 20_000


async def incident_durations(session: AsyncSession, incident: Incident, policy: PolicySettings) -> Durations:
    """One incident's durations and its updates sent against updates due."""
    assert incident.id is not None
    (facts,) = await repo.incident_facts(session, repo.incident_filters(incident_id=incident.id), limit=1)
    measured = durations(facts)
    cadence = policy.for_severity(incident.severity).internal_update_minutes
    return Durations(
        declared_at=measured.declared_at,
        acknowledged_at=measured.acknowledged_at,
        mitigated_at=measured.mitigated_at,
        resolved_at=measured.resolved_at,
        closed_at=measured.closed_at,
        time_to_acknowledge_seconds=measured.seconds("acknowledge"),
        time_to_mitigate_seconds=measured.seconds("mitigate"),
        time_to_resolve_seconds=measured.seconds("resolve"),
        time_to_close_seconds=measured.seconds("close"),
        updates_sent=facts.updates_sent,
        updates_due=updates_due(facts, cadence, clock.now()),
        update_cadence_minutes=cadence,
    )


async def summaries(
    session: AsyncSession,
    policy: PolicySettings,
    *,
    since: datetime,
    until: datetime,
    service: str | None,
    severities: Sequence[str],
) -> Summaries:
    """Summaries of the incidents declared in [since, until) that match the filters."""
    conditions = repo.incident_filters(since=since, until=until, service=service, severities=severities)
    facts = await repo.incident_facts(session, conditions, limit=MAX_INCIDENTS + 1)
    if len(facts) > MAX_INCIDENTS:
        raise ValidationFailed(
            f"More than {MAX_INCIDENTS} incidents match; ask for a shorter window.",
            errors=[field_error("query.from", "the window holds too many incidents")],
        )
    return summarise(
        facts, lambda severity: policy.for_severity(severity).internal_update_minutes, clock.now()
    )


def group_metrics(
    summary: GroupSummary, *, service: str | None = None, severity: str | None = None
) -> GroupMetrics:
    """The public form of one group's summary."""
    stages = {}
    for stage in STAGES:
        numbers = summary.stage(stage)
        stages[f"time_to_{stage}"] = StageMetrics(
            count=numbers.count, median_seconds=numbers.median_seconds, p90_seconds=numbers.p90_seconds
        )
    return GroupMetrics(
        service=service,
        severity=severity,
        count=summary.count,
        statuses=dict(sorted(summary.statuses.items())),
        updates=UpdateMetrics(sent=summary.updates_sent, due=summary.updates_due),
        **stages,
    )
