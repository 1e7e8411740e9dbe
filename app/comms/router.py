"""/api/v1: status updates, their templates, and the process clock's policy."""

from datetime import datetime

from fastapi import APIRouter, Response, status

from app.auth.deps import Admin, Authenticated, Reader, Writer
from app.comms import cadence, service
from app.comms import repository as repo
from app.comms.defaults import TemplateName
from app.comms.schemas import (
    PolicyPublic,
    StatusUpdateCreate,
    StatusUpdatePublic,
    TemplateEdit,
    TemplatePublic,
)
from app.deliveries.planning import Audience
from app.dependencies import SessionDep, SettingsDep
from app.incidents.models import TimelineEntry
from app.incidents.router import ERRORS, IncidentDep, etag

router = APIRouter(prefix="/api/v1", tags=["communication"], responses=ERRORS, dependencies=[Authenticated])


def _update_public(entry: TimelineEntry, next_due: datetime | None = None) -> StatusUpdatePublic:
    assert entry.id is not None
    data = entry.data or {}
    return StatusUpdatePublic(
        id=entry.id,
        audience=str(data.get("audience")),
        template=data.get("template"),
        body=entry.body,
        author_name=entry.author_name,
        sent_at=entry.occurred_at,
        next_update_due_at=next_due,
    )


@router.post("/incidents/{reference}/updates", status_code=status.HTTP_201_CREATED)
async def post_status_update(
    incident: IncidentDep,
    update_in: StatusUpdateCreate,
    actor: Writer,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> StatusUpdatePublic:
    """Send a status update to an audience (from a template or free text); it resets that audience's clock."""
    entry = await service.send_update(session, incident, update_in, actor, settings)
    response.headers["ETag"] = etag(incident.version)
    return _update_public(entry, cadence.next_update_due(incident, update_in.audience, settings))


@router.get("/incidents/{reference}/updates")
async def list_status_updates(
    incident: IncidentDep, _actor: Reader, session: SessionDep
) -> list[StatusUpdatePublic]:
    """The status updates sent for an incident, newest first."""
    assert incident.id is not None
    entries = await repo.communications(session, incident.id)
    return [_update_public(entry) for entry in entries if entry.data and "audience" in entry.data]


@router.get("/templates")
async def list_templates(_actor: Reader, session: SessionDep) -> list[TemplatePublic]:
    """Every status-update template, per audience; `customized` says whether it was edited."""
    return await service.list_templates(session)


@router.get("/templates/{audience}/{name}")
async def get_template(
    audience: Audience, name: TemplateName, _actor: Reader, session: SessionDep
) -> TemplatePublic:
    """One template."""
    return await service.template_public(session, name, audience)


@router.put("/templates/{audience}/{name}")
async def edit_template(
    audience: Audience, name: TemplateName, edit: TemplateEdit, actor: Admin, session: SessionDep
) -> TemplatePublic:
    """Replace a template's text. It is tried in the sandbox first: one that reaches for Python internals,
    calls functions or does not render is refused with 422."""
    return await service.edit_template(session, name, audience, edit.body, actor)


@router.delete("/templates/{audience}/{name}")
async def reset_template(
    audience: Audience, name: TemplateName, _actor: Admin, session: SessionDep
) -> TemplatePublic:
    """Go back to the built-in default text."""
    return await service.reset_template(session, name, audience)


@router.get("/policy")
async def read_policy(_actor: Reader, settings: SettingsDep) -> PolicyPublic:
    """Update cadence, escalation, retrospective and auto-close rules per severity, and the working
    calendar they count in (set through RELAY_POLICY_* and RELAY_CALENDAR_*)."""
    return service.policy_public(settings)
