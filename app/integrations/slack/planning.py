"""Slack's part of the fan-out: the deliveries that keep an incident's channel in step with Relay."""

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.deliveries import repository as deliveries_repo
from app.deliveries import service as deliveries
from app.deliveries.models import SUCCEEDED, Delivery, DeliveryStatus
from app.incidents import conventions
from app.incidents import repository as incidents_repo
from app.incidents.models import Incident
from app.integrations.slack import messages
from app.integrations.slack import repository as repo
from app.people.models import Team

if TYPE_CHECKING:  # the planning hub imports this module; the types only flow one way at runtime
    from app.deliveries.planning import IncidentChange, StatusUpdate

# What the pinned summary shows: a change to any of these rewrites it.
SUMMARY_FIELDS = frozenset({"title", "severity", "priority", "summary", "state", "audience"})
LINK_FIELDS = frozenset({"video_url", "notes_url"})
Target = tuple[Any, Delivery | None]


def key(incident: Incident, suffix: str) -> str:
    return f"{incident.reference}:slack:{suffix}"


async def add(
    session: AsyncSession,
    incident: Incident,
    settings: Settings,
    action: str,
    suffix: str,
    payload: dict[str, Any],
    depends_on: Delivery | None = None,
) -> Delivery:
    """One Slack delivery for the incident, once per key."""
    if depends_on is not None and depends_on.status in SUCCEEDED:
        # The parent is done: take its result now, so this one goes out at once instead of at the sweep.
        payload = deliveries.resolve_payload(payload, depends_on.result)
        depends_on = None
    return await deliveries.add(
        session,
        provider="slack",
        action=action,
        payload=payload,
        idempotency_key=key(incident, suffix),
        settings=settings.delivery,
        incident_id=incident.id,
        depends_on=depends_on,
    )


async def channel_target(session: AsyncSession, incident: Incident) -> Target | None:
    """The incident's channel id, or a promise of it from the delivery that creates the channel."""
    if incident.slack_channel_id:
        return incident.slack_channel_id, None
    create = await deliveries_repo.by_key(session, key(incident, "create_channel"))
    if create is None or create.status == DeliveryStatus.dead:
        return None
    return deliveries.dependency("channel_id"), create


async def _summary_target(session: AsyncSession, incident: Incident) -> Target | None:
    if incident.slack_channel_id and incident.slack_summary_ts:
        return (incident.slack_channel_id, incident.slack_summary_ts), None
    # The summary posted in an adopted channel, else the one posted when the channel was created.
    suffixes = [f"summary:{incident.slack_channel_id}"] if incident.slack_channel_id else []
    for suffix in [*suffixes, "summary"]:
        posted = await deliveries_repo.by_key(session, key(incident, suffix))
        if posted is not None and posted.status != DeliveryStatus.dead:
            return (deliveries.dependency("channel"), deliveries.dependency("ts")), posted
    return None


def _fill(template: str | None, incident: Incident) -> str | None:
    return template.format(reference=incident.reference, channel=incident.channel_name) if template else None


async def _invite(
    session: AsyncSession,
    incident: Incident,
    settings: Settings,
    suffix: str,
    person_ids: list[int],
    target: Target,
) -> None:
    users = list(dict.fromkeys(await repo.slack_ids(session, person_ids)))
    if users:
        channel, parent = target
        await add(
            session, incident, settings, "slack.invite", suffix, {"channel": channel, "users": users}, parent
        )


async def _welcome(session: AsyncSession, incident: Incident, team: Team | None) -> list[int]:
    people = [incident.declared_by_id] if incident.declared_by_id else []
    if team is not None and team.id is not None:
        people += await repo.team_member_ids(session, team.id)
    if incident.id is not None:
        people += await repo.role_holder_ids(session, incident.id, "commander")
    return people


async def on_declared(
    session: AsyncSession, incident: Incident, summary_line: str, team: Team | None, settings: Settings
) -> None:
    """Open the channel, post and pin the summary, announce it, invite the people, post the links."""
    ref = incident.reference
    channel = await add(
        session, incident, settings, "slack.create_channel", "create_channel", {"name": incident.channel_name}
    )
    summary = await add(
        session,
        incident,
        settings,
        "slack.post_summary",
        "summary",
        {
            "channel": deliveries.dependency("channel_id"),
            "text": f"{ref}: {summary_line}",
            "blocks": messages.summary_blocks(
                summary_line=summary_line,
                reference=ref,
                status=incident.status,
                severity=incident.severity,
                priority=incident.priority,
                impact=incident.summary,
                title=incident.title,
            ),
        },
        channel,
    )
    pin = {"channel": deliveries.dependency("channel"), "timestamp": deliveries.dependency("ts")}
    await add(session, incident, settings, "slack.pin_message", "pin_summary", pin, summary)
    announcement = messages.announcement(title=incident.title, team=team.name if team else None)
    await add(
        session,
        incident,
        settings,
        "slack.post_message",
        "announce",
        {
            "channel": settings.slack.announcements_channel,
            "text": deliveries.dependency("channel_id", announcement),
        },
        channel,
    )
    await _welcome_channel(session, incident, team, settings, channel)


