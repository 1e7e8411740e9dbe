"""Recording inbound webhooks: refused ones too, each event once, applied later by a job."""

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import clock, redaction
from app.config import DeliverySettings
from app.deliveries import service as deliveries
from app.metrics.instruments import WEBHOOK_RECEIPTS
from app.webhooks.models import ReceiptStatus, WebhookReceipt

APPLY_ACTION = "webhooks.apply"
# A refused request keeps enough of its body to see what it was, not all of what a stranger sent.
REFUSED_BODY_BYTES = 4096
SKIPPED_HEADERS = frozenset({"content-length", "connection", "accept-encoding", "host"})


@dataclass(frozen=True)
class Recorded:
    receipt: WebhookReceipt
    duplicate: bool


def safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The request's headers as they may be stored: secrets masked, transport noise dropped."""
    return redaction.headers(headers, skip=SKIPPED_HEADERS)


def _text(raw: bytes) -> str:
    # Accepted bodies are kept whole (the endpoint bounds them), since the job parses them again.
    return raw.decode("utf-8", errors="replace")


async def refuse(
    session: AsyncSession, *, provider: str, reason: str, headers: Mapping[str, str], raw: bytes
) -> WebhookReceipt:
    """Keep a request that failed authentication or could not be read, with why."""
    receipt = WebhookReceipt(
        provider=provider,
        status=ReceiptStatus.refused,
        reason=reason,
        headers=safe_headers(headers),
        body=_text(raw[:REFUSED_BODY_BYTES]),
        received_at=clock.now(),
        processed_at=clock.now(),
    )
    session.add(receipt)
    await session.flush()
    WEBHOOK_RECEIPTS.labels(provider, "refused").inc()
    return receipt


async def record(
    session: AsyncSession,
    *,
    provider: str,
    dedupe_key: str | None,
    event_type: str | None,
    headers: Mapping[str, str],
    raw: bytes,
    settings: DeliverySettings,
    apply: bool = True,
) -> Recorded:
    """Store a verified webhook once per ``dedupe_key`` and queue the job that applies it."""
    if dedupe_key is not None:
        existing = await _by_key(session, provider, dedupe_key)
        if existing is not None:
            existing.duplicates += 1
            WEBHOOK_RECEIPTS.labels(provider, "duplicate").inc()
            return Recorded(existing, duplicate=True)
    receipt = WebhookReceipt(
        provider=provider,
        dedupe_key=dedupe_key,
        event_type=event_type,
        status=ReceiptStatus.received if apply else ReceiptStatus.ignored,
        headers=safe_headers(headers),
        body=_text(raw),
        received_at=clock.now(),
        processed_at=None if apply else clock.now(),
    )
    try:
        async with session.begin_nested():
            session.add(receipt)
    except IntegrityError:  # the same event, arriving twice at once: the other request stored it
        existing = await _by_key(session, provider, dedupe_key or "")
        assert existing is not None
        WEBHOOK_RECEIPTS.labels(provider, "duplicate").inc()
        return Recorded(existing, duplicate=True)
    if apply:
        await deliveries.add(
            session,
            provider="relay",
            action=APPLY_ACTION,
            payload={"receipt_id": receipt.id},
            idempotency_key=f"webhook:{receipt.id}",
            settings=settings,
        )
    WEBHOOK_RECEIPTS.labels(provider, "recorded" if apply else "ignored").inc()
    return Recorded(receipt, duplicate=False)


async def _by_key(session: AsyncSession, provider: str, dedupe_key: str) -> WebhookReceipt | None:
    return await session.scalar(
        select(WebhookReceipt).where(
            col(WebhookReceipt.provider) == provider, col(WebhookReceipt.dedupe_key) == dedupe_key
        )
    )


async def listing(
    session: AsyncSession, *, provider: str | None, status: str | None, limit: int
) -> list[WebhookReceipt]:
    query = select(WebhookReceipt).order_by(col(WebhookReceipt.id).desc()).limit(limit)
    if provider:
        query = query.where(col(WebhookReceipt.provider) == provider)
    if status:
        query = query.where(col(WebhookReceipt.status) == status)
    return list((await session.scalars(query)).all())
