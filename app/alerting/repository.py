"""Every query the alerting feature makes."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.alerting.models import Integration, Subscription, SubscriptionStatus
from app.deliveries.models import Delivery
from app.incidents.models import IncidentLink, TimelineEntry

ALERT_LINK = "alert"
ALERT_SOURCE = "integration"


async def integration_by_key(session: AsyncSession, key: str, *, lock: bool = False) -> Integration | None:
    """A live integration by its URL key; ``lock`` serialises its alerts until the transaction ends."""
    query = select(Integration).where(col(Integration.key) == key, col(Integration.deleted_at).is_(None))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def live_integration(session: AsyncSession, integration_id: int) -> Integration | None:
    """An integration that has not been deleted."""
    return await session.scalar(
        select(Integration).where(
            col(Integration.id) == integration_id, col(Integration.deleted_at).is_(None)
        )
    )


async def live_integrations(session: AsyncSession) -> Sequence[Integration]:
    """Every integration that has not been deleted."""
    rows = await session.scalars(
        select(Integration).where(col(Integration.deleted_at).is_(None)).order_by(col(Integration.id))
    )
    return rows.all()


async def alert_link(session: AsyncSession, external_id: str) -> IncidentLink | None:
    """The link that ties an alert key to its incident."""
    return await session.scalar(
        select(IncidentLink).where(
            col(IncidentLink.kind) == ALERT_LINK, col(IncidentLink.external_id) == external_id
        )
    )


async def alert_entry(session: AsyncSession, incident_id: int, external_id: str) -> TimelineEntry | None:
    """The counter entry of one alert key on one incident."""
    return await session.scalar(
        select(TimelineEntry).where(
            col(TimelineEntry.incident_id) == incident_id,
            col(TimelineEntry.source) == ALERT_SOURCE,
            col(TimelineEntry.external_id) == external_id,
        )
    )


async def alert_entries(session: AsyncSession, incident_id: int) -> Sequence[TimelineEntry]:
    """The counter entries of every alert that joined an incident."""
    rows = await session.scalars(
        select(TimelineEntry).where(
            col(TimelineEntry.incident_id) == incident_id,
            col(TimelineEntry.source) == ALERT_SOURCE,
            col(TimelineEntry.external_id).is_not(None),
        )
    )
    return rows.all()


async def subscriptions(session: AsyncSession) -> Sequence[Subscription]:
    """Every subscription, oldest first."""
    return (await session.scalars(select(Subscription).order_by(col(Subscription.id)))).all()


async def active_subscriptions(session: AsyncSession) -> Sequence[Subscription]:
    """The subscriptions that are not paused."""
    rows = await session.scalars(
        select(Subscription)
        .where(col(Subscription.status) == SubscriptionStatus.active)
        .order_by(col(Subscription.id))
    )
    return rows.all()


async def last_delivery(session: AsyncSession, incident_id: int, key_prefix: str) -> Delivery | None:
    """The latest delivery of one subscription's events about one incident."""
    return await session.scalar(
        select(Delivery)
        .where(
            col(Delivery.incident_id) == incident_id,
            col(Delivery.idempotency_key).startswith(key_prefix),
        )
        .order_by(col(Delivery.id).desc())
        .limit(1)
    )


async def count_dead(session: AsyncSession, subscription_id: int, error: str, now: datetime) -> int | None:
    """Add one to a subscription's run of dead deliveries; the new count (None if it is gone)."""
    value = await session.scalar(
        update(Subscription)
        .where(col(Subscription.id) == subscription_id)
        .values(
            dead_in_a_row=col(Subscription.dead_in_a_row) + 1,
            last_error=error,
            last_failure_at=now,
            updated_at=now,
        )
        .returning(col(Subscription.dead_in_a_row))
    )
    return None if value is None else int(value)


async def pause(session: AsyncSession, subscription_id: int, reason: str, now: datetime) -> None:
    """Pause a subscription that is still active."""
    await session.execute(
        update(Subscription)
        .where(col(Subscription.id) == subscription_id, col(Subscription.status) == SubscriptionStatus.active)
        .values(status=SubscriptionStatus.paused, paused_at=now, paused_reason=reason, updated_at=now)
    )


async def count_success(session: AsyncSession, subscription_id: int, now: datetime) -> None:
    """End a subscription's run of dead deliveries."""
    await session.execute(
        update(Subscription)
        .where(col(Subscription.id) == subscription_id)
        .values(dead_in_a_row=0, last_success_at=now)
    )
