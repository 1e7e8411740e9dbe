"""/api/v1/incidents: declare, read, edit, move, and staff incidents."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status

from app import clock
from app.auth.deps import Authenticated, Reader, Writer
from app.dependencies import SessionDep, SettingsDep
from app.errors import PROBLEM_JSON, PreconditionRequired, ValidationFailed, field_error
from app.incidents import presenters, service
from app.incidents import repository as repo
from app.incidents.models import Incident, IncidentStatus, Severity
from app.incidents.schemas import (
    IncidentCreate,
    IncidentPublic,
    IncidentUpdate,
    RoleAssign,
    RoleAssignmentPublic,
    TransitionIn,
)
from app.schemas import Page, decode_cursor, encode_cursor

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"], dependencies=[Authenticated])

PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}, "description": "Problem details (RFC 9457)"}
ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys((401, 403, 404, 409, 412, 422), PROBLEM)

Reference = Annotated[str, Path(pattern=r"^(?i:INC)-\d+$", examples=["INC-42"])]


async def get_incident(reference: Reference, session: SessionDep) -> Incident:
    return await service.get_or_404(session, reference)


IncidentDep = Annotated[Incident, Depends(get_incident)]
IfMatch = Annotated[
    str | None,
    Header(description='The incident\'s ETag from a previous read, e.g. "3".', examples=['"3"']),
]


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    """The version named by an If-Match header; None for absent or ``*``."""
    if value is None or value.strip() == "*":
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise ValidationFailed(
            'If-Match must be the ETag from a previous read, such as "3".',
            errors=[field_error("header.If-Match", "not an ETag this API handed out")],
        )
    return int(tag)


def required_version(if_match: str | None, body_version: int | None, what: str) -> int:
    """The version an edit starts from: If-Match, else the body's ``version``; 428 without either."""
    expected = parse_if_match(if_match)
    if expected is None:
        expected = body_version
    if expected is None:
        raise PreconditionRequired(
            f"Send {what} as If-Match (or its version in the body) so that your edit cannot overwrite "
            "someone else's.",
            errors=[field_error("header.If-Match", "required")],
        )
    return expected


@router.post("", status_code=status.HTTP_201_CREATED, responses=ERRORS)
async def declare_incident(
    incident_in: IncidentCreate,
    actor: Writer,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> IncidentPublic:
    """Declare an incident. Answers 409 with the open incident when one already covers it."""
    incident = await service.declare(session, incident_in, actor, settings)
    response.headers["Location"] = f"/api/v1/incidents/{incident.reference}"
    response.headers["ETag"] = etag(incident.version)
    return await presenters.incident_public(session, incident, settings)


@router.get("", responses=ERRORS)
async def list_incidents(
    _actor: Reader,
    session: SessionDep,
    settings: SettingsDep,
    status_: Annotated[list[IncidentStatus], Query(alias="status")] = [],  # noqa: B006
    severity: Annotated[list[Severity], Query()] = [],  # noqa: B006
    service_name: Annotated[str | None, Query(alias="service")] = None,
    since: Annotated[datetime | None, Query(description="Declared at or after.")] = None,
    until: Annotated[datetime | None, Query(description="Declared before.")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[IncidentPublic]:
    """Incidents, newest first, filtered; follow ``next_cursor`` for the next page."""
    before = int(decode_cursor(cursor, 1)[0]) if cursor else None
    incidents = await repo.list_incidents(
        session,
        statuses=status_,
        severities=severity,
        service=service_name,
        since=clock.aware(since, settings.zone) if since else None,
        until=clock.aware(until, settings.zone) if until else None,
        before_number=before,
        limit=limit + 1,
    )
    more = len(incidents) > limit
    incidents = incidents[:limit]
    return Page(
        items=await presenters.incidents_public(session, incidents, settings),
        next_cursor=encode_cursor(incidents[-1].number) if more else None,
    )


@router.get("/{reference}", responses=ERRORS)
async def get_incident_by_reference(
    incident: IncidentDep, _actor: Reader, session: SessionDep, settings: SettingsDep, response: Response
) -> IncidentPublic:
    """One incident; its ETag is the precondition for edits."""
    response.headers["ETag"] = etag(incident.version)
    return await presenters.incident_public(session, incident, settings)


@router.patch("/{reference}", responses={**ERRORS, 428: PROBLEM})
async def update_incident(
    incident: IncidentDep,
    changes: IncidentUpdate,
    actor: Writer,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatch = None,
) -> IncidentPublic:
    """Edit fields. Needs If-Match (or ``version``) so that a stale edit cannot overwrite a newer one."""
    expected = required_version(if_match, changes.version, "the ETag you read")
    await service.update(session, incident, changes, actor, expected, settings)
    response.headers["ETag"] = etag(incident.version)
    return await presenters.incident_public(session, incident, settings)


@router.post("/{reference}/transitions", responses=ERRORS)
async def transition_incident(
    incident: IncidentDep,
    move: TransitionIn,
    actor: Writer,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatch = None,
) -> IncidentPublic:
    """Move to another status; a refusal says what is missing."""
    await service.transition(session, incident, move, actor, settings, expected=parse_if_match(if_match))
    response.headers["ETag"] = etag(incident.version)
    return await presenters.incident_public(session, incident, settings)


@router.get("/{reference}/roles", responses=ERRORS)
async def current_roles(
    incident: IncidentDep, _actor: Reader, session: SessionDep
) -> list[RoleAssignmentPublic]:
    """Who holds which role now."""
    assert incident.id is not None
    rows = await repo.role_assignments(session, incident.id, current_only=True)
    return [presenters.role_public(a, name) for a, name in rows]


@router.get("/{reference}/roles/history", responses=ERRORS)
async def role_history(
    incident: IncidentDep, _actor: Reader, session: SessionDep
) -> list[RoleAssignmentPublic]:
    """Every assignment, including those relieved, oldest first."""
    assert incident.id is not None
    rows = await repo.role_assignments(session, incident.id, current_only=False)
    return [presenters.role_public(a, name) for a, name in rows]


@router.post("/{reference}/roles", status_code=status.HTTP_201_CREATED, responses=ERRORS)
async def assign_role(
    incident: IncidentDep, role_in: RoleAssign, actor: Writer, session: SessionDep, settings: SettingsDep
) -> RoleAssignmentPublic:
    """Give a role to a person; the previous holder of a single-holder role is relieved."""
    assignment = await service.assign_role(
        session, incident, role_in.role, role_in.person_id, actor, settings
    )
    rows = await repo.role_assignments(session, assignment.incident_id, current_only=True)
    name = next(n for a, n in rows if a.id == assignment.id)
    return presenters.role_public(assignment, name)


@router.delete("/{reference}/roles/{assignment_id}", responses=ERRORS)
async def relieve_role(
    incident: IncidentDep, assignment_id: int, actor: Writer, session: SessionDep, settings: SettingsDep
) -> RoleAssignmentPublic:
    """Relieve someone of a role; the assignment stays in the history."""
    assignment = await service.relieve_role(session, incident, assignment_id, actor, settings)
    rows = await repo.role_assignments(session, assignment.incident_id, current_only=False)
    name = next(n for a, n in rows if a.id == assignment.id)
    return presenters.role_public(assignment, name)
