"""/api/v1/metrics: how fast incidents are acknowledged, mitigated, resolved and closed."""

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from app import clock
from app.auth.deps import Authenticated, Reader
from app.dependencies import SessionDep, SettingsDep
from app.errors import ValidationFailed, field_error
from app.incidents.models import Severity
from app.incidents.router import ERRORS
from app.metrics import service
from app.metrics.schemas import IncidentMetricsPublic

router = APIRouter(prefix="/api/v1/metrics", tags=["metrics"], responses=ERRORS, dependencies=[Authenticated])

DEFAULT_WINDOW = timedelta(days=30)


@router.get("/incidents")
async def incident_metrics(
    _actor: Reader,
    session: SessionDep,
    settings: SettingsDep,
    from_: Annotated[
        datetime | None,
        Query(
            alias="from",
            description="Declared at or after; default 30 days before `to`. "
            "A time without an offset is read in RELAY_TIMEZONE.",
        ),
    ] = None,
    to: Annotated[datetime | None, Query(description="Declared before; default now.")] = None,
    service_name: Annotated[str | None, Query(alias="service")] = None,
    severity: Annotated[list[Severity], Query()] = [],  # noqa: B006
) -> IncidentMetricsPublic:
    """Counts, median and p90 of time to acknowledge, mitigate, resolve, close; by service and severity."""
    until = clock.aware(to, settings.zone) if to else clock.now()
    since = clock.aware(from_, settings.zone) if from_ else until - DEFAULT_WINDOW
    if since >= until:
        raise ValidationFailed(
            "`from` must be before `to`.", errors=[field_error("query.from", "must be before to")]
        )
    severities = [s.value for s in severity]
    found = await service.summaries(
        session, settings.policy, since=since, until=until, service=service_name, severities=severities
    )
    return IncidentMetricsPublic(
        from_=since,
        to=until,
        service=service_name,
        severity=severities,
        overall=service.group_metrics(found.overall),
        by_service=[service.group_metrics(s, service=name) for name, s in sorted(found.by_service.items())],
        by_severity=[service.group_metrics(s, severity=sev) for sev, s in sorted(found.by_severity.items())],
        by_service_and_severity=[
            service.group_metrics(s, service=name, severity=sev)
            for (name, sev), s in sorted(found.by_service_and_severity.items())
        ],
    )
