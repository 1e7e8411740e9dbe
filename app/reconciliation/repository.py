"""Every query reconciliation makes: runs, object states, links, and deliveries on their way."""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.deliveries.models import WAITING, Delivery, DeliveryStatus
from app.incidents.lifecycle import TERMINAL
from app.incidents.models import Incident, IncidentLink, Role, RoleAssignment
from app.integrations.freshdesk.models import FreshdeskTicket
from app.people.models import Person
from app.reconciliation.models import LinkState, ReconciliationRun, RunStatus

UNDERWAY = (*WAITING, DeliveryStatus.in_flight)


async def latest_finished(session: AsyncSession, provider: str) -> ReconciliationRun | None:
    """The provider's last run that read its whole window: where the next window starts."""
    return await session.scalar(
        select(ReconciliationRun)
        .where(
            col(ReconciliationRun.provider) == provider,
            col(ReconciliationRun.status) == RunStatus.finished,
        )
        .order_by(col(ReconciliationRun.started_at).desc(), col(ReconciliationRun.id).desc())
        .limit(1)
    )


async def abandon_expired(session: AsyncSession, provider: str, now: datetime) -> int:
    """Free the provider's slot from a run whose worker died (its lease ran out); returns how many."""
    result = await session.execute(
        update(ReconciliationRun)
        .where(
            col(ReconciliationRun.running) == provider,
            col(ReconciliationRun.lease_expires_at) < now,
        )
        .values(
            running=None,
            status=RunStatus.failed,
            finished_at=now,
            error="abandoned: the run did not finish within RELAY_RECONCILIATION_RUN_TIMEOUT_SECONDS",
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def runs(session: AsyncSession, provider: str | None, limit: int) -> list[ReconciliationRun]:
    query = select(ReconciliationRun).order_by(
        col(ReconciliationRun.started_at).desc(), col(ReconciliationRun.id).desc()
    )
    if provider:
        query = query.where(col(ReconciliationRun.provider) == provider)
    return list((await session.scalars(query.limit(limit))).all())


async def latest_per_provider(session: AsyncSession) -> dict[str, ReconciliationRun]:
    newest = (
        select(func.max(col(ReconciliationRun.id)))
        .group_by(col(ReconciliationRun.provider))
        .scalar_subquery()
    )
    rows = await session.scalars(select(ReconciliationRun).where(col(ReconciliationRun.id).in_(newest)))
    return {run.provider: run for run in rows}


async def drift_totals(session: AsyncSession) -> dict[str, tuple[int, int]]:
    """Drift found and repaired by each provider's runs, ever: counters that survive any process."""
    rows = await session.execute(
        select(
            col(ReconciliationRun.provider),
            func.coalesce(func.sum(col(ReconciliationRun.drift_found)), 0),
            func.coalesce(func.sum(col(ReconciliationRun.repaired)), 0),
        ).group_by(col(ReconciliationRun.provider))
    )
    return {provider: (int(found), int(repaired)) for provider, found, repaired in rows}


async def states(session: AsyncSession, kind: str, external_ids: Collection[str]) -> dict[str, LinkState]:
    if not external_ids:
        return {}
    rows = await session.scalars(
        select(LinkState).where(
            col(LinkState.kind) == kind, col(LinkState.external_id).in_(list(external_ids))
        )
    )
    return {state.external_id: state for state in rows}


async def state(session: AsyncSession, kind: str, external_id: str) -> LinkState | None:
    return await session.scalar(
        select(LinkState).where(col(LinkState.kind) == kind, col(LinkState.external_id) == external_id)
    )


async def link(session: AsyncSession, kind: str, external_id: str) -> IncidentLink | None:
    return await session.scalar(
        select(IncidentLink).where(
            col(IncidentLink.kind) == kind, col(IncidentLink.external_id) == external_id
        )
    )


async def followed_tickets(session: AsyncSession, ticket_ids: Collection[int]) -> set[int]:
    """Which of these Freshdesk tickets Relay knows: seen by a webhook, or linked by hand."""
    if not ticket_ids:
        return set()
    rows = await session.scalars(
        select(col(FreshdeskTicket.ticket_id)).where(col(FreshdeskTicket.ticket_id).in_(list(ticket_ids)))
    )
    found = set(rows.all())
    linked = await session.scalars(
        select(col(IncidentLink.external_id)).where(
            col(IncidentLink.kind) == "freshdesk_ticket",
            col(IncidentLink.external_id).in_([str(t) for t in ticket_ids]),
        )
    )
    return found | {int(value) for value in linked if value.isdigit()}


async def relay_side_links(
    session: AsyncSession, kind: str, since: datetime, limit: int
) -> list[IncidentLink]:
    """Links whose incident changed in Relay since ``since``, or that a run asked to look at again."""
    flagged = select(col(LinkState.external_id)).where(
        col(LinkState.kind) == kind, col(LinkState.recheck).is_(True)
    )
    rows = await session.scalars(
        select(IncidentLink)
        .join(Incident, col(Incident.id) == col(IncidentLink.incident_id))
        .where(
            col(IncidentLink.kind) == kind,
            or_(col(Incident.updated_at) >= since, col(IncidentLink.external_id).in_(flagged)),
        )
        .order_by(col(Incident.updated_at), col(IncidentLink.id))
        .limit(limit)
    )
    return list(rows.all())


async def incidents(session: AsyncSession, ids: Collection[int]) -> dict[int, Incident]:
    if not ids:
        return {}
    rows = await session.scalars(select(Incident).where(col(Incident.id).in_(list(ids))))
    return {incident.id: incident for incident in rows if incident.id is not None}


async def lock_incident(session: AsyncSession, incident_id: int) -> Incident | None:
    """The incident, locked until the transaction ends, as it is now (not as this session cached it)."""
    return await session.scalar(
        select(Incident)
        .where(col(Incident.id) == incident_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def underway(session: AsyncSession, incident_ids: Collection[int], provider: str) -> list[Delivery]:
    """The provider's deliveries for these incidents that have not succeeded or died yet."""
    if not incident_ids:
        return []
    rows = await session.scalars(
        select(Delivery).where(
            col(Delivery.incident_id).in_(list(incident_ids)),
            col(Delivery.provider) == provider,
            col(Delivery.status).in_(UNDERWAY),
        )
    )
    return list(rows.all())


async def holder_identity(session: AsyncSession, incident_id: int, role: Role, identity: Any) -> str | None:
    """The newest current holder's id on another system (``Person.pagerduty_user_id``…), if they have one."""
    value = await session.scalar(
        select(identity)
        .join(RoleAssignment, col(RoleAssignment.person_id) == col(Person.id))
        .where(
            col(RoleAssignment.incident_id) == incident_id,
            col(RoleAssignment.role) == role,
            col(RoleAssignment.relieved_at).is_(None),
            identity.is_not(None),
        )
        .order_by(col(RoleAssignment.assigned_at).desc(), col(RoleAssignment.id).desc())
        .limit(1)
    )
    return str(value) if value is not None else None


async def summaries_changed(session: AsyncSession, since: datetime, limit: int) -> list[Incident]:
    """Incidents with a pinned summary whose record changed since ``since``."""
    rows = await session.scalars(
        select(Incident)
        .where(
            col(Incident.slack_channel_id).is_not(None),
            col(Incident.slack_summary_ts).is_not(None),
            col(Incident.updated_at) >= since,
        )
        .order_by(col(Incident.updated_at), col(Incident.id))
        .limit(limit)
    )
    return list(rows.all())


async def summaries_to_check(
    session: AsyncSession, kind: str, flagged_limit: int, spot: int
) -> list[Incident]:
    """Summaries a run asked to look at again, then open incidents' summaries least recently verified."""
    with_summary = (
        col(Incident.slack_channel_id).is_not(None),
        col(Incident.slack_summary_ts).is_not(None),
    )
    flagged = await session.scalars(
        select(Incident)
        .join(LinkState, col(LinkState.incident_id) == col(Incident.id))
        .where(*with_summary, col(LinkState.kind) == kind, col(LinkState.recheck).is_(True))
        .limit(flagged_limit)
    )
    found = list(flagged.all())
    if spot <= 0:
        return found
    checked = (
        select(col(LinkState.incident_id), func.max(col(LinkState.checked_at)).label("checked_at"))
        .where(col(LinkState.kind) == kind)
        .group_by(col(LinkState.incident_id))
        .subquery()
    )
    rows = await session.scalars(
        select(Incident)
        .outerjoin(checked, checked.c.incident_id == col(Incident.id))
        .where(*with_summary, col(Incident.status).not_in(list(TERMINAL)))
        # Never verified first (NULL sorts as the oldest on both backends with this expression).
        .order_by(checked.c.checked_at.is_not(None), checked.c.checked_at, col(Incident.id))
        .limit(spot)
    )
    return found + list(rows.all())


async def clear_recheck(session: AsyncSession, ids: Sequence[int]) -> None:
    if ids:
        await session.execute(
            update(LinkState)
            .where(col(LinkState.id).in_(list(ids)))
            .values(recheck=False)
            .execution_options(synchronize_session=False)
        )
