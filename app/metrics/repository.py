"""The queries behind response metrics and the operators' /metrics scrape."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.deliveries.models import Delivery, DeliveryStatus
from app.incidents.models import Incident, IncidentStatus, TimelineEntry, TimelineKind
from app.metrics.durations import IncidentFacts

# Deliveries an operator watches; finished ones are left out because that table only grows.
WATCHED_DELIVERY_STATUSES = (
    DeliveryStatus.pending,
    DeliveryStatus.in_flight,
    DeliveryStatus.failed_will_retry,
    DeliveryStatus.dead,
)
UNDELIVERED = (DeliveryStatus.pending, DeliveryStatus.in_flight, DeliveryStatus.failed_will_retry)


def incident_filters(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    service: str | None = None,
    severities: Sequence[str] = (),
    incident_id: int | None = None,
) -> list[ColumnElement[bool]]:
    """Conditions on incidents: declared in [since, until), of a service, of some severities."""
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(col(Incident.declared_at) >= since)
    if until is not None:
        conditions.append(col(Incident.declared_at) < until)
    if service:
        conditions.append(func.lower(col(Incident.service)) == service.lower())
    if severities:
        conditions.append(col(Incident.severity).in_(severities))
    if incident_id is not None:
        conditions.append(col(Incident.id) == incident_id)
    return conditions


async def incident_facts(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]], *, limit: int
) -> list[IncidentFacts]:
    """Timestamps of the matching incidents with their first move out of declared and updates sent."""
    moved_out = and_(
        col(TimelineEntry.kind) == TimelineKind.status_change,
        col(TimelineEntry.data)["from"].as_string() == IncidentStatus.declared,
    )
    sent = and_(
        col(TimelineEntry.kind) == TimelineKind.communication, col(TimelineEntry.deleted_at).is_(None)
    )
    timeline = (
        select(
            col(TimelineEntry.incident_id).label("incident_id"),
            func.min(case((moved_out, col(TimelineEntry.occurred_at)))).label("first_move_at"),
            func.count(case((sent, 1))).label("updates_sent"),
        )
        .where(
            col(TimelineEntry.incident_id).in_(select(col(Incident.id)).where(*conditions)),
            col(TimelineEntry.kind).in_([TimelineKind.status_change, TimelineKind.communication]),
        )
        .group_by(col(TimelineEntry.incident_id))
        .subquery()
    )
    rows = await session.execute(
        select(
            col(Incident.id),
            col(Incident.service),
            col(Incident.severity),
            col(Incident.status),
            col(Incident.declared_at),
            col(Incident.investigating_at),
            col(Incident.mitigated_at),
            col(Incident.resolved_at),
            col(Incident.closed_at),
            timeline.c.first_move_at,
            timeline.c.updates_sent,
        )
        .outerjoin(timeline, timeline.c.incident_id == col(Incident.id))
        .where(*conditions)
        .order_by(col(Incident.declared_at), col(Incident.id))
        .limit(limit)
    )
    return [
        IncidentFacts(
            incident_id=row.id,
            service=row.service,
            severity=row.severity,
            status=row.status,
            declared_at=row.declared_at,
            investigating_at=row.investigating_at,
            mitigated_at=row.mitigated_at,
            resolved_at=row.resolved_at,
            closed_at=row.closed_at,
            first_move_at=row.first_move_at,
            updates_sent=row.updates_sent or 0,
        )
        for row in rows
    ]


async def delivery_counts(session: AsyncSession) -> dict[str, int]:
    """How many deliveries wait, are in flight, retry or are dead (read from the status index)."""
    rows = await session.execute(
        select(col(Delivery.status), func.count())
        .where(col(Delivery.status).in_(WATCHED_DELIVERY_STATUSES))
        .group_by(col(Delivery.status))
    )
    counts = {str(status): 0 for status in WATCHED_DELIVERY_STATUSES}
    counts.update((str(status), count) for status, count in rows)
    return counts


async def oldest_undelivered_at(session: AsyncSession) -> datetime | None:
    """When the oldest delivery that has neither succeeded nor died was written."""
    return await session.scalar(
        select(func.min(col(Delivery.created_at))).where(col(Delivery.status).in_(UNDELIVERED))
    )
