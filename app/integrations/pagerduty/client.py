"""PagerDuty REST API v2 and Events API v2: one method per endpoint the deliveries use."""

import time
from typing import Any, Literal

import httpx

from app.integrations.errors import PermanentError
from app.integrations.http import check, send
from app.integrations.http import request as call

Urgency = Literal["high", "low"]
IncidentStatus = Literal["acknowledged", "resolved"]
EventAction = Literal["trigger", "acknowledge", "resolve"]
EventSeverity = Literal["critical", "error", "warning", "info"]

ALREADY_RESOLVED = 1001
ALREADY_ACKNOWLEDGED = 1002
# Priorities change rarely; a process asks again after this long.
PRIORITIES_TTL_SECONDS = 600.0


class PagerDutyError(PermanentError):
    """A refusal with PagerDuty's error code (1001 already resolved, 2001 invalid input, …)."""

    def __init__(self, message: str, *, code: int | None, details: list[str]) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


def _refusal(response: httpx.Response) -> PagerDutyError | None:
    """PagerDuty's ``{"error": {code, message, errors}}`` as an exception, when the body has one."""
    try:
        error = response.json().get("error")
    except ValueError:
        return None
    if not isinstance(error, dict):
        return None
    code = error.get("code")
    details = [str(item) for item in error.get("errors") or []]
    words = "; ".join([str(error.get("message", "")), *details]).strip("; ")
    return PagerDutyError(
        f"HTTP {response.status_code} from {response.request.method} {response.request.url.path}: "
        f"{words} (code {code})",
        code=code if isinstance(code, int) else None,
        details=details,
    )


class PagerDutyClient:
    def __init__(self, rest: httpx.AsyncClient, events: httpx.AsyncClient, *, from_email: str | None) -> None:
        self._rest = rest
        self._events = events
        self._from = from_email
        self._priorities: dict[str, str] | None = None
        self._priorities_at = 0.0

    async def _call(
        self, method: str, path: str, *, from_email: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        sender = from_email or self._from
        headers = {"From": sender} if sender else {}
        response = await call(self._rest, method, path, headers=headers, **kwargs)
        if 400 <= response.status_code < 500 and response.status_code not in (408, 425, 429):
            refusal = _refusal(response)
            if refusal is not None:
                raise refusal
        data: dict[str, Any] = check(response).json()
        return data

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
        from_email: str | None = None,
    ) -> dict[str, Any]:
        incident: dict[str, Any] = {
            "type": "incident",
            "title": title[:255],
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
        data = await self._call("POST", "incidents", json={"incident": incident}, from_email=from_email)
        created: dict[str, Any] = data["incident"]
        return created

    async def list_incidents(self, *, incident_key: str) -> list[dict[str, Any]]:
        """Incidents with this key (at most one is open: PagerDuty refuses a second open one)."""
        data = await self._call("GET", "incidents", params={"incident_key": incident_key, "limit": 25})
        incidents: list[dict[str, Any]] = data.get("incidents", [])
        return incidents

    async def get_incident(self, *, incident_id: str) -> dict[str, Any]:
        """One incident as PagerDuty has it now."""
        data = await self._call("GET", f"incidents/{incident_id}")
        incident: dict[str, Any] = data.get("incident", {})
        return incident

    async def list_log_entries(
        self,
        *,
        since: str,
        until: str,
        offset: int = 0,
        limit: int = 100,
        is_overview: bool = True,
        include_incidents: bool = True,
    ) -> dict[str, Any]:
        """One page of the account's log entries in [since, until): what changed, incident by incident."""
        params: dict[str, Any] = {
            "since": since,
            "until": until,
            "offset": offset,
            "limit": limit,
            "is_overview": "true" if is_overview else "false",
        }
        if include_incidents:
            params["include[]"] = ["incidents"]
        return await self._call("GET", "log_entries", params=params)

    async def update_incident(
        self,
        *,
        incident_id: str,
        status: IncidentStatus | None = None,
        resolution: str | None = None,
        priority_id: str | None = None,
        assignee_ids: tuple[str, ...] = (),
        from_email: str | None = None,
    ) -> dict[str, Any]:
        incident: dict[str, Any] = {"type": "incident_reference"}
        if status:
            incident["status"] = status
        if resolution and status == "resolved":
            incident["resolution"] = resolution
        if priority_id:
            incident["priority"] = {"id": priority_id, "type": "priority_reference"}
        if assignee_ids:
            incident["assignments"] = [
                {"assignee": {"id": user, "type": "user_reference"}} for user in assignee_ids
            ]
        data = await self._call(
            "PUT", f"incidents/{incident_id}", json={"incident": incident}, from_email=from_email
        )
        updated: dict[str, Any] = data.get("incident", {})
        return updated

    async def add_note(
        self, *, incident_id: str, content: str, from_email: str | None = None
    ) -> dict[str, Any]:
        data = await self._call(
            "POST",
            f"incidents/{incident_id}/notes",
            json={"note": {"content": content}},
            from_email=from_email,
        )
        note: dict[str, Any] = data.get("note", {})
        return note

    async def list_priorities(self) -> list[dict[str, Any]]:
        data = await self._call("GET", "priorities", params={"limit": 100})
        priorities: list[dict[str, Any]] = data.get("priorities", [])
        return priorities

    async def priority_id(self, name: str) -> str | None:
        """The id of the account's priority called ``name`` (``P1``…), from a per-client cache."""
        stale = time.monotonic() - self._priorities_at > PRIORITIES_TTL_SECONDS
        if self._priorities is None or stale:
            try:
                listed = await self.list_priorities()
            except PagerDutyError:
                listed = []  # priorities are switched off for the account: incidents go without one
            self._priorities = {str(p.get("name", "")).upper(): str(p["id"]) for p in listed if "id" in p}
            self._priorities_at = time.monotonic()
        return self._priorities.get(name.upper())

    async def enqueue_event(
        self,
        *,
        routing_key: str,
        event_action: EventAction,
        dedup_key: str,
        summary: str | None = None,
        source: str | None = None,
        severity: EventSeverity = "critical",
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


SANDBOX_PRIORITIES = [{"id": f"PSANDBOXP{n}", "type": "priority", "name": f"P{n}"} for n in range(1, 6)]


def sandbox_response(request: httpx.Request, body: Any) -> tuple[int, Any]:
    """What PagerDuty answers on success, with placeholder ids."""
    body = body if isinstance(body, dict) else {}
    path = request.url.path.rstrip("/")
    if path.endswith("/v2/enqueue"):
        return 202, {"status": "success", "message": "Event processed", "dedup_key": body.get("dedup_key")}
    if path.endswith("/priorities"):
        return 200, {"priorities": SANDBOX_PRIORITIES, "more": False}
    if path.endswith("/notes"):
        return 201, {"note": {"id": "PSANDBOXNOTE", **body.get("note", {})}}
    if path.endswith("/incidents") and request.method == "GET":
        return 200, {"incidents": [], "more": False}
    if path.endswith("/incidents"):
        incident = body.get("incident", {})
        return 201, {
            "incident": {
                "id": "PSANDBOX",
                "html_url": "https://sandbox.pagerduty.invalid/incidents/PSANDBOX",
                "incident_key": incident.get("incident_key"),
                "status": "triggered",
            }
        }
    if "/incidents/" in path and request.method == "PUT":
        incident_id = path.rsplit("/", 1)[-1]
        return 200, {"incident": {"id": incident_id, **body.get("incident", {})}}
    return 200, {}
