"""Incident use cases: declare, edit, move through the lifecycle, assign roles, record the timeline."""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.auth.models import Scope
from app.auth.service import Actor
from app.config import Settings
from app.db import versioning
from app.deliveries import planning
from app.errors import (
    Conflict,
    DuplicateIncident,
    Forbidden,
    InvalidTransition,
    NotFound,
    StaleVersion,
    ValidationFailed,
    field_error,
)
from app.incidents import conventions, lifecycle
from app.incidents import repository as repo
from app.incidents.durability import audit
from app.incidents.models import (
    Incident,
    IncidentStatus,
    Role,
    RoleAssignment,
    TimelineEntry,
    TimelineKind,
)
from app.incidents.schemas import IncidentCreate, IncidentUpdate, TransitionIn
from app.people.models import Person

SINGLE_HOLDER_ROLES = frozenset(Role) - {Role.sme}


async def get_or_404(session: AsyncSession, reference: str) -> Incident:
    incident = await repo.get_by_reference(session, reference)
    if incident is None:
        raise NotFound(f"There is no incident {reference}.")
    return incident


def summary_line(incident: Incident, settings: Settings) -> str:
    return conventions.incident_summary_line(incident, settings.zone)


async def add_entry(
    session: AsyncSession,
    incident: Incident,
    kind: TimelineKind,
    body: str,
    *,
    actor: Actor | None = None,
    source: str = "api",
    occurred_at: datetime | None = None,
    data: dict[str, Any] | None = None,
    parent_id: int | None = None,
    author_id: int | None = None,
    author_name: str | None = None,
    external_id: str | None = None,
) -> TimelineEntry:
    """Append one entry to an incident's timeline."""
    assert incident.id is not None
    now = clock.now()
    entry = TimelineEntry(
        incident_id=incident.id,
        kind=kind,
        source=source,
        body=body,
        author_id=author_id if author_id is not None else (actor.person_id if actor else None),
        author_name=author_name if author_name is not None else (actor.name if actor else None),
        parent_id=parent_id,
        external_id=external_id,
        data=data,
        occurred_at=occurred_at or now,
        created_at=now,
    )
    session.add(entry)
    await session.flush()
    return entry


async def _unique_channel_name(session: AsyncSession, base: str) -> str:
    taken = await repo.channel_names_like(session, base)
    if base not in taken:
        return base
    n = 2
    while conventions.with_suffix(base, n) in taken:
        n += 1
    return conventions.with_suffix(base, n)


async def declare(
    session: AsyncSession, data: IncidentCreate, actor: Actor, settings: Settings, *, source: str = "api"
) -> Incident:
    """Open an incident, unless an open one already covers the same service and functionality."""
    number = await repo.next_number(session)
    if not data.force:
        existing = await repo.find_open_duplicate(session, data.service, data.functionality)
        if existing is not None:
            raise DuplicateIncident(
                f"{existing.reference} ({existing.title}) is already open for "
                f"{existing.functionality} on {existing.service}. Join #{existing.channel_name}, "
                "or declare again with force=true if this is a different problem.",
                incident={
                    "reference": existing.reference,
                    "title": existing.title,
                    "status": existing.status,
                    "channel_name": existing.channel_name,
                },
            )
    now = clock.now()
    base = conventions.channel_name(now, data.functionality, data.state, data.audience, settings.zone)
    team = await repo.team_for_service(session, data.service)
    incident = Incident(
        number=number,
        title=data.title,
        summary=data.summary,
        service=data.service,
        functionality=data.functionality,
        state=data.state,
        audience=data.audience,
        severity=data.severity,
        priority=conventions.priority_for(data.severity, data.affects_end_users),
        affects_end_users=data.affects_end_users,
        status=IncidentStatus.declared,
        channel_name=await _unique_channel_name(session, base),
        team_id=team.id if team else None,
        declared_by_id=actor.person_id,
        declared_at=now,
        updated_at=now,
    )
    session.add(incident)
    await session.flush()
    await add_entry(
        session,
        incident,
        TimelineKind.status_change,
        f"Declared: {summary_line(incident, settings)}",
        actor=actor,
        source=source,
        data={"to": IncidentStatus.declared},
    )
    await planning.on_declared(
        session, incident, summary_line(incident, settings), team, settings, source=source
    )
    return incident


