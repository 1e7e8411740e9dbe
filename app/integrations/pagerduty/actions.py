"""PagerDuty deliveries."""

from typing import Any

from app.integrations.actions import Action, ActionContext, Result
from app.integrations.errors import PermanentError


async def create_incident(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """Page through the REST API, or the Events API when only a routing key is configured."""
    settings = ctx.settings.pagerduty
    if settings.api_token is None and settings.routing_key is not None:
        data = await ctx.clients.pagerduty.enqueue_event(
            routing_key=settings.routing_key.get_secret_value(),
            event_action="trigger",
            dedup_key=payload["incident_key"],
            summary=payload["title"],
            source="relay",
            custom_details={"details": payload.get("details")},
        )
        return {"dedup_key": data.get("dedup_key", payload["incident_key"])}
    service_id = payload.get("service_id") or settings.default_service_id
    if not service_id and "pagerduty" in ctx.clients.sandboxed:
        service_id = "<the owning team's PagerDuty service>"
    if not service_id:
        raise PermanentError(
            "no PagerDuty service to page: map the owning team's pagerduty_service_id "
            "or set RELAY_PAGERDUTY_DEFAULT_SERVICE_ID"
        )
    try:
        incident = await ctx.clients.pagerduty.create_incident(
            title=payload["title"],
            service_id=service_id,
            incident_key=payload["incident_key"],
            urgency=payload.get("urgency", "high"),
            details=payload.get("details"),
            assignee_ids=tuple(payload.get("assignee_ids", ())),
        )
    except PermanentError as exc:
        # An earlier attempt already paged: the incident key is what keeps a retry from paging twice.
        if "incident_key" in exc.message.lower() or "matching dedup key" in exc.message.lower():
            return {"incident_key": payload["incident_key"], "already_open": True}
        raise
    return {
        "id": incident["id"],
        "html_url": incident.get("html_url"),
        "incident_key": payload["incident_key"],
    }


ACTIONS: dict[str, Action] = {"pagerduty.create_incident": create_incident}
