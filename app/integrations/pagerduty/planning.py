"""Which PagerDuty deliveries Relay's changes cause: page, acknowledge, resolve, priority, notes.

A delivery about a PagerDuty incident needs its id. When Relay knows it (the incident is linked, or
the page has succeeded) the id goes into the payload; while the page is still on its way the delivery
depends on it and takes the id from its result, so it can never run before the incident exists.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.deliveries import repository as deliveries_repo
from app.deliveries import service
from app.deliveries.models import SUCCEEDED, Delivery
from app.deliveries.service import dependency
from app.incidents import conventions
from app.incidents import repository as incidents_repo
from app.incidents.models import Incident, IncidentStatus, Role
from app.integrations.pagerduty import repository as repo
from app.people.models import Person, Team

if TYPE_CHECKING:
    from app.deliveries.planning import IncidentChange, StatusUpdate

SOURCE = repo.SOURCE
CREATE_KEY = "pagerduty:create_incident"
TRIGGER_KEY = "pagerduty:trigger_event"
# Notes Relay adds start with this, so that their incident.annotated webhooks are not imported back.
NOTE_PREFIX = "Status update from Relay"
EVENT_SEVERITY = {"SEV1": "critical", "SEV2": "error", "SEV3": "warning"}
S = IncidentStatus
# Relay statuses that mean someone is on it (acknowledge), and those that end the page (resolve).
WORKING = frozenset({S.investigating, S.mitigated})
ENDED = frozenset({S.resolved, S.closed, S.cancelled, S.duplicate})


@dataclass(frozen=True)
class Target:
    """How a delivery names the PagerDuty incident, and what it must wait for."""

    payload: dict[str, Any]
    depends_on: Delivery | None
    events_api: bool


def uses_events_api(settings: Settings) -> bool:
    """Only an Events API routing key is configured: page and update through events."""
    return settings.pagerduty.api_token is None and settings.pagerduty.routing_key is not None


async def _add(
    session: AsyncSession,
    incident: Incident,
    settings: Settings,
    action: str,
    key: str,
    payload: dict[str, Any],
    depends_on: Delivery | None = None,
) -> Delivery:
    return await service.add(
        session,
        provider="pagerduty",
        action=action,
        payload=payload,
        idempotency_key=f"{incident.reference}:{key}",
        settings=settings.delivery,
        incident_id=incident.id,
        depends_on=depends_on,
    )


async def _from_email(session: AsyncSession, person_id: int | None) -> str | None:
    """The acting person's email, when PagerDuty knows them (``From`` must be a PagerDuty user)."""
    person = await session.get(Person, person_id) if person_id else None
    if person is None or not person.email or not person.pagerduty_user_id:
        return None
    return person.email


async def _commander_user(session: AsyncSession, incident: Incident) -> str | None:
    assert incident.id is not None
    for holder in await incidents_repo.current_holders(session, incident.id, Role.commander):
        person = await session.get(Person, holder.person_id)
        if person is not None and person.pagerduty_user_id:
            return person.pagerduty_user_id
    return None


async def _context(session: AsyncSession, incident: Incident, settings: Settings) -> dict[str, Any]:
    """Where responders find the incident: Relay, the Slack channel, the Freshdesk tickets."""
    assert incident.id is not None
    channel = f"#{incident.channel_name}"
    slack_url = (
        f"https://slack.com/app_redirect?channel={incident.slack_channel_id}"
        if incident.slack_channel_id
        else None
    )
    tickets = [
        link.url or f"Freshdesk ticket {link.external_id}"
        for link in await repo.links(session, incident.id, "freshdesk_ticket")
    ]
    relay_url = f"{settings.base_url.rstrip('/')}/api/v1/incidents/{incident.reference}"
    return {
        "relay": relay_url,
        "slack_channel": channel,
        "slack_url": slack_url,
        "freshdesk_tickets": tickets,
    }


def _details(incident: Incident, context: dict[str, Any], settings: Settings) -> str:
    summary = conventions.summary_line(
        incident.declared_at,
        incident.severity,
        incident.functionality,
        incident.state,
        incident.audience,
        settings.zone,
    )
    lines = [
        summary,
        f"Relay: {context['relay']}",
        f"Slack: {context['slack_channel']}" + (f" ({context['slack_url']})" if context["slack_url"] else ""),
    ]
    if context["freshdesk_tickets"]:
        lines.append("Freshdesk: " + ", ".join(context["freshdesk_tickets"]))
    if incident.summary:
        lines += ["", incident.summary]
    return "\n".join(lines)