async def _welcome_channel(
    session: AsyncSession, incident: Incident, team: Team | None, settings: Settings, channel: Delivery
) -> None:
    """Invite the reporter, the commander and the owning team; post the video bridge and notes links."""
    incident.video_url = incident.video_url or _fill(settings.slack.video_bridge_url, incident)
    incident.notes_url = incident.notes_url or _fill(settings.slack.notes_url, incident)
    target: Target = (deliveries.dependency("channel_id"), channel)
    await _invite(
        session, incident, settings, "invite:declared", await _welcome(session, incident, team), target
    )
    text = messages.links(
        reference=incident.reference, video_url=incident.video_url, notes_url=incident.notes_url
    )
    await add(
        session,
        incident,
        settings,
        "slack.post_message",
        "links",
        {"channel": target[0], "text": text},
        channel,
    )


async def plan_summary_update(session: AsyncSession, incident: Incident, settings: Settings) -> None:
    """Rewrite the pinned summary; rendered when sent, so that it shows the incident as it is then."""
    target = await _summary_target(session, incident)
    if target is None:
        return
    (channel, ts), parent = target
    payload = {"incident_id": incident.id, "channel": channel, "ts": ts}
    await add(
        session, incident, settings, "slack.update_summary", f"summary:v{incident.version}", payload, parent
    )


async def render_summary(session: AsyncSession, incident: Incident, settings: Settings) -> dict[str, Any]:
    """The pinned summary's text and blocks for the incident as it is now."""
    assert incident.id is not None
    holders = await incidents_repo.role_assignments(session, incident.id, current_only=True)
    line = conventions.incident_summary_line(incident, settings.zone)
    blocks = messages.summary_blocks(
        summary_line=line,
        reference=incident.reference,
        status=incident.status,
        severity=incident.severity,
        priority=incident.priority,
        impact=incident.summary,
        title=incident.title,
        roles=[(assignment.role, name) for assignment, name in holders],
    )
    return {"text": f"{incident.reference}: {line}", "blocks": blocks}


async def _adopt(session: AsyncSession, incident: Incident, settings: Settings, channel: str) -> None:
    # An admin pointed the incident at an existing channel: bring the people and the summary there.
    incident.slack_summary_ts = None
    team = await session.get(Team, incident.team_id) if incident.team_id else None
    people = await _welcome(session, incident, team)
    await _invite(session, incident, settings, f"invite:{channel}", people, (channel, None))
    summary = {"channel": channel, **await render_summary(session, incident, settings)}
    posted = await add(session, incident, settings, "slack.post_summary", f"summary:{channel}", summary)
    pin = {"channel": deliveries.dependency("channel"), "timestamp": deliveries.dependency("ts")}
    await add(session, incident, settings, "slack.pin_message", f"pin_summary:{channel}", pin, posted)


async def on_changed(
    session: AsyncSession, incident: Incident, change: "IncidentChange", settings: Settings
) -> None:
    """Keep the channel current: the pinned summary, invitations for new role holders, changed links."""
    if "slack_channel_id" in change.fields and incident.slack_channel_id:
        await _adopt(session, incident, settings, incident.slack_channel_id)
        return
    target = await channel_target(session, incident)
    if target is None:
        return
    role = change.role if change.kind == "role" else None
    if change.kind != "fields" or change.fields & SUMMARY_FIELDS:
        await plan_summary_update(session, incident, settings)
    if role is not None and incident.id is not None:
        holders = await repo.role_holder_ids(session, incident.id, role)
        await _invite(session, incident, settings, f"invite:v{incident.version}", holders, target)
    if change.fields & LINK_FIELDS:
        text = messages.links(
            reference=incident.reference, video_url=incident.video_url, notes_url=incident.notes_url
        )
        channel, parent = target
        payload = {"channel": channel, "text": text}
        await add(
            session, incident, settings, "slack.post_message", f"links:v{incident.version}", payload, parent
        )


async def on_status_update(
    session: AsyncSession, incident: Incident, update: "StatusUpdate", settings: Settings
) -> None:
    """Internal updates go to the incident channel and the announcements; external ones are copied in."""
    internal = update.audience == "internal"
    text = messages.status_update(
        reference=incident.reference,
        summary_line=conventions.incident_summary_line(incident, settings.zone),
        body=update.body,
        author=update.author_name,
        external=not internal,
    )
    target = await channel_target(session, incident)
    if target is not None:
        channel, parent = target
        payload = {"channel": channel, "text": text}
        await add(
            session, incident, settings, "slack.post_message", f"update:{update.key}:channel", payload, parent
        )
    if internal:
        payload = {"channel": settings.slack.announcements_channel, "text": text}
        await add(session, incident, settings, "slack.post_message", f"update:{update.key}:announce", payload)
