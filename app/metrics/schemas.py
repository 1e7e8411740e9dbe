"""What the response-metrics API returns."""

from datetime import datetime

from pydantic import BaseModel, Field


class StageMetrics(BaseModel):
    count: int = Field(description="Incidents that reached this stage.")
    median_seconds: float | None
    p90_seconds: float | None = Field(description="Linear interpolation between the closest ranks.")


class UpdateMetrics(BaseModel):
    sent: int = Field(description="Communications on the timelines.")
    due: int = Field(description="One when declared, then one per cadence interval until resolved.")


class GroupMetrics(BaseModel):
    service: str | None = None
    severity: str | None = None
    count: int = Field(description="Incidents declared in the window, whatever became of them.")
    statuses: dict[str, int]
    time_to_acknowledge: StageMetrics
    time_to_mitigate: StageMetrics
    time_to_resolve: StageMetrics
    time_to_close: StageMetrics
    updates: UpdateMetrics


class IncidentMetricsPublic(BaseModel):
    """Response metrics for the incidents declared in [from, to)."""

    from_: datetime = Field(serialization_alias="from")
    to: datetime
    service: str | None
    severity: list[str]
    overall: GroupMetrics
    by_service: list[GroupMetrics]
    by_severity: list[GroupMetrics]
    by_service_and_severity: list[GroupMetrics]


class Durations(BaseModel):
    """When one incident reached each stage, and how long after its declaration."""

    declared_at: datetime
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    time_to_acknowledge_seconds: float | None
    time_to_mitigate_seconds: float | None
    time_to_resolve_seconds: float | None
    time_to_close_seconds: float | None
    updates_sent: int
    updates_due: int
    update_cadence_minutes: int
