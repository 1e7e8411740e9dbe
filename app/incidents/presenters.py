"""Turn stored rows into what the API returns."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.comms import cadence
from app.config import Settings
from app.incidents import repository as repo
from app.incidents.durability import audit
from app.incidents.models import ActionItem, Incident, RoleAssignment, TimelineEntry
from app.incidents.schemas import (
    ActionItemPublic,
    IncidentPublic,
    RoleAssignmentPublic,
    TimelineEntryPublic,
)
from app.incidents.service import summary_line


async def incidents_public(
    session: AsyncSession, incidents: Sequence[Incident], settings: Settings
) -> list[IncidentPublic]:
    """Public views of several incidents, with their team names and merge targets in two queries."""
    teams = await repo.team_names(session, {i.team_id for i in incidents if i.team_id})
    targets = await repo.references_by_id(
        session, {i.duplicate_of_id for i in incidents if i.duplicate_of_id}
    )
    return [
        IncidentPublic(
            **incident.model_dump(exclude={"id", "number", "team_id", "duplicate_of_id"}),
            reference=incident.reference,
            summary_line=summary_line(incident, settings),
            team=teams.get(incident.team_id) if incident.team_id else None,
            duplicate_of=targets.get(incident.duplicate_of_id) if incident.duplicate_of_id else None,
            next_internal_update_due_at=cadence.next_update_due(incident, cadence.INTERNAL, settings),
            next_external_update_due_at=cadence.next_update_due(incident, cadence.EXTERNAL, settings),
            retrospective_due_at=cadence.retrospective_deadline(incident, settings),
        )
        for incident in incidents
    ]


async def incident_public(session: AsyncSession, incident: Incident, settings: Settings) -> IncidentPublic:
    return (await incidents_public(session, [incident], settings))[0]


def role_public(assignment: RoleAssignment, person_name: str) -> RoleAssignmentPublic:
    assert assignment.id is not None
    return RoleAssignmentPublic(**assignment.model_dump(), person_name=person_name)


def entry_public(entry: TimelineEntry) -> TimelineEntryPublic:
    return TimelineEntryPublic.model_validate(entry, from_attributes=True)


def action_item_public(item: ActionItem) -> ActionItemPublic:
    warnings = audit(item.title) if item.durable else []
    return ActionItemPublic(**item.model_dump(), durability_warnings=warnings)
