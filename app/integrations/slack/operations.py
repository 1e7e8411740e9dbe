"""What people do to incidents from Slack, carried out by the incident services."""

from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.auth.service import Actor
from app.comms import service as comms
from app.comms.defaults import TemplateName
from app.comms.schemas import StatusUpdateCreate
from app.config import Settings
from app.deliveries import planning
from app.errors import AppError, DuplicateIncident
from app.incidents import conventions, investigation
from app.incidents import repository as incidents_repo
from app.incidents import service as incident_service
from app.incidents.models import Incident, IncidentStatus, Role, TimelineKind
from app.incidents.schemas import HypothesisCreate, IncidentCreate, TransitionIn
from app.integrations.slack import mapping
from app.integrations.slack import repository as repo
from app.integrations.slack.commands import Command, CommandError, Mention, parse_declaration, parse_role

SOURCE = mapping.SOURCE


@dataclass(frozen=True)
class Caller:
    """Who ran a command or pressed a button, and where."""

    user_id: str
    name: str | None
    channel_id: str | None


async def actor_of(session: AsyncSession, caller: Caller, settings: Settings) -> Actor:
    return mapping.actor_for(await mapping.person_for(session, caller.user_id, caller.name, settings))


async def incident_for(session: AsyncSession, command: Command, caller: Caller) -> Incident:
    """The incident a command names, or else the one whose channel it was run in."""
    if command.reference:
        return await incident_service.get_or_404(session, command.reference)
    incident = await repo.incident_by_channel(session, caller.channel_id) if caller.channel_id else None
    if incident is None:
        raise CommandError(
            f"This channel is not an incident's channel. Run `/incident {command.verb}` in the incident's "
            f"channel, or name the incident: `/incident {command.verb} INC-42 …`."
        )
    return incident


def explain(exc: Exception) -> str:
    """An error as the person in Slack should read it."""
    if isinstance(exc, CommandError):
        return exc.text
    if isinstance(exc, DuplicateIncident):
        found = exc.detail.split(", or declare again", 1)[0]
        return f"{found}. If this is a different problem, declare again with `--force` before the severity."
    if isinstance(exc, AppError):
        return exc.detail
    if isinstance(exc, ValidationError):
        return "That does not work: " + "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'input'}: {err['msg']}" for err in exc.errors()
        )
    raise exc


def declared_reply(incident: Incident, settings: Settings) -> str:
    line = conventions.incident_summary_line(incident, settings.zone)
    return (
        f"Declared *{incident.reference}*: {line} ({incident.priority}). Relay is opening "
        f"#{incident.channel_name} and announcing it in #{settings.slack.announcements_channel}."
    )


async def declare(session: AsyncSession, data: IncidentCreate, actor: Actor, settings: Settings) -> Incident:
    return await incident_service.declare(session, data, actor, settings, source=SOURCE)


async def declare_line(session: AsyncSession, args: str, actor: Actor, settings: Settings) -> str:
    """``/incident declare sev1 Login API is down for all users``."""
    line = parse_declaration(args)
    data = IncidentCreate(
        title=line.title,
        service=line.service or conventions.slug(line.functionality),
        functionality=line.functionality,
        state=line.state,
        audience=line.audience,
        severity=line.severity,
        affects_end_users=line.affects_end_users,
        force=line.force,
    )
    return declared_reply(await declare(session, data, actor, settings), settings)


async def post_internal_update(
    session: AsyncSession, incident: Incident, args: str, actor: Actor, settings: Settings
) -> None:
    """Send an internal status update: ``[template] text``, e.g. ``mitigated Rolled back at 14:02``."""
    first, _, rest = args.partition(" ")
    template = TemplateName(first.lower()) if first.lower() in set(TemplateName) else None
    text = rest.strip() if template else args
    update_in = StatusUpdateCreate(audience=planning.Audience.internal, template=template, text=text or None)
    await comms.send_update(session, incident, update_in, actor, settings, source=SOURCE)


async def move(
    session: AsyncSession, incident: Incident, move_in: TransitionIn, actor: Actor, settings: Settings
) -> str:
    await incident_service.transition(session, incident, move_in, actor, settings, source=SOURCE)
    return f"{incident.reference} is now *{incident.status}*."


