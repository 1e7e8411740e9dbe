"""What providers sent Relay, refused requests included."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.auth.deps import Admin, Authenticated
from app.dependencies import SessionDep
from app.incidents.router import ERRORS
from app.webhooks import service
from app.webhooks.models import ReceiptStatus

router = APIRouter(prefix="/api/v1", tags=["webhooks"], responses=ERRORS, dependencies=[Authenticated])


class ReceiptPublic(BaseModel):
    id: int
    provider: str
    dedupe_key: str | None
    event_type: str | None
    status: str
    reason: str | None
    headers: dict[str, str]
    body: str
    incident_id: int | None
    duplicates: int
    received_at: datetime
    processed_at: datetime | None


@router.get("/webhooks/receipts")
async def list_receipts(
    _actor: Admin,
    session: SessionDep,
    provider: str | None = None,
    status: ReceiptStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ReceiptPublic]:
    """Inbound webhooks, newest first, with what became of each (admin)."""
    receipts = await service.listing(session, provider=provider, status=status, limit=limit)
    return [ReceiptPublic.model_validate(r, from_attributes=True) for r in receipts]
