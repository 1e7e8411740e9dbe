"""The job that applies a recorded webhook: once, inside one transaction with what it changes."""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import clock
from app.db.session import unit_of_work
from app.integrations.actions import ActionContext, Result
from app.integrations.errors import PermanentError
from app.webhooks.models import ReceiptStatus, WebhookReceipt


@dataclass(frozen=True)
class Applied:
    """What a provider's handler made of one receipt."""

    status: ReceiptStatus = ReceiptStatus.applied
    note: str | None = None
    incident_id: int | None = None


# The handler gets what its provider's fetch step read (None when the provider has none).
Handler = Callable[[AsyncSession, ActionContext, WebhookReceipt, Any], Awaitable[Applied]]
# Reads from the provider that a handler needs, made before the transaction so that no lock is held
# (on SQLite, the one write lock) while waiting on another system.
Fetch = Callable[[ActionContext, WebhookReceipt], Awaitable[Any]]


async def apply_receipt(
    ctx: ActionContext,
    payload: dict[str, Any],
    *,
    handlers: Mapping[str, Handler],
    fetchers: Mapping[str, Fetch],
) -> Result:
    """Apply one receipt with its provider's handler; a receipt already applied is left alone."""
    receipt_id = payload["receipt_id"]
    fetched: Any = None
    async with ctx.sessionmaker() as session:
        receipt = await session.get(WebhookReceipt, receipt_id)
    if receipt is not None and receipt.status == ReceiptStatus.received and receipt.provider in fetchers:
        fetched = await fetchers[receipt.provider](ctx, receipt)
    async with unit_of_work(ctx.sessionmaker) as session:
        receipt = await session.scalar(
            select(WebhookReceipt).where(col(WebhookReceipt.id) == receipt_id).with_for_update()
        )
        if receipt is None:
            raise PermanentError(f"webhook receipt {receipt_id} does not exist")
        if receipt.status != ReceiptStatus.received:
            return {"receipt_id": receipt_id, "status": receipt.status}
        handler = handlers.get(receipt.provider)
        outcome = (
            await handler(session, ctx, receipt, fetched)
            if handler is not None
            else Applied(ReceiptStatus.ignored, f"no handler for {receipt.provider}")
        )
        receipt.status = outcome.status
        receipt.reason = outcome.note
        receipt.incident_id = outcome.incident_id or receipt.incident_id
        receipt.processed_at = clock.now()
    return {"receipt_id": receipt_id, "status": outcome.status, "note": outcome.note}
