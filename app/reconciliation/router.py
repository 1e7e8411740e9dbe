"""/api/v1/reconciliation: the last runs per provider, and starting one (admin)."""

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, status
from redis.exceptions import RedisError

from app.auth.deps import Admin, Authenticated, Reader
from app.dependencies import SessionDep, SettingsDep
from app.errors import AppError, Conflict, field_error
from app.incidents.router import ERRORS, PROBLEM
from app.reconciliation import repository as repo
from app.reconciliation import service
from app.reconciliation.jobs import Reconciler
from app.reconciliation.models import Provider, ReconciliationRun
from app.reconciliation.schemas import (
    ProviderRuns,
    ReconcileIn,
    ReconcileStarted,
    ReconciliationPublic,
    RunPublic,
    RunQueued,
)

router = APIRouter(prefix="/api/v1", tags=["reconciliation"], responses=ERRORS, dependencies=[Authenticated])


class QueueUnavailable(AppError):
    status = 503
    type = "unavailable"
    title = "Relay cannot reach its job queue"


def _public(run: ReconciliationRun) -> RunPublic:
    return RunPublic.model_validate(run, from_attributes=True)


@router.get("/reconciliation")
async def reconciliation_runs(
    _actor: Reader,
    session: SessionDep,
    settings: SettingsDep,
    provider: Provider | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> ReconciliationPublic:
    """The last reconciliation runs, newest first, and each provider's latest run."""
    configured = service.configured(settings)
    latest = await repo.latest_per_provider(session)
    return ReconciliationPublic(
        providers=[
            ProviderRuns(
                provider=name,
                configured=name in configured,
                last_run=_public(latest[name]) if name in latest else None,
            )
            for name in Provider
        ],
        runs=[_public(run) for run in await repo.runs(session, provider, limit)],
    )


@router.post("/reconciliation", status_code=status.HTTP_202_ACCEPTED, responses={503: PROBLEM})
async def start_reconciliation(
    _actor: Admin,
    request: Request,
    settings: SettingsDep,
    start: Annotated[ReconcileIn | None, Body()] = None,
) -> ReconcileStarted:
    """Start a run now (admin): of one provider, or of every configured one. It runs as a job."""
    configured = service.configured(settings)
    wanted = [start.provider] if start is not None and start.provider is not None else configured
    missing = [name for name in wanted if name not in configured]
    if missing or not wanted:
        which = missing[0] if missing else "any provider"
        raise Conflict(
            f"Relay cannot read {which} back: set its credentials (for PagerDuty, "
            "RELAY_PAGERDUTY_API_TOKEN) before reconciling it.",
            errors=[field_error("provider", f"{which} is not configured")],
        )
    reconciler: Reconciler = request.app.state.reconciler
    try:
        queued = await reconciler.start(wanted, f"admin: {_actor.name}")
    except (RedisError, OSError) as exc:
        raise QueueUnavailable(
            f"The run could not be queued ({type(exc).__name__}); nothing was started. Try again shortly.",
            headers={"Retry-After": "5"},
        ) from exc
    runs = [RunQueued(provider=name, queued=ok) for name, ok in queued.items()]
    return ReconcileStarted(
        runs=runs,
        detail="Queued; follow the runs with GET /api/v1/reconciliation.",
    )
