"""The process clock's messages: each one a Slack post recorded once per key, with a timeline entry."""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.comms import cadence
from app.comms import repository as repo
from app.comms.working_time import WorkingCalendar
from app.config import Settings
from app.deliveries import repository as deliveries_repo
from app.deliveries import service as deliveries
from app.deliveries.models import SUCCEEDED, Delivery, DeliveryStatus
from app.incidents import service as incident_service
from app.incidents.models import Incident, Role, TimelineKind
from app.people.models import Person

CLOCK = "Relay process clock"


def _when(at: datetime, settings: Settings) -> str:
    return at.astimezone(WorkingCalendar.from_settings(settings).zone).strftime("%a %Y-%m-%d %H:%M %Z")


def _mention(person: Person | None, role: Role) -> tuple[str, str]:
    """How the message addresses the role holder, and how the timeline names them."""
    label = role.replace("_", " ")
    if person is None:
        return f"Nobody holds the {label} role.", f"nobody holds the {label} role"
    who = f"<@{person.slack_user_id}>" if person.slack_user_id else person.name
    return f"{who} ({label})", f"{person.name} ({label})"


async def _incident_channel(session: AsyncSession, incident: Incident) -> tuple[Any, Delivery | None]:
    """The incident channel's id, or a reference to the channel creation still under way."""
    if incident.slack_channel_id:
        return incident.slack_channel_id, None
    create = await deliveries_repo.by_key(session, f"{incident.reference}:slack:create_channel")
    if create is not None and create.status in SUCCEEDED and (create.result or {}).get("channel_id"):
        return (create.result or {})["channel_id"], None
    if create is not None and create.status != DeliveryStatus.dead:
        return deliveries.dependency("channel_id"), create
    return incident.channel_name, None


async def _once(
    session: AsyncSession,
    incident: Incident,
    key: str,
    text: str,
    entry: str,
    settings: Settings,
    *,
    channel: str | None = None,
) -> int:
    """Post ``text`` unless this key was already posted; 1 when it was posted now."""
    idempotency_key = f"{incident.reference}:clock:{key}"
    if await deliveries_repo.by_key(session, idempotency_key) is not None:
        return 0
    target, depends_on = (channel, None) if channel else await _incident_channel(session, incident)
    await deliveries.add(
        session,
        provider="slack",
        action="slack.post_message",
        payload={"channel": target, "text": text},
        idempotency_key=idempotency_key,
        settings=settings.delivery,
        incident_id=incident.id,
        depends_on=depends_on,
    )
    await incident_service.add_entry(
        session,
        incident,
        TimelineKind.event,
        entry,
        source="clock",
        author_name=CLOCK,
        data={"clock": key.split(":", 1)[0], "key": key},
    )
    return 1


async def update_overdue(
    session: AsyncSession, incident: Incident, overdue: cadence.Overdue, settings: Settings
) -> int:
    """Remind the commander (internal) or the liaison (external) that an update is late."""
    assert incident.id is not None
    role = Role.commander if overdue.audience == cadence.INTERNAL else Role.liaison
    person = await repo.holder(session, incident.id, role)
    if person is None and role == Role.liaison:
        role, person = Role.commander, await repo.holder(session, incident.id, Role.commander)
    address, named = _mention(person, role)
    interval = cadence.update_interval(incident, overdue.audience, settings)
    minutes = int(interval.total_seconds() // 60) if interval else 0
    text = (
        f"{address} {incident.reference}: the {overdue.audience} status update was due at "
        f"{_when(overdue.due_at, settings)} ({incident.severity}: every {minutes} minutes). "
        f"Post one with a template or free text: POST /api/v1/incidents/{incident.reference}/updates."
    )
    entry = f"Reminder: the {overdue.audience} update was due at {_when(overdue.due_at, settings)}; {named}."
    return await _once(session, incident, overdue.key, text, entry, settings)


async def escalate(session: AsyncSession, incident: Incident, due: datetime, settings: Settings) -> int:
    """Ping the engineering team once about an incident still unresolved past the threshold."""
    assert incident.id is not None
    team = await repo.team(session, incident.team_id)
    policy = settings.policy
    channel = (team.slack_channel if team else None) or policy.escalation_channel
    channel = channel or settings.slack.announcements_channel
    commander = await repo.holder(session, incident.id, Role.commander)
    minutes = int((due - incident.declared_at).total_seconds() // 60)
    text = (
        f"{policy.escalation_mention + ' ' if policy.escalation_mention else ''}"
        f"{incident.reference} ({incident.severity}) is still not resolved {minutes} minutes after it was "
        f"declared: {incident_service.summary_line(incident, settings)}. "
        f"Commander: {commander.name if commander else 'nobody yet'}. Join #{incident.channel_name} to help."
    )
    entry = f"Escalated: not resolved {minutes} minutes after declaration; pinged #{channel.lstrip('#')}."
    return await _once(session, incident, "escalation", text, entry, settings, channel=channel)


async def propose_retrospective(
    session: AsyncSession, incident: Incident, deadline: datetime, settings: Settings
) -> int:
    """Once per resolution: propose a retrospective slot inside the deadline to the commander."""
    assert incident.id is not None
    assert incident.resolved_at is not None
    address, named = _mention(await repo.holder(session, incident.id, Role.commander), Role.commander)
    slot = cadence.proposed_retrospective(deadline, settings)
    text = (
        f"{address} {incident.reference} is resolved. Its retrospective is due by "
        f"{_when(deadline, settings)}; Relay proposes {_when(slot, settings)}. "
        "Once it is booked, set retrospective_at on the incident "
        f"(PATCH /api/v1/incidents/{incident.reference})."
    )
    due = _when(deadline, settings)
    entry = f"Retrospective proposed for {_when(slot, settings)} (due by {due}); {named}."
    key = f"retro-proposal:{incident.resolved_at:%Y%m%dT%H%M%S}"
    return await _once(session, incident, key, text, entry, settings)


async def retrospective_unscheduled(
    session: AsyncSession, incident: Incident, deadline: datetime, now: datetime, settings: Settings
) -> int:
    """Once per working day: the retrospective is still not scheduled."""
    assert incident.id is not None
    address, named = _mention(await repo.holder(session, incident.id, Role.commander), Role.commander)
    late = " It is overdue." if now > deadline else ""
    text = (
        f"{address} The retrospective for {incident.reference} is not scheduled yet; it is due by "
        f"{_when(deadline, settings)}.{late} Set retrospective_at once it is booked."
    )
    entry = f"Reminder: the retrospective is not scheduled (due by {_when(deadline, settings)}); {named}."
    day = WorkingCalendar.from_settings(settings).local_date(now)
    return await _once(session, incident, f"retro-reminder:{day.isoformat()}", text, entry, settings)


async def cannot_close(
    session: AsyncSession, incident: Incident, missing: list[str], now: datetime, settings: Settings
) -> int:
    """Once per working day: what keeps a resolved incident from closing."""
    assert incident.id is not None
    address, named = _mention(await repo.holder(session, incident.id, Role.commander), Role.commander)
    text = (
        f"{address} {incident.reference} is resolved but cannot close yet. Missing: "
        + "; ".join(missing)
        + "."
    )
    entry = "Reminder: cannot close yet, missing " + "; ".join(missing) + f"; {named}."
    day = WorkingCalendar.from_settings(settings).local_date(now)
    return await _once(session, incident, f"close-reminder:{day.isoformat()}", text, entry, settings)
