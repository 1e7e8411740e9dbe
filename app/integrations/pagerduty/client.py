"""PagerDuty REST API v2 and Events API v2."""

from typing import Any, Literal

import httpx

from app.integrations.http import send

Urgency = Literal["high", "low"]


class PagerDutyClient:
    def __init__(self, rest: httpx.AsyncClient, events: httpx.AsyncClient, *, from_email: str | None) -> None:
        self._rest = rest
        self._events = events
        self._from = from_email

    def _headers(self) -> dict[str, str]:
        return {"From": self._from} if self._from else {}

    async def create_incident(
        self,
        *,
        title: str,
        service_id: str,
        incident_key: str,
        urgency: Urgency = "high",
        details: str | None = None,
        priority_id: str | None = None,
        assignee_ids: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        incident: dict[str, Any] = {
            "type": "incident",
            "title": title,
            "service": {"id": service_id, "type": "service_reference"},
            "urgency": urgency,
            "incident_key": incident_key,
        }
        if details:
            incident["body"] = {"type": "incident_body", "details": details}
        if priority_id:
            incident["priority"] = {"id": priority_id, "type": "priority_reference"}
        if assignee_ids:
            incident["assignments"] = [
                {"assignee": {"id": user, "type": "user_reference"}} for user in assignee_ids
            ]
        response = await send(
            self._rest, "POST", "incidents", json={"incident": incident}, headers=self._headers()
        )
        data: dict[str, Any] = response.json()["incident"]
        return data

    async def enqueue_event(
        self,
        *,
        routing_key: str,
        event_action: Literal["trigger", "acknowledge", "resolve"],
        dedup_key: str,
        summary: str | None = None,
        source: str | None = None,
        severity: Literal["critical", "error", "warning", "info"] = "critical",
        custom_details: dict[str, Any] | None = None,
        links: list[dict[str, str]] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "routing_key": routing_key,
            "event_action": event_action,
            "dedup_key": dedup_key,
        }
        if event_action == "trigger":
            body["payload"] = {
                "summary": (summary or dedup_key)[:1024],
                "source": source or "relay",
                "severity": severity,
                "custom_details": custom_details or {},
            }
            if links:
                body["links"] = links
        response = await send(self._events, "POST", "v2/enqueue", json=body)
        data: dict[str, Any] = response.json()
        return data


def sandbox_response(request: httpx.Request, body: Any) -> tuple[int, Any]:
    body = body if isinstance(body, dict) else {}
    if request.url.path.endswith("/v2/enqueue"):
        return 202, {"status": "success", "message": "Event processed", "dedup_key": body.get("dedup_key")}
    if request.url.path.endswith("/incidents"):
        incident = body.get("incident", {})
        return 201, {
            "incident": {
                "id": "PSANDBOX",
                "html_url": "https://sandbox.pagerduty.invalid/incidents/PSANDBOX",
                "incident_key": incident.get("incident_key"),
                "status": "triggered",
            }
        }
    return 200, {}
