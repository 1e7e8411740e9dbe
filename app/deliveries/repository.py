"""Outbox queries: add, claim, find what is due."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.deliveries.models import SUCCEEDED, WAITING, Delivery, DeliveryStatus


@dataclass(frozen=True)
class Job:
    """One attempt to hand to a worker; the job id is unique per delivery and attempt."""

    delivery_id: int
    attempts: int
    not_before: datetime | None = None

    @property
    def job_id(self) -> str:
        return f"deliver:{self.delivery_id}:{self.attempts}"


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(col(Delivery.status).in_(WAITING), col(Delivery.next_attempt_at) <= now),
        and_(col(Delivery.status) == DeliveryStatus.in_flight, col(Delivery.lease_expires_at) < now),
    )


async def lock_claimable(session: AsyncSession, delivery_id: int, now: datetime) -> Delivery | None:
    """The delivery, locked, if it is due and no live worker holds it (SKIP LOCKED on PostgreSQL)."""
    return await session.scalar(
        select(Delivery)
        .where(col(Delivery.id) == delivery_id, _claimable(now))
        .with_for_update(skip_locked=True)
    )


async def lock_claimed(session: AsyncSession, delivery_id: int, claim_token: str) -> Delivery | None:
    """The delivery, locked, if this worker's claim still holds (a reclaimed one is not ours)."""
    return await session.scalar(
        select(Delivery)
        .where(
            col(Delivery.id) == delivery_id,
            col(Delivery.claim_token) == claim_token,
            col(Delivery.status) == DeliveryStatus.in_flight,
        )
        .with_for_update()
    )


async def due(session: AsyncSession, now: datetime, limit: int) -> list[Job]:
    """Deliveries a worker should attempt now: waiting and due, or abandoned by a dead worker."""
    parent = aliased(Delivery)
    rows = await session.execute(
        select(col(Delivery.id), col(Delivery.attempts))
        .outerjoin(parent, col(parent.id) == col(Delivery.depends_on_id))
        .where(
            _claimable(now),
            or_(
                col(Delivery.depends_on_id).is_(None),
                col(parent.status).in_([*SUCCEEDED, DeliveryStatus.dead]),
            ),
        )
        .order_by(col(Delivery.next_attempt_at))
        .limit(limit)
    )
    return [Job(delivery_id=row.id, attempts=row.attempts) for row in rows]


async def dependents(session: AsyncSession, delivery_id: int) -> Sequence[Delivery]:
    rows = await session.scalars(select(Delivery).where(col(Delivery.depends_on_id) == delivery_id))
    return rows.all()


async def by_key(session: AsyncSession, idempotency_key: str) -> Delivery | None:
    return await session.scalar(select(Delivery).where(col(Delivery.idempotency_key) == idempotency_key))


async def for_incident(session: AsyncSession, incident_id: int) -> Sequence[Delivery]:
    rows = await session.scalars(
        select(Delivery).where(col(Delivery.incident_id) == incident_id).order_by(col(Delivery.id))
    )
    return rows.all()


async def listing(session: AsyncSession, statuses: Sequence[str], limit: int) -> Sequence[Delivery]:
    query = select(Delivery).order_by(col(Delivery.id).desc()).limit(limit)
    if statuses:
        query = query.where(col(Delivery.status).in_(statuses))
    return (await session.scalars(query)).all()


def lease_until(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