async def lock(session: AsyncSession, incident: Incident, expected: int | None) -> None:
    """Take the incident for writing; refuse if it changed since the caller read ``expected``."""
    version = expected if expected is not None else incident.version
    if await versioning.bump_version(session, incident, version, clock.now()):
        return
    if expected is not None:
        raise StaleVersion(
            f"{incident.reference} changed since version {expected}; fetch it again and reapply your change.",
        )
    raise Conflict(f"{incident.reference} was changed by someone else at the same time; try again.")


async def update(
    session: AsyncSession,
    incident: Incident,
    changes: IncidentUpdate,
    actor: Actor,
    expected: int,
    settings: Settings,
    *,
    source: str = "api",
) -> Incident:
    """Apply a partial edit, with the caller's version as the precondition."""
    fields = changes.model_dump(exclude_unset=True, exclude={"version"})
    if "slack_channel_id" in fields and not actor.scope.allows(Scope.admin):
        raise Forbidden("Only an admin can adopt a Slack channel (slack_channel_id).")
    await lock(session, incident, expected)
    now = clock.now()
    if fields.pop("report_completed", None) is not None:
        incident.report_completed_at = now if changes.report_completed else None
    if fields.pop("customer_confirmed", None) is not None:
        incident.customer_confirmed_at = now if changes.customer_confirmed else None
    priority_given = "priority" in fields
    described = []
    changed: set[str] = set()
    for name, value in fields.items():
        if getattr(incident, name) != value:
            described.append(f"{name}: {getattr(incident, name)} → {value}")
            setattr(incident, name, value)
            changed.add(name)
    if not priority_given and ({"severity", "affects_end_users"} & fields.keys()):
        priority = conventions.priority_for(incident.severity, incident.affects_end_users)
        if priority != incident.priority:
            incident.priority = priority
            changed.add("priority")
    if described:
        await add_entry(
            session,
            incident,
            TimelineKind.field_change,
            "Changed " + "; ".join(described),
            actor=actor,
            source=source,
        )
    await session.flush()
    if changed:
        change = planning.IncidentChange(
            planning.ChangeKind.fields,
            fields=frozenset(changed),
            actor_name=actor.name,
            actor_id=actor.person_id,
            source=source,
        )
        await planning.on_changed(session, incident, change, settings)
    return incident


async def transition(
    session: AsyncSession,
    incident: Incident,
    move: TransitionIn,
    actor: Actor,
    settings: Settings,
    *,
    expected: int | None = None,
    source: str = "api",
) -> Incident:
    """Move the incident to ``move.status`` when the lifecycle's guards allow it."""
    await lock(session, incident, expected)
    assert incident.id is not None
    now = clock.now()
    current, target = IncidentStatus(incident.status), move.status
    duplicate_of = await _duplicate_target(session, incident, move) if target == "duplicate" else None
    items = await repo.action_items(session, incident.id)
    facts = lifecycle.TransitionFacts(
        durable_reason=move.durable_reason or incident.durable_reason,
        action_items=[lifecycle.ActionItemState(i.durable, i.status) for i in items],
        report_completed_at=incident.report_completed_at,
        customer_confirmed_at=now if move.customer_confirmed else incident.customer_confirmed_at,
        autoclose_at=incident.autoclose_at,
        now=now,
        duplicate_of=move.duplicate_of,
        cancel_reason=move.reason,
    )
    missing = lifecycle.missing_for(current, target, facts)
    if missing:
        raise InvalidTransition(
            f"{incident.reference} cannot move from {current} to {target}: missing "
            + "; ".join(missing)
            + ".",
            missing=missing,
        )
    incident.status = target
    if column := lifecycle.ENTERED_AT.get(target):
        setattr(incident, column, now)
    if target in lifecycle.TERMINAL:
        incident.ended_at = now
    if move.mitigation:
        incident.mitigation = move.mitigation
    if move.durable_reason:
        incident.durable_reason = move.durable_reason
    if move.customer_confirmed:
        incident.customer_confirmed_at = now
    if target == "cancelled":
        incident.cancel_reason = move.reason
    if duplicate_of is not None:
        incident.duplicate_of_id = duplicate_of.id
    body = f"Status: {current} → {target}"
    if move.reason:
        body += f" ({move.reason})"
    warnings = audit(move.mitigation) if target == "mitigated" else []
    await add_entry(
        session,
        incident,
        TimelineKind.status_change,
        body,
        actor=actor,
        source=source,
        data={"from": current, "to": target, "durability_warnings": warnings},
    )
    await session.flush()
    change = planning.IncidentChange(
        planning.ChangeKind.status,
        previous_status=current,
        actor_name=actor.name,
        actor_id=actor.person_id,
        source=source,
    )
    await planning.on_changed(session, incident, change, settings)
    return incident