async def page(session: AsyncSession, incident: Incident, team: Team | None, settings: Settings) -> None:
    """Page when the severity says so and PagerDuty has no incident for this one yet."""
    assert incident.id is not None
    if incident.severity not in settings.pagerduty.page_severities:
        return
    if await repo.link_of(session, incident.id) is not None:
        return  # PagerDuty raised it, or it joined an incident PagerDuty already has
    context = await _context(session, incident, settings)
    title = f"{incident.reference}: {incident.title}"
    if uses_events_api(settings):
        links = [{"href": context["relay"], "text": f"{incident.reference} in Relay"}]
        if context["slack_url"]:
            links.append({"href": context["slack_url"], "text": context["slack_channel"]})
        links += [
            {"href": url, "text": "Freshdesk ticket"} for url in context["freshdesk_tickets"] if "://" in url
        ]
        await _add(
            session,
            incident,
            settings,
            "pagerduty.trigger_event",
            TRIGGER_KEY,
            {
                "dedup_key": incident.reference,
                "title": title,
                "severity": EVENT_SEVERITY.get(incident.severity, "critical"),
                "source": "relay",
                "custom_details": {**context, "priority": incident.priority, "summary": incident.summary},
                "links": links,
            },
        )
        return
    commander = await _commander_user(session, incident)
    await _add(
        session,
        incident,
        settings,
        "pagerduty.create_incident",
        CREATE_KEY,
        {
            "title": title,
            "service_id": team.pagerduty_service_id if team else None,
            "incident_key": incident.reference,
            "urgency": "high",
            "priority": incident.priority,
            "details": _details(incident, context, settings),
            "assignee_ids": [commander] if commander else [],
            "from_email": await _from_email(session, incident.declared_by_id),
        },
    )


async def target(session: AsyncSession, incident: Incident, settings: Settings) -> Target | None:
    """The PagerDuty incident deliveries about ``incident`` act on; None when there is none."""
    assert incident.id is not None
    if uses_events_api(settings):
        # Events name the incident by the dedup key Relay paged with; without that page, nothing.
        trigger = await deliveries_repo.by_key(session, f"{incident.reference}:{TRIGGER_KEY}")
        if trigger is None:
            return None
        waits = None if trigger.status in SUCCEEDED else trigger
        return Target({"dedup_key": incident.reference}, waits, events_api=True)
    link = await repo.link_of(session, incident.id)
    if link is not None:
        return Target({"incident_id": link.external_id}, None, events_api=False)
    create = await deliveries_repo.by_key(session, f"{incident.reference}:{CREATE_KEY}")
    if create is None:
        return None
    created_id = (create.result or {}).get("id") if create.status in SUCCEEDED else None
    if created_id:
        return Target({"incident_id": created_id}, None, events_api=False)
    return Target({"incident_id": dependency("id")}, create, events_api=False)


async def _mirror_status(
    session: AsyncSession, incident: Incident, change: "IncidentChange", settings: Settings
) -> None:
    status = IncidentStatus(incident.status)
    if status in WORKING and change.previous_status == S.declared:
        pd_status, event_action = "acknowledged", "acknowledge"
    elif status in ENDED:
        pd_status, event_action = "resolved", "resolve"
    else:
        return
    found = await target(session, incident, settings)
    if found is None:
        return
    if found.events_api:
        event: dict[str, Any] = {"dedup_key": incident.reference, "event_action": event_action}
        await _add(
            session,
            incident,
            settings,
            "pagerduty.send_event",
            f"pagerduty:{pd_status}",
            event,
            found.depends_on,
        )
        return
    payload: dict[str, Any] = {
        **found.payload,
        "status": pd_status,
        "from_email": await _from_email(session, change.actor_id),
    }
    if pd_status == "resolved":
        payload["resolution"] = f"{incident.reference} is {status} in Relay."
    await _add(
        session,
        incident,
        settings,
        "pagerduty.update_status",
        f"pagerduty:{pd_status}",
        payload,
        found.depends_on,
    )


async def on_changed(
    session: AsyncSession, incident: Incident, change: "IncidentChange", settings: Settings
) -> None:
    """Acknowledge, resolve, re-prioritise, reassign or page, as the change asks."""
    if change.source == SOURCE:
        return  # PagerDuty already has it: it told us
    if change.kind == "status":
        await _mirror_status(session, incident, change, settings)
        return
    found = await target(session, incident, settings)
    if change.kind == "fields" and "severity" in change.fields and found is None:
        team = await session.get(Team, incident.team_id) if incident.team_id else None
        await page(session, incident, team, settings)  # raised to a severity that pages
        return
    if found is None or found.events_api:
        return  # the Events API cannot change priority or assignment
    from_email = await _from_email(session, change.actor_id)
    if change.kind == "fields" and "priority" in change.fields:
        await _add(
            session,
            incident,
            settings,
            "pagerduty.set_priority",
            f"pagerduty:priority:{incident.version}",
            {**found.payload, "priority": incident.priority, "from_email": from_email},
            found.depends_on,
        )
    elif change.kind == "role" and change.role == Role.commander:
        commander = await _commander_user(session, incident)
        if commander is None:
            return
        await _add(
            session,
            incident,
            settings,
            "pagerduty.reassign",
            f"pagerduty:assign:{commander}:{incident.version}",
            {**found.payload, "assignee_ids": [commander], "from_email": from_email},
            found.depends_on,
        )


async def on_status_update(
    session: AsyncSession, incident: Incident, update: "StatusUpdate", settings: Settings
) -> None:
    """Mirror a status update on the PagerDuty incident as a note."""
    found = await target(session, incident, settings)
    if found is None or found.events_api:
        return  # the Events API has no notes
    content = f"{NOTE_PREFIX} ({incident.reference}, {update.audience}):\n\n{update.body}"
    await _add(
        session,
        incident,
        settings,
        "pagerduty.add_note",
        f"pagerduty:note:{update.audience}:{update.key}",
        {**found.payload, "content": content, "from_email": await _from_email(session, update.author_id)},
        found.depends_on,
    )
