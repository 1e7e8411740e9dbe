"""Webhook subscriptions: created, changed, paused and resumed by an admin."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.alerting import repository as repo
from app.alerting import verification
from app.alerting.models import Subscription, SubscriptionStatus
from app.alerting.schemas import (
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
    SubscriptionUpdate,
)
from app.errors import NotFound

SECRET_PREFIX = "rlyw_"


async def create(
    session: AsyncSession, data: SubscriptionCreate, *, created_by: str | None
) -> tuple[Subscription, str]:
    """Store a new subscription; return it with its signing secret, shown only this once."""
    secret = verification.new_secret(SECRET_PREFIX)
    now = clock.now()
    subscription = Subscription(
        url=data.url,
        description=data.description,
        event_types=list(dict.fromkeys(str(t) for t in data.event_types)),
        secret_prefix=secret[:12],
        signing_secret=secret,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(subscription)
    await session.flush()
    return subscription, secret


async def get_or_404(session: AsyncSession, subscription_id: int) -> Subscription:
    """A subscription, or 404."""
    subscription = await session.get(Subscription, subscription_id)
    if subscription is None:
        raise NotFound(f"There is no subscription {subscription_id}.")
    return subscription


async def listing(session: AsyncSession) -> Sequence[Subscription]:
    """Every subscription, active or paused."""
    return await repo.subscriptions(session)


async def update(session: AsyncSession, subscription: Subscription, data: SubscriptionUpdate) -> Subscription:
    """Change the fields the caller sent."""
    values = data.model_dump(exclude_unset=True, exclude_none=True)
    if "event_types" in values:
        values["event_types"] = list(dict.fromkeys(str(t) for t in values["event_types"]))
    for name, value in values.items():
        setattr(subscription, name, value)
    subscription.updated_at = clock.now()
    await session.flush()
    return subscription


async def delete(session: AsyncSession, subscription: Subscription) -> None:
    """Forget a subscription; deliveries still queued for it are dropped when their turn comes."""
    await session.delete(subscription)
    await session.flush()


async def pause(session: AsyncSession, subscription: Subscription, reason: str) -> Subscription:
    """Stop sending events to a subscription until it is resumed."""
    if subscription.status != SubscriptionStatus.paused:
        now = clock.now()
        subscription.status = SubscriptionStatus.paused
        subscription.paused_at = now
        subscription.paused_reason = reason
        subscription.updated_at = now
        await session.flush()
    return subscription


async def resume(session: AsyncSession, subscription: Subscription) -> Subscription:
    """Send events again, with a clean record; deliveries that died can be retried one by one."""
    subscription.status = SubscriptionStatus.active
    subscription.dead_in_a_row = 0
    subscription.paused_at = None
    subscription.paused_reason = None
    subscription.updated_at = clock.now()
    await session.flush()
    return subscription


def public(subscription: Subscription) -> SubscriptionPublic:
    """The subscription as the API shows it: never its secret."""
    return SubscriptionPublic.model_validate(subscription, from_attributes=True)


def created(subscription: Subscription, secret: str) -> SubscriptionCreated:
    """The subscription as its creator sees it once: with its secret."""
    return SubscriptionCreated(**public(subscription).model_dump(), secret=secret)
