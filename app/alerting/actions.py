"""Sending one event to one subscriber, and keeping count of the deliveries that die."""

import json
from typing import Any

import structlog

from app import clock
from app.alerting import repository as repo
from app.alerting import verification
from app.alerting.models import Subscription, SubscriptionStatus
from app.alerting.outbound import key_prefix
from app.db.session import unit_of_work
from app.deliveries import repository as deliveries_repo
from app.integrations.actions import Action, ActionContext, Result
from app.integrations.errors import PermanentError, ProviderError
from app.integrations.http import send

log = structlog.get_logger(__name__)


def encode(event: dict[str, Any]) -> bytes:
    """The exact bytes sent and signed."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


async def send_event(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """POST an event to a subscriber, signed with its secret; count the outcome against it."""
    subscription_id: int = payload["subscription_id"]
    event: dict[str, Any] = payload["event"]
    async with ctx.sessionmaker() as session:
        subscription = await session.get(Subscription, subscription_id)
    if subscription is None:
        return {"skipped": f"subscription {subscription_id} was deleted"}
    if subscription.status == SubscriptionStatus.paused:
        raise PermanentError(f"subscription {subscription_id} is paused; resume it, then retry this delivery")
    body = encode(event)
    headers = {
        "Content-Type": "application/json",
        verification.EVENT_ID_HEADER: event["id"],
        verification.EVENT_TYPE_HEADER: event["type"],
        **verification.signed_headers(subscription.signing_secret, body, clock.now()),
    }
    try:
        response = await send(ctx.clients.webhooks, "POST", subscription.url, content=body, headers=headers)
    except ProviderError as exc:
        await _failed(ctx, subscription_id, key_prefix(subscription_id) + event["id"], exc)
        raise
    await _succeeded(ctx, subscription_id)
    return {"status_code": response.status_code, "event_id": event["id"]}


async def _succeeded(ctx: ActionContext, subscription_id: int) -> None:
    async with unit_of_work(ctx.sessionmaker) as session:
        await repo.count_success(session, subscription_id, clock.now())


async def _failed(ctx: ActionContext, subscription_id: int, key: str, exc: ProviderError) -> None:
    """Count a delivery that this failure kills; pause the subscription after too many in a row."""
    async with unit_of_work(ctx.sessionmaker) as session:
        delivery = await deliveries_repo.by_key(session, key)
        # The runner makes a delivery dead on a permanent error or on its last attempt.
        final = isinstance(exc, PermanentError) or (
            delivery is not None and delivery.attempts >= delivery.max_attempts
        )
        if not final:
            return
        now = clock.now()
        dead = await repo.count_dead(session, subscription_id, exc.message[:2000], now)
        limit = ctx.settings.alerting.pause_after_dead_deliveries
        if dead is not None and dead >= limit:
            reason = f"{dead} deliveries in a row failed; the last: {exc.message[:500]}"
            await repo.pause(session, subscription_id, reason, now)
            log.warning("subscription_paused", subscription_id=subscription_id, dead_in_a_row=dead)


ACTIONS: dict[str, Action] = {"webhook.send": send_event}