async def _duplicate_target(session: AsyncSession, incident: Incident, move: TransitionIn) -> Incident | None:
    if not move.duplicate_of:
        return None
    target = await repo.get_by_reference(session, move.duplicate_of)
    if target is None or target.id == incident.id or target.status in lifecycle.TERMINAL:
        raise ValidationFailed(
            f"{move.duplicate_of} is not an open incident this one can be merged into.",
            errors=[field_error("duplicate_of", "must name another incident that is not final")],
        )
    return target


async def assign_role(
    session: AsyncSession, incident: Incident, role: Role, person_id: int, actor: Actor, settings: Settings
) -> RoleAssignment:
    """Give ``role`` to a person; single-holder roles relieve whoever held them."""
    person = await session.get(Person, person_id)
    if person is None:
        raise ValidationFailed(
            f"There is no person {person_id}.", errors=[field_error("person_id", "unknown person")]
        )
    await lock(session, incident, None)
    assert incident.id is not None
    now = clock.now()
    holders = await repo.current_holders(session, incident.id, role)
    for holder in holders:
        if holder.person_id == person_id:
            return holder
    if role in SINGLE_HOLDER_ROLES:
        for holder in holders:
            holder.relieved_at = now
    assignment = RoleAssignment(
        incident_id=incident.id, role=role, person_id=person_id, assigned_by=actor.name, assigned_at=now
    )
    session.add(assignment)
    await session.flush()
    await add_entry(
        session,
        incident,
        TimelineKind.role_change,
        f"{person.name} is now {role.replace('_', ' ')}",
        actor=actor,
        data={"role": role, "person_id": person_id},
    )
    change = planning.IncidentChange(
        planning.ChangeKind.role, role=role, actor_name=actor.name, actor_id=actor.person_id
    )
    await planning.on_changed(session, incident, change, settings)
    return assignment


async def relieve_role(
    session: AsyncSession, incident: Incident, assignment_id: int, actor: Actor, settings: Settings
) -> RoleAssignment:
    """End one role assignment; its history stays."""
    assignment = await session.get(RoleAssignment, assignment_id)
    if assignment is None or assignment.incident_id != incident.id:
        raise NotFound(f"{incident.reference} has no role assignment {assignment_id}.")
    if assignment.relieved_at is not None:
        return assignment
    await lock(session, incident, None)
    assignment.relieved_at = clock.now()
    person = await session.get(Person, assignment.person_id)
    await add_entry(
        session,
        incident,
        TimelineKind.role_change,
        f"{person.name if person else 'Someone'} was relieved as {assignment.role.replace('_', ' ')}",
        actor=actor,
        data={"role": assignment.role, "person_id": assignment.person_id, "relieved": True},
    )
    change = planning.IncidentChange(
        planning.ChangeKind.role, role=assignment.role, actor_name=actor.name, actor_id=actor.person_id
    )
    await planning.on_changed(session, incident, change, settings)
    return assignment
