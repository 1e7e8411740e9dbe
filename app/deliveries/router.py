"""Deliveries: what Relay sent (or would send) to other systems, and retrying the dead ones."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.auth.deps import Admin, Authenticated, Reader
from app.deliveries import repository as repo
from app.deliveries import service
from app.deliveries.models import Delivery, DeliveryStatus
from app.deliveries.schemas import DeliveryPublic
from app.dependencies import SessionDep
from app.incidents.router import ERRORS, IncidentDep

router = APIRouter(prefix="/api/v1", tags=["deliveries"], responses=ERRORS, dependencies=[Authenticated])


def _public(delivery: Delivery) -> DeliveryPublic:
    return DeliveryPublic.model_validate(delivery, from_attributes=True)


@router.get("/incidents/{reference}/deliveries")
async def incident_deliveries(
    incident: IncidentDep, _actor: Reader, session: SessionDep
) -> list[DeliveryPublic]:
    """Every delivery an incident caused, with its status, attempts, last error and the request sent."""
    assert incident.id is not None
    return [_public(d) for d in await repo.for_incident(session, incident.id)]


@router.get("/deliveries")
async def list_deliveries(
    _actor: Reader,
    session: SessionDep,
    status: Annotated[list[DeliveryStatus], Query()] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryPublic]:
    """Recent deliveries across incidents, newest first; filter by status (e.g. dead)."""
    return [_public(d) for d in await repo.listing(session, status, limit)]


@router.post("/deliveries/{delivery_id}/retry")
async def retry_delivery(delivery_id: int, _actor: Admin, session: SessionDep) -> DeliveryPublic:
    """Send a dead delivery again, with a fresh set of attempts (admin)."""
    return _public(await service.retry(session, delivery_id))
