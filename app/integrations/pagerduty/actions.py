"""PagerDuty deliveries: page, acknowledge and resolve, set priority, reassign, add notes."""

from typing import Any

from app.integrations.actions import Action, ActionContext, Result
from app.integrations.errors import PermanentError
from app.integrations.pagerduty.client import ALREADY_ACKNOWLEDGED, ALREADY_RESOLVED, PagerDutyError

SANDBOX_ROUTING_KEY = "<RELAY_PAGERDUTY_ROUTING_KEY>"
# PagerDuty's answers to a change the incident already has: the change is in place, so it succeeded.
ALREADY_DONE = frozenset({ALREADY_RESOLVED, ALREADY_ACKNOWLEDGED})


def _incident_id(payload: dict[str, Any]) -> str:
    incident_id = str(payload.get("incident_id") or "")
    if not incident_id or incident_id.startswith("<"):
        raise PermanentError(
            "the PagerDuty incident's id is not known: "
            "the page that should have created it did not return one"
        )
    return incident_id


def _duplicate_key(exc: PagerDutyError) -> bool:
    words = " ".join([exc.message, *exc.details]).lower()
    return "matching dedup key" in words or "incident_key" in words or "incident key" in words


async def create_incident(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """Page through the REST API; the incident key keeps a retried page from paging twice."""
    settings = ctx.settings.pagerduty
    if settings.api_token is None and settings.routing_key is not None:
        # Planned before the settings changed to an Events API key only: page the way they allow now.
        return await trigger_event(ctx, {**payload, "dedup_key": payload["incident_key"]})
    pagerduty = ctx.clients.pagerduty
    service_id = payload.get("service_id") or settings.default_service_id
    if not service_id and "pagerduty" in ctx.clients.sandboxed:
        service_id = "<the owning team's PagerDuty service>"
    if not service_id:
        raise PermanentError(
            "no PagerDuty service to page: map the owning team's pagerduty_service_id "
            "or set RELAY_PAGERDUTY_DEFAULT_SERVICE_ID"
        )
    priority = payload.get("priority")
    priority_id = await pagerduty.priority_id(priority) if priority else None
    key = payload["incident_key"]
    try:
        incident = await pagerduty.create_incident(
            title=payload["title"],
            service_id=service_id,
            incident_key=key,
            urgency=payload.get("urgency", "high"),
            details=payload.get("details"),
            priority_id=priority_id,
            assignee_ids=tuple(payload.get("assignee_ids", ())),
            from_email=payload.get("from_email"),
        )
    except PagerDutyError as exc:
        if not _duplicate_key(exc):
            raise
        # An earlier attempt already paged (its answer was lost): find that incident instead.
        found = await pagerduty.list_incidents(incident_key=key)
        incident = next((i for i in found if i.get("status") != "resolved"), found[0] if found else {})
        if not incident.get("id"):
            return {"incident_key": key, "already_open": True}
        return {
            "id": incident["id"],
            "html_url": incident.get("html_url"),
            "incident_key": key,
            "already_open": True,
        }
    return {"id": incident["id"], "html_url": incident.get("html_url"), "incident_key": key}


def _routing_key(ctx: ActionContext) -> str:
    key = ctx.settings.pagerduty.routing_key
    if key is not None:
        return key.get_secret_value()
    if "pagerduty" in ctx.clients.sandboxed:
        return SANDBOX_ROUTING_KEY
    raise PermanentError("no Events API routing key: set RELAY_PAGERDUTY_ROUTING_KEY")


async def trigger_event(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """Page through the Events API v2; the dedup key (the reference) makes a retry harmless."""
    data = await ctx.clients.pagerduty.enqueue_event(
        routing_key=_routing_key(ctx),
        event_action="trigger",
        dedup_key=payload["dedup_key"],
        summary=payload["title"],
        source=payload.get("source", "relay"),
        severity=payload.get("severity", "critical"),
        custom_details=payload.get("custom_details") or {"details": payload.get("details")},
        links=payload.get("links"),
    )
    return {"dedup_key": data.get("dedup_key") or payload["dedup_key"]}


async def send_event(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """Acknowledge or resolve, through the Events API v2, what ``trigger_event`` paged."""
    data = await ctx.clients.pagerduty.enqueue_event(
        routing_key=_routing_key(ctx),
        event_action=payload["event_action"],
        dedup_key=payload["dedup_key"],
    )
    return {
        "dedup_key": data.get("dedup_key") or payload["dedup_key"],
        "event_action": payload["event_action"],
    }


async def update_status(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """Acknowledge or resolve the PagerDuty incident; one that already is counts as done."""
    incident_id = _incident_id(payload)
    try:
        await ctx.clients.pagerduty.update_incident(
            incident_id=incident_id,
            status=payload["status"],
            resolution=payload.get("resolution"),
            from_email=payload.get("from_email"),
        )
    except PagerDutyError as exc:
        if exc.code not in ALREADY_DONE:
            raise
        return {"incident_id": incident_id, "status": payload["status"], "already": exc.code}
    return {"incident_id": incident_id, "status": payload["status"]}


async def set_priority(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """Give the PagerDuty incident the priority of the same name, when the account has one."""
    incident_id = _incident_id(payload)
    priority_id = await ctx.clients.pagerduty.priority_id(payload["priority"])
    if priority_id is None:
        return {
            "incident_id": incident_id,
            "skipped": f"PagerDuty has no priority named {payload['priority']}",
        }
    try:
        await ctx.clients.pagerduty.update_incident(
            incident_id=incident_id, priority_id=priority_id, from_email=payload.get("from_email")
        )
    except PagerDutyError as exc:
        if exc.code != ALREADY_RESOLVED:
            raise
        return {"incident_id": incident_id, "skipped": "the PagerDuty incident is already resolved"}
    return {"incident_id": incident_id, "priority_id": priority_id}


async def reassign(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """Assign the PagerDuty incident to the commander's PagerDuty user."""
    incident_id = _incident_id(payload)
    try:
        await ctx.clients.pagerduty.update_incident(
            incident_id=incident_id,
            assignee_ids=tuple(payload["assignee_ids"]),
            from_email=payload.get("from_email"),
        )
    except PagerDutyError as exc:
        if exc.code != ALREADY_RESOLVED:
            raise
        return {"incident_id": incident_id, "skipped": "the PagerDuty incident is already resolved"}
    return {"incident_id": incident_id, "assignee_ids": payload["assignee_ids"]}


async def add_note(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """Add a note (a mirrored status update) to the PagerDuty incident."""
    incident_id = _incident_id(payload)
    note = await ctx.clients.pagerduty.add_note(
        incident_id=incident_id, content=payload["content"][:25_000], from_email=payload.get("from_email")
    )
    return {"incident_id": incident_id, "note_id": note.get("id")}


ACTIONS: dict[str, Action] = {
    "pagerduty.create_incident": create_incident,
    "pagerduty.trigger_event": trigger_event,
    "pagerduty.send_event": send_event,
    "pagerduty.update_status": update_status,
    "pagerduty.set_priority": set_priority,
    "pagerduty.reassign": reassign,
    "pagerduty.add_note": add_note,
}
