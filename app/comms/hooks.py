"""The process clock's reaction to incident changes."""

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from app.comms import cadence
from app.config import Settings
from app.incidents.models import Incident, IncidentStatus

if TYPE_CHECKING:
    from app.deliveries.planning import IncidentChange


async def on_changed(
    session: AsyncSession, incident: Incident, change: "IncidentChange", settings: Settings
) -> None:
    """A status change restarts the auto-close wait: it counts from a resolved message sent after it."""
    del session  # the clock keeps its state on the incident itself
    if change.kind == "status" and incident.status != IncidentStatus.closed:
        incident.autoclose_at = cadence.autoclose_at(incident, settings)
