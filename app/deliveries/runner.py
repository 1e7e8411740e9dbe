"""One delivery attempt: claim, call the provider, record the outcome. Safe to run twice."""

import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import clock
from app.config import Settings
from app.db.session import after_commit, unit_of_work
from app.deliveries import repository as repo
from app.deliveries import service
from app.deliveries.actions import ACTIONS, apply_result
from app.deliveries.models import Delivery, DeliveryStatus
from app.deliveries.repository import Job
from app.integrations.actions import ActionContext
from app.integrations.clients import Clients
from app.integrations.errors import PermanentError, TransientError
from app.integrations.sandbox import recorded

log = structlog.get_logger(__name__)
SWEEP_BATCH = 500


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    clients: Clients
    dispatcher: service.Dispatcher


@dataclass(frozen=True)
class Claim:
    action: str
    provider: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    status: DeliveryStatus
    requests: list[dict[str, Any]]
    result: dict[str, Any] | None = None
    error: str | None = None
    retry_after: float | None = None


async def _claim(session: AsyncSession, rt: Runtime, delivery_id: int, token: str) -> Claim | None:
    now = clock.now()
    delivery = await repo.lock_claimable(session, delivery_id, now)
    if delivery is None:
        return None
    parent_result = None
    if delivery.depends_on_id is not None:
        parent = await session.get(Delivery, delivery.depends_on_id)
        if parent is None or parent.status == DeliveryStatus.dead:
            delivery.status = DeliveryStatus.dead
            delivery.last_error = f"depends on delivery {delivery.depends_on_id}, which is dead"
            delivery.updated_at = now
            return None
        if parent.status not in (DeliveryStatus.done, DeliveryStatus.sandboxed):
            return None
        parent_result = parent.result
    delivery.status = DeliveryStatus.in_flight
    delivery.claim_token = token
    delivery.lease_expires_at = repo.lease_until(now, rt.settings.delivery.lease_seconds)
    delivery.attempts += 1
    delivery.updated_at = now
    return Claim(delivery.action, delivery.provider, service.resolve_payload(delivery.payload, parent_result))


async def _perform(rt: Runtime, claim: Claim) -> Outcome:
    calls: list[dict[str, Any]] = []
    recorded.set(calls)
    action = ACTIONS.get(claim.action)
    if action is None:
        return Outcome(DeliveryStatus.dead, calls, error=f"unknown action {claim.action}")
    try:
        result = await action(ActionContext(rt.clients, rt.settings, rt.sessionmaker), claim.payload)
    except TransientError as exc:
        return Outcome(
            DeliveryStatus.failed_will_retry, calls, error=exc.message, retry_after=exc.retry_after
        )
    except PermanentError as exc:
        return Outcome(DeliveryStatus.dead, calls, error=exc.message)
    except Exception as exc:  # a bug in an action must not wedge the delivery in flight
        log.exception("delivery_action_crashed", action=claim.action)
        return Outcome(DeliveryStatus.failed_will_retry, calls, error=f"{type(exc).__name__}: {exc}")
    sandboxed = claim.provider in rt.clients.sandboxed
    return Outcome(DeliveryStatus.sandboxed if sandboxed else DeliveryStatus.done, calls, result=result)


async def _record(session: AsyncSession, rt: Runtime, delivery_id: int, token: str, outcome: Outcome) -> str:
    delivery = await repo.lock_claimed(session, delivery_id, token)
    if delivery is None:
        return "superseded"  # our lease ran out and another worker took over
    now = clock.now()
    delivery.claim_token = None
    delivery.lease_expires_at = None
    delivery.updated_at = now
    delivery.request = outcome.requests or delivery.request
    status = outcome.status
    if status == DeliveryStatus.failed_will_retry and delivery.attempts >= delivery.max_attempts:
        status = DeliveryStatus.dead
    delivery.status = status
    if status in (DeliveryStatus.done, DeliveryStatus.sandboxed):
        delivery.result = outcome.result
        delivery.last_error = None
        delivery.completed_at = now
        if status == DeliveryStatus.done:
            await apply_result(session, delivery, outcome.result or {})
        jobs = [Job(child.id or 0, child.attempts) for child in await repo.dependents(session, delivery_id)]
    elif status == DeliveryStatus.failed_will_retry:
        delivery.last_error = outcome.error
        delivery.next_attempt_at = now + service.backoff(
            delivery.attempts, rt.settings.delivery, outcome.retry_after
        )
        jobs = [Job(delivery_id, delivery.attempts, delivery.next_attempt_at)]
    else:
        delivery.last_error = outcome.error
        await service.kill_dependents(session, delivery, now)
        jobs = []
    if jobs:
        after_commit(session, lambda: rt.dispatcher.dispatch(jobs))
    log.info(
        "delivery_attempted",
        delivery_id=delivery_id,
        action=delivery.action,
        status=status,
        attempts=delivery.attempts,
        error=delivery.last_error,
    )
    return str(status)


async def deliver(rt: Runtime, delivery_id: int) -> str:
    """Attempt one delivery if it is due; returns what happened."""
    token = str(uuid.uuid4())
    async with unit_of_work(rt.sessionmaker) as session:
        claim = await _claim(session, rt, delivery_id, token)
    if claim is None:
        log.debug(
            "delivery_skipped",
            delivery_id=delivery_id,
            reason="not due, not ready, or held by another worker",
        )
        return "skipped"
    outcome = await _perform(rt, claim)
    async with unit_of_work(rt.sessionmaker) as session:
        return await _record(session, rt, delivery_id, token, outcome)


async def sweep(rt: Runtime) -> int:
    """Dispatch everything that is due: the safety net for lost hints, retries and dead workers."""
    async with unit_of_work(rt.sessionmaker) as session:
        jobs = await repo.due(session, clock.now(), SWEEP_BATCH)
    if jobs:
        await rt.dispatcher.dispatch(jobs)
    return len(jobs)
