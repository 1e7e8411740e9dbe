"""A local stand-in for PagerDuty (REST API v2 and Events API v2) that records what it receives,
and the webhooks it would send: Webhooks V3 envelopes, signed like PagerDuty signs them."""

import copy
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.integrations.pagerduty.verification import sign

FIXTURES = Path(__file__).parent / "fixtures" / "pagerduty"
LIFE = ("triggered", "acknowledged", "annotated", "priority_updated", "resolved")
PRIORITIES = [{"id": f"PPRI{n}", "type": "priority", "name": f"P{n}"} for n in range(1, 5)]


def fixture(name: str) -> dict[str, Any]:
    """A fixture envelope (``incident.triggered``…), fresh for each caller to change."""
    envelope: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return envelope


def envelope_bytes(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope, separators=(",", ":")).encode()


def signed_headers(body: bytes, *secrets: str, webhook_id: str | None = None) -> dict[str, str]:
    """The headers PagerDuty sends: one ``v1=`` signature per secret, a webhook id."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "PagerDuty-Webhook/V3.0",
        "X-PagerDuty-Signature": ",".join(sign(body, secret) for secret in secrets),
        "X-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Webhook-Subscription": "PSUBFAKE",
    }


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass
class FakePagerDuty:
    """Answers like PagerDuty, keeps its incidents and their log, and can describe them as webhooks."""

    received: list[Received] = field(default_factory=list)
    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The account's log entries, oldest first: what GET /log_entries pages through.
    log: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    # Paths whose first call waits for ``release`` (after setting ``held``).
    hold_first: set[str] = field(default_factory=set)
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    # Paths answered with a 500, as during an outage.
    failing: set[str] = field(default_factory=set)

    def calls(self, method: str, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.method == method and r.path == path]

    def _error(self, status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
        return status, {"error": {"code": code, "message": message, "errors": []}}

    def answer(self, call: Received) -> tuple[int, dict[str, Any]]:
        with self.lock:
            first = call.path in self.hold_first and not any(r.path == call.path for r in self.received)
        if first:
            self.held.set()
            self.release.wait(timeout=60)
        with self.lock:
            self.received.append(call)
            if call.path in self.failing:
                return 500, {"error": {"code": 2000, "message": "Internal Server Error", "errors": []}}
            if call.path == "/log_entries":
                return 200, self._log_entries(call.query)
            if call.path == "/v2/enqueue":
                return 202, {
                    "status": "success",
                    "message": "Event processed",
                    "dedup_key": call.body["dedup_key"],
                }
            if call.path == "/priorities":
                return 200, {"priorities": PRIORITIES, "more": False}
            if call.path == "/incidents" and call.method == "GET":
                key = call.query.get("incident_key", [""])[0]
                found = [i for i in self.incidents.values() if i["incident_key"] == key]
                return 200, {"incidents": found, "more": False}
            if call.path == "/incidents" and call.method == "POST":
                return self._create(call.body["incident"])
            parts = call.path.strip("/").split("/")
            incident = self.incidents.get(parts[1]) if len(parts) >= 2 else None
            if incident is None:
                return self._error(404, 2100, "Not Found")
            if len(parts) == 3 and parts[2] == "notes":
                return 201, {"note": {"id": f"PNOTE{len(self.received)}", **call.body["note"]}}
            if call.method == "GET":
                return 200, {"incident": copy.deepcopy(incident)}
            return self._update(incident, call.body["incident"])

    def _log_entries(self, query: dict[str, list[str]]) -> dict[str, Any]:
        since, until = _time(query["since"][0]), _time(query["until"][0])
        offset, limit = int(query.get("offset", ["0"])[0]), int(query.get("limit", ["25"])[0])
        expand = "incidents" in query.get("include[]", [])
        window = [e for e in self.log if since <= _time(e["created_at"]) < until]
        page = []
        for entry in window[offset : offset + limit]:
            entry = copy.deepcopy(entry)
            if expand:
                entry["incident"] = copy.deepcopy(self.incidents[entry["incident"]["id"]])
            page.append(entry)
        return {"log_entries": page, "offset": offset, "limit": limit, "more": offset + limit < len(window)}

    def _record(self, incident: dict[str, Any], kind: str, agent: str | None = "Relay") -> None:
        """A log entry for a change to an incident, like PagerDuty writes one for every change."""
        at = _now()
        incident["updated_at"] = at
        who = {"id": "PUSR001", "type": "user_reference", "summary": agent} if agent else None
        if kind in ("trigger", "acknowledge", "resolve"):
            incident["last_status_change_at"] = at
            incident["last_status_change_by"] = who
        self.log.append(
            {
                "id": f"PLOG{len(self.log) + 1}",
                "type": f"{kind}_log_entry",
                "created_at": at,
                "agent": who,
                "incident": {"id": incident["id"], "type": "incident_reference"},
            }
        )

    def change_behind_relay(self, incident_id: str, agent: str = "Dana Okafor", **fields: Any) -> None:
        """Someone changes the incident in PagerDuty, and no webhook reaches Relay."""
        with self.lock:
            incident = self.incidents[incident_id]
            if "priority" in fields:
                name = fields.pop("priority")
                priority = next(p for p in PRIORITIES if p["name"] == name)
                incident["priority"] = {"id": priority["id"], "type": "priority_reference", "summary": name}
                self._record(incident, "priority_change", agent)
            if "status" in fields:
                incident["status"] = fields.pop("status")
                kind = {"acknowledged": "acknowledge", "resolved": "resolve"}.get(
                    incident["status"], "trigger"
                )
                self._record(incident, kind, agent)
            assert not fields, f"the fake does not change {sorted(fields)}"

    def _create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        key = body.get("incident_key")
        if any(i["incident_key"] == key and i["status"] != "resolved" for i in self.incidents.values()):
            status, error = self._error(400, 2001, "Invalid Input Provided")
            error["error"]["errors"] = [
                "Open incident with matching dedup key already exists on this service"
            ]
            return status, error
        number = len(self.incidents) + 1
        incident_id = f"PFAKE{number}"
        priority = next((p for p in PRIORITIES if p["id"] == (body.get("priority") or {}).get("id")), None)
        self.incidents[incident_id] = {
            "id": incident_id,
            "type": "incident",
            "number": number,
            "title": body["title"],
            "status": "triggered",
            "incident_key": key,
            "urgency": body.get("urgency", "high"),
            "html_url": f"https://fake.pagerduty.test/incidents/{incident_id}",
            "service": {"id": body["service"]["id"], "type": "service_reference", "summary": "Fake service"},
            "priority": {"id": priority["id"], "type": "priority_reference", "summary": priority["name"]}
            if priority
            else None,
            "assignees": [a["assignee"] for a in body.get("assignments", [])],
            "created_at": _now(),
        }
        self._record(self.incidents[incident_id], "trigger")
        return 201, {"incident": self.incidents[incident_id]}

    def _update(self, incident: dict[str, Any], change: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status = change.get("status")
        if status and incident["status"] == "resolved":
            return self._error(400, 1001, "Incident Already Resolved")
        if status == "acknowledged" and incident["status"] == "acknowledged":
            return self._error(400, 1002, "Incident Already Acknowledged")
        if status:
            incident["status"] = status
            self._record(incident, {"acknowledged": "acknowledge", "resolved": "resolve"}[status])
        if change.get("priority"):
            priority = next(p for p in PRIORITIES if p["id"] == change["priority"]["id"])
            incident["priority"] = {
                "id": priority["id"],
                "type": "priority_reference",
                "summary": priority["name"],
            }
            self._record(incident, "priority_change")
        if change.get("assignments"):
            incident["assignees"] = [a["assignee"] for a in change["assignments"]]
            self._record(incident, "assign")
        return 200, {"incident": incident}

    def add_incident(self, incident_id: str, incident_key: str, title: str) -> dict[str, Any]:
        """An incident that started in PagerDuty (e.g. from an Events API trigger)."""
        with self.lock:
            incident: dict[str, Any] = copy.deepcopy(fixture("incident.triggered")["event"]["data"])
            incident.update(id=incident_id, incident_key=incident_key, title=title)
            self.incidents[incident_id] = incident
            self._record(incident, "trigger", agent=None)
            return incident

    def webhook(self, event_type: str, incident_id: str, agent: str | None = "Dana Okafor") -> dict[str, Any]:
        """The Webhooks V3 envelope PagerDuty sends for ``event_type`` on one of its incidents."""
        with self.lock:
            incident = copy.deepcopy(self.incidents[incident_id])
        return {
            "event": {
                "id": str(uuid.uuid4()),
                "event_type": event_type,
                "resource_type": "incident",
                "occurred_at": "2026-11-20T09:36:41.002Z",
                "agent": {"id": "PUSR001", "type": "user_reference", "summary": agent} if agent else None,
                "client": None,
                "data": incident,
            }
        }


@contextmanager
def fake_pagerduty() -> Iterator[FakePagerDuty]:
    fake = FakePagerDuty()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("content-length", 0))
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            call = Received(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=json.loads(raw) if raw else None,
            )
            status, answer = fake.answer(call)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _handle

        def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.release.set()
        server.shutdown()
        server.server_close()
