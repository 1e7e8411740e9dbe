"""Status updates and their templates: render, record, reset the cadence, fan out."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.auth.service import Actor
from app.comms import cadence, rendering
from app.comms import repository as repo
from app.comms.defaults import DEFAULTS, TemplateName
from app.comms.models import MessageTemplate
from app.comms.schemas import (
    CalendarPublic,
    EscalationPublic,
    PolicyPublic,
    StatusUpdateCreate,
    TemplatePublic,
)
from app.config import Settings
from app.deliveries import planning
from app.deliveries.planning import Audience
from app.errors import Conflict, NotFound, ValidationFailed, field_error
from app.incidents import lifecycle
from app.incidents import service as incident_service
from app.incidents.models import Incident, Role, TimelineEntry, TimelineKind


def humanize(interval: timedelta | None) -> str:
    """``30 minutes``, ``1 hour``, ``2 hours 30 minutes``."""
    if interval is None:
        return "the next few hours"
    minutes = int(interval.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' * (hours != 1)}"] if hours else []
    if minutes or not parts:
        parts.append(f"{minutes} minute{'s' * (minutes != 1)}")
    return " ".join(parts)


def _when(at: datetime | None, settings: Settings) -> str | None:
    return at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M %Z") if at else None


async def render_context(
    session: AsyncSession,
    incident: Incident,
    audience: str,
    settings: Settings,
    *,
    responder: str | None,
    note: str | None,
    variables: dict[str, str],
) -> dict[str, Any]:
    """Plain values a template may use: no objects, no settings."""
    assert incident.id is not None
    commander = await repo.holder(session, incident.id, Role.commander)
    liaison = await repo.holder(session, incident.id, Role.liaison)
    fields = ("reference", "title", "summary", "service", "functionality", "state", "audience", "severity")
    more = ("priority", "status", "channel_name", "mitigation", "durable_reason", "report_url", "notes_url")
    return {
        "incident": {
            **{name: getattr(incident, name) for name in (*fields, *more, "video_url")},
            "summary_line": incident_service.summary_line(incident, settings),
            "declared_at": _when(incident.declared_at, settings),
            "mitigated_at": _when(incident.mitigated_at, settings),
            "resolved_at": _when(incident.resolved_at, settings),
        },
        "commander": commander.name if commander else None,
        "liaison": liaison.name if liaison else None,
        "milestone": await repo.latest_milestone(session, incident.id),
        "responder": responder,
        "next_update_in": humanize(cadence.update_interval(incident, audience, settings)),
        "retrospective_at": _when(incident.retrospective_at, settings),
        "note": note,
        "variables": variables,
    }


def sample_context() -> dict[str, Any]:
    """What a template is tried against before it is saved."""
    incident = {
        name: f"<{name}>"
        for name in (
            "reference title summary service functionality state audience severity priority status "
            "channel_name mitigation durable_reason report_url notes_url video_url summary_line "
            "declared_at mitigated_at resolved_at"
        ).split()
    }
    names = ("commander", "liaison", "milestone", "responder", "next_update_in", "retrospective_at", "note")
    return {"incident": incident, **{name: f"<{name}>" for name in names}, "variables": {"name": "<name>"}}


def _check_known(name: str, audience: str) -> None:
    if (name, audience) not in DEFAULTS:
        raise NotFound(f"There is no {audience} template {name!r}.")


async def template_public(session: AsyncSession, name: str, audience: str) -> TemplatePublic:
    _check_known(name, audience)
    row = await repo.template(session, name, audience)
    if row is None:
        return TemplatePublic(name=name, audience=audience, body=DEFAULTS[(name, audience)], customized=False)
    return TemplatePublic(
        name=name,
        audience=audience,
        body=row.body,
        customized=True,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


async def list_templates(session: AsyncSession) -> list[TemplatePublic]:
    """Every template, edited or default, in a stable order."""
    edited = {(row.name, row.audience): row for row in await repo.templates(session)}
    result = []
    for audience in Audience:
        for name in TemplateName:
            row = edited.get((name, audience))
            result.append(
                TemplatePublic(
                    name=name,
                    audience=audience,
                    body=row.body if row else DEFAULTS[(name, audience)],
                    customized=row is not None,
                    updated_by=row.updated_by if row else None,
                    updated_at=row.updated_at if row else None,
                )
            )
    return result


async def edit_template(
    session: AsyncSession, name: str, audience: str, body: str, actor: Actor
) -> TemplatePublic:
    """Store an edited template once it has proved it renders and stays inside the sandbox."""
    _check_known(name, audience)
    rendering.check(body, sample_context())
    row = await repo.template(session, name, audience)
    now = clock.now()
    if row is None:
        row = MessageTemplate(name=name, audience=audience, body=body, updated_by=actor.name, updated_at=now)
        session.add(row)
    else:
        row.body, row.updated_by, row.updated_at = body, actor.name, now
    await session.flush()
    return await template_public(session, name, audience)


async def reset_template(session: AsyncSession, name: str, audience: str) -> TemplatePublic:
    """Go back to the built-in default."""
    _check_known(name, audience)
    row = await repo.template(session, name, audience)
    if row is not None:
        await session.delete(row)
        await session.flush()
    return await template_public(session, name, audience)


async def send_update(
    session: AsyncSession,
    incident: Incident,
    update_in: StatusUpdateCreate,
    actor: Actor,
    settings: Settings,
    *,
    source: str = "api",
) -> TimelineEntry:
    """Record a status update, reset its audience's due time, and fan it out to where it is read."""
    if incident.status in lifecycle.TERMINAL:
        raise Conflict(f"{incident.reference} is {incident.status}; it takes no more status updates.")
    audience = update_in.audience
    if update_in.template is None:
        if update_in.text is None:
            raise ValidationFailed(
                "Send a template (acknowledge, investigating, update, mitigated, resolved) or free text.",
                errors=[field_error("template", "a template or text is required")],
            )
        body = update_in.text
    else:
        source_text = (await template_public(session, update_in.template, audience)).body
        context = await render_context(
            session,
            incident,
            audience,
            settings,
            responder=actor.name,
            note=update_in.text,
            variables=update_in.variables,
        )
        body = rendering.render(source_text, context)
    await incident_service.lock(session, incident, None)
    now = clock.now()
    if audience == Audience.internal:
        incident.last_internal_update_at = now
    else:
        incident.last_external_update_at = now
    entry = await incident_service.add_entry(
        session,
        incident,
        TimelineKind.communication,
        body,
        actor=actor,
        source=source,
        data={"audience": audience, "template": update_in.template},
    )
    incident.autoclose_at = cadence.autoclose_at(incident, settings)
    update = planning.StatusUpdate(
        key=f"update-{entry.id}",
        audience=audience,
        body=body,
        template=update_in.template,
        author_name=actor.name,
    )
    await planning.on_status_update(session, incident, update, settings)
    return entry


def policy_public(settings: Settings) -> PolicyPublic:
    policy, cal = settings.policy, settings.calendar
    return PolicyPublic(
        severities={sev.upper(): policy.for_severity(sev) for sev in ("sev1", "sev2", "sev3")},
        retrospective_max_days=policy.retrospective_max_days,
        updates_while_mitigated=policy.updates_while_mitigated,
        escalation=EscalationPublic(
            channel=policy.escalation_channel or settings.slack.announcements_channel,
            mention=policy.escalation_mention,
        ),
        calendar=CalendarPublic(
            timezone=cal.timezone or settings.timezone,
            working_days=cal.working_days,
            hours=cal.hours,
            holidays=[day.isoformat() for day in cal.holidays],
        ),
    )
