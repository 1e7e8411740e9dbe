"""What the reconciliation API takes and returns."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.reconciliation.models import Provider


class RunPublic(BaseModel):
    """One provider's run."""

    id: int
    provider: str
    status: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    window_from: datetime | None
    window_to: datetime | None
    checked: int = Field(description="Objects compared with what Relay wants.")
    calls: int = Field(description="Calls made to the provider.")
    drift_found: int
    repaired: int = Field(description="Differences repaired, or inputs applied, by this run.")
    errors: int
    error: str | None
    drift: list[dict[str, Any]] = Field(description="What differed (the first 100 findings).")


class ProviderRuns(BaseModel):
    provider: Provider
    configured: bool = Field(description="Whether Relay has the credentials to read this provider back.")
    last_run: RunPublic | None


class ReconciliationPublic(BaseModel):
    providers: list[ProviderRuns]
    runs: list[RunPublic] = Field(description="The last runs, newest first.")


class ReconcileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: Provider | None = Field(
        default=None, description="One provider; every configured one when unset."
    )


class RunQueued(BaseModel):
    provider: Provider
    queued: bool = Field(description="False when a run for this provider is already queued or under way.")


class ReconcileStarted(BaseModel):
    runs: list[RunQueued]
    detail: str
