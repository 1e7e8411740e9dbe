"""Writing deliveries with the change that causes them, and the policy for failed attempts."""

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.config import DeliverySettings
from app.db.session import after_commit
from app.deliveries import repository as repo
from app.deliveries.models import Delivery, DeliveryStatus
from app.deliveries.repository import Job
from app.errors import Conflict, NotFound


class Dispatcher(Protocol):
    """Hands delivery attempts to whatever runs them (ARQ workers, or the API process itself)."""

    async def dispatch(self, jobs: Sequence[Job]) -> None: ...


def dependency(key: str, template: str | None = None) -> dict[str, str]:
    """A payload value taken from the result of the delivery this one depends on."""
    return {"$dep": key, **({"format": template} if template else {})}


def resolve_payload(payload: dict[str, Any], parent_result: dict[str, Any] | None) -> dict[str, Any]:
    """The payload with every ``dependency(...)`` marker replaced by the parent's result."""

    def value(item: Any) -> Any:
        if isinstance(item, dict) and "$dep" in item:
            found = (parent_result or {}).get(item["$dep"], f"<{item['$dep']} of the earlier delivery>")
            return item["format"].format(found) if "format" in item else found
        if isinstance(item, dict):
            return {k: value(v) for k, v in item.items()}
        if isinstance(item, list):
            return [value(v) for v in item]
        return item

    return {k: value(v) for k, v in payload.items()}


def _hint_after_commit(session: AsyncSession, delivery: Delivery) -> None:
    dispatcher: Dispatcher | None = session.info.get("dispatcher")
    if dispatcher is None:
        return
    pending: list[Delivery] = session.info.setdefault("new_deliveries", [])
    if not pending:

        async def hint() -> None:
            jobs = [Job(d.id, d.attempts) for d in session.info.pop("new_deliveries", []) if d.id]
            await dispatcher.dispatch(jobs)

        after_commit(session, hint)
    pending.append(delivery)


async def add(
    session: AsyncSession,
    *,
    provider: str,
    action: str,
    payload: dict[str, Any],
    idempotency_key: str,
    settings: DeliverySettings,
    incident_id: int | None = None,
    depends_on: Delivery | None = None,
) -> Delivery:
    """Record a side effect to perform once the current transaction commits (once per key)."""
    existing = await repo.by_key(session, idempotency_key)
    if existing is not None:
        return existing
    now = clock.now()
    delivery = Delivery(
        incident_id=incident_id,
        provider=provider,
        action=action,
        payload=payload,
        idempotency_key=idempotency_key,
        max_attempts=settings.max_attempts,
        depends_on_id=depends_on.id if depends_on else None,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(delivery)
    await session.flush()
    if depends_on is None:
        _hint_after_commit(session, delivery)
    return delivery


def backoff(attempts: int, settings: DeliverySettings, retry_after: float | None) -> timedelta:
    """Exponential backoff with jitter, never sooner than the provider asked."""
    ceiling = min(settings.backoff_max_seconds, settings.backoff_base_seconds * 2 ** max(0, attempts - 1))
    delay = random.uniform(ceiling / 2, ceiling)
    return timedelta(seconds=max(delay, retry_after or 0.0))


async def kill_dependents(session: AsyncSession, delivery: Delivery, now: datetime) -> None:
    """Deliveries waiting on a dead one cannot happen either."""
    queue = [delivery]
    while queue:
        parent = queue.pop()
        for child in await repo.dependents(session, parent.id or 0):
            if child.status in (DeliveryStatus.pending, DeliveryStatus.failed_will_retry):
                child.status = DeliveryStatus.dead
                child.last_error = f"depends on delivery {parent.id}, which is dead"
                child.updated_at = now
                queue.append(child)


async def retry(session: AsyncSession, delivery_id: int) -> Delivery:
    """Give a dead delivery (and what died with it) a fresh set of attempts."""
    delivery = await session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise NotFound(f"There is no delivery {delivery_id}.")
    if delivery.status != DeliveryStatus.dead:
        raise Conflict(f"Delivery {delivery_id} is {delivery.status}; only a dead delivery can be retried.")
    now = clock.now()
    queue = [delivery]
    while queue:
        item = queue.pop()
        item.status = DeliveryStatus.pending
        item.attempts = 0
        item.next_attempt_at = now
        item.updated_at = now
        item.claim_token = None
        item.lease_expires_at = None
        for child in await repo.dependents(session, item.id or 0):
            if child.status == DeliveryStatus.dead and (child.last_error or "").startswith(
                "depends on delivery"
            ):
                queue.append(child)
    await session.flush()
    _hint_after_commit(session, delivery)
    return delivery
