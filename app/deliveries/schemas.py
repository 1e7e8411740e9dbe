"""What the deliveries API returns."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class DeliveryPublic(BaseModel):
    id: int
    incident_id: int | None
    provider: str
    action: str
    status: str
    attempts: int
    max_attempts: int
    idempotency_key: str
    depends_on_id: int | None
    payload: dict[str, Any]
    next_attempt_at: datetime
    last_error: str | None
    result: dict[str, Any] | None
    request: list[dict[str, Any]] | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