async def _person_for_mention(session: AsyncSession, mention: Mention, settings: Settings) -> int:
    if mention.user_id is None:
        raise CommandError(
            f"Slack sent the name @{mention.handle}, not the user, so I cannot tell who it is. Pick the "
            "person from the autocomplete, or turn on 'Escape channels, users, and links' for /incident."
        )
    person = await mapping.person_for(session, mention.user_id, mention.handle, settings)
    assert person.id is not None
    return person.id


async def take_role(
    session: AsyncSession, incident: Incident, role: Role, person_id: int, actor: Actor, settings: Settings
) -> str:
    assignment = await incident_service.assign_role(session, incident, role, person_id, actor, settings)
    who = await _slack_id(session, assignment.person_id)
    return f"<@{who}> is now {role.replace('_', ' ')} of {incident.reference}."


async def _slack_id(session: AsyncSession, person_id: int) -> str:
    ids = await repo.slack_ids(session, [person_id])
    return ids[0] if ids else str(person_id)


def _ago(at: datetime) -> str:
    minutes = int((clock.now() - at).total_seconds() // 60)
    return f"{minutes} min ago" if minutes < 120 else f"{minutes // 60} h ago"


async def status_text(session: AsyncSession, incident: Incident, settings: Settings) -> str:
    assert incident.id is not None
    holders = await incidents_repo.role_assignments(session, incident.id, current_only=True)
    roles = ", ".join(f"{a.role.replace('_', ' ')}: {name}" for a, name in holders) or "no roles assigned yet"
    channel = f"<#{incident.slack_channel_id}>" if incident.slack_channel_id else f"#{incident.channel_name}"
    return "\n".join(
        [
            f"*{incident.reference}* {conventions.incident_summary_line(incident, settings.zone)}",
            f"*{incident.status}* · {incident.severity} · {incident.priority} · {channel}",
            f"{incident.title} — declared {_ago(incident.declared_at)}; {roles}.",
        ]
    )


def _transition(verb: str, args: str) -> TransitionIn:
    text = args or None
    if verb == "mitigated":
        return TransitionIn(status=IncidentStatus.mitigated, mitigation=text)
    if verb == "resolve":
        return TransitionIn(status=IncidentStatus.resolved, durable_reason=text)
    if verb == "close":
        return TransitionIn(status=IncidentStatus.closed)
    word, _, rest = args.partition(" ")
    try:
        status = IncidentStatus(word.lower())
    except ValueError:
        raise CommandError(f"`{word}` is not a status. Statuses: {', '.join(IncidentStatus)}.") from None
    rest = rest.strip()
    if status == IncidentStatus.duplicate:
        return TransitionIn(status=status, duplicate_of=rest.upper() or None)
    if status == IncidentStatus.mitigated:
        return TransitionIn(status=status, mitigation=rest or None)
    return TransitionIn(status=status, reason=rest or None)


def _needs_text(command: Command, what: str) -> str:
    if not command.args:
        raise CommandError(f"Add {what}: `/incident {command.verb} …`.")
    return command.args


async def run(
    session: AsyncSession, command: Command, caller: Caller, settings: Settings
) -> tuple[str, int | None]:
    """Carry out one command; returns the reply and the incident it touched."""
    actor = await actor_of(session, caller, settings)
    if command.verb == "declare":
        return await declare_line(session, command.args, actor, settings), None
    incident = await incident_for(session, command, caller)
    verb = command.verb
    if verb == "status" and not command.args:
        reply = await status_text(session, incident, settings)
    elif verb in ("status", "mitigated", "resolve", "close"):
        reply = await move(session, incident, _transition(verb, command.args), actor, settings)
    elif verb == "note":
        body = _needs_text(command, "the note")
        await incident_service.add_entry(
            session, incident, TimelineKind.note, body, actor=actor, source=SOURCE
        )
        reply = f"Noted on {incident.reference}'s timeline."
    elif verb == "update":
        await post_internal_update(session, incident, _needs_text(command, "the update"), actor, settings)
        reply = f"Update posted for {incident.reference} here and in #{settings.slack.announcements_channel}."
    elif verb == "role":
        role, mention = parse_role(command.args)
        person_id = await _person_for_mention(session, mention, settings)
        reply = await take_role(session, incident, role, person_id, actor, settings)
    elif verb == "hypothesis":
        statement = _needs_text(command, "the hypothesis")
        await investigation.add_hypothesis(session, incident, HypothesisCreate(statement=statement), actor)
        reply = f"Hypothesis recorded on {incident.reference}."
    else:
        raise CommandError(f"`{verb}` cannot be run this way.")
    return reply, incident.id
