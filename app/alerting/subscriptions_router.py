"""/api/v1/subscriptions: URLs that receive signed incident events (admin)."""

from fastapi import APIRouter, status

from app.alerting import subscriptions as service
from app.alerting.schemas import (
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
    SubscriptionUpdate,
)
from app.auth.deps import Admin, Authenticated
from app.dependencies import SessionDep
from app.incidents.router import ERRORS

DESCRIPTION = """
Relay POSTs each event as JSON, one delivery per subscriber through the outbox: retried with backoff,
in order for each incident, and visible at `GET /api/v1/deliveries`. Event types: `incident.declared`,
`incident.status_changed`, `incident.role_changed`, `incident.update_posted`, `incident.resolved`,
`incident.closed`.

Every request carries `X-Relay-Event-Id` (the same on every retry: dedupe on it), `X-Relay-Event-Type`,
`X-Relay-Timestamp` (Unix seconds) and `X-Relay-Signature: v1=<hex>`, the lowercase hex HMAC-SHA256,
keyed with the subscription's secret, of `{timestamp}.{raw body}`. Verify it on the raw bytes, compare in
constant time, and refuse a timestamp more than 5 minutes old. Answer 2xx; anything else is retried, and
a subscription whose deliveries keep dying is paused until an admin resumes it.
"""

router = APIRouter(
    prefix="/api/v1/subscriptions", tags=["subscriptions"], responses=ERRORS, dependencies=[Authenticated]
)


@router.post("", status_code=status.HTTP_201_CREATED, description=DESCRIPTION)
async def create_subscription(
    subscription_in: SubscriptionCreate, actor: Admin, session: SessionDep
) -> SubscriptionCreated:
    """Subscribe a URL to incident events (admin); the answer holds its secret, shown this once."""
    subscription, secret = await service.create(session, subscription_in, created_by=actor.name)
    return service.created(subscription, secret)


@router.get("")
async def list_subscriptions(_actor: Admin, session: SessionDep) -> list[SubscriptionPublic]:
    """Every subscription, active or paused (admin)."""
    return [service.public(s) for s in await service.listing(session)]


@router.get("/{subscription_id}")
async def get_subscription(subscription_id: int, _actor: Admin, session: SessionDep) -> SubscriptionPublic:
    """One subscription, with its run of failed deliveries (admin)."""
    return service.public(await service.get_or_404(session, subscription_id))


@router.patch("/{subscription_id}")
async def update_subscription(
    subscription_id: int, changes: SubscriptionUpdate, _actor: Admin, session: SessionDep
) -> SubscriptionPublic:
    """Change a subscription's URL, event types or description (admin)."""
    subscription = await service.get_or_404(session, subscription_id)
    return service.public(await service.update(session, subscription, changes))


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_subscription(subscription_id: int, _actor: Admin, session: SessionDep) -> None:
    """Remove a subscription (admin)."""
    await service.delete(session, await service.get_or_404(session, subscription_id))


@router.post("/{subscription_id}/pause")
async def pause_subscription(subscription_id: int, actor: Admin, session: SessionDep) -> SubscriptionPublic:
    """Stop sending events to a subscription until it is resumed (admin)."""
    subscription = await service.get_or_404(session, subscription_id)
    return service.public(await service.pause(session, subscription, f"paused by {actor.name}"))


@router.post("/{subscription_id}/resume")
async def resume_subscription(subscription_id: int, _actor: Admin, session: SessionDep) -> SubscriptionPublic:
    """Send events to a paused subscription again (admin)."""
    subscription = await service.get_or_404(session, subscription_id)
    return service.public(await service.resume(session, subscription))
