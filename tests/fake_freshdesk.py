"""A local stand-in for Freshdesk's API v2 that keeps tickets and records what it is asked to change."""

import base64
import copy
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "freshdesk"
API_KEY = "fd-test-key"
RATE_LIMIT_TOTAL = 400
_TICKET = re.compile(r"^/api/v2/tickets/(\d+)(/reply|/notes|/conversations)?$")


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def make_ticket(
    ticket_id: int,
    *,
    subject: str = "Cannot log in to my account",
    incident: str | None = None,
    tags: tuple[str, ...] = ("incident", "login"),
    requester: str = "Ana Silva",
    updated_at: str = "2026-11-20T09:48:40Z",
) -> dict[str, Any]:
    """A ticket as ``GET /tickets/{id}?include=requester`` returns it, built on the shared sample."""
    ticket = fixture("ticket.30571.json")
    requester_id = 80000 + ticket_id % 1000
    email = f"{requester.split()[0].lower()}@customer.example"
    ticket.update(
        id=ticket_id,
        subject=subject,
        tags=list(tags),
        custom_fields={"cf_relay_incident": incident},
        requester_id=requester_id,
        updated_at=updated_at,
        requester={"id": requester_id, "name": requester, "email": email},
    )
    return ticket


@dataclass
class Call:
    method: str
    ticket_id: int
    kind: str  # "ticket", "reply", "notes", "conversations"
    body: dict[str, Any] | None


@dataclass
class FakeFreshdesk:
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    conversations: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # Fields Freshdesk insists on before closing, per ticket (its "fields required on closure").
    required_on_close: dict[int, str] = field(default_factory=dict)
    received: list[Call] = field(default_factory=list)
    # What ``include=stats`` adds: when the requester and the agents last wrote, per ticket.
    stats: dict[int, dict[str, str | None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    _next_id: int = 9000

    def add_ticket(self, ticket: dict[str, Any]) -> None:
        with self.lock:
            self.tickets[ticket["id"]] = ticket
            self.conversations.setdefault(ticket["id"], [])
            self.stats.setdefault(ticket["id"], {"requester_responded_at": None, "agent_responded_at": None})

    def reopen(self, ticket_id: int, status: int = 2) -> None:
        """An agent sets the ticket back to Open in Freshdesk; no webhook reaches Relay."""
        with self.lock:
            ticket = self.tickets[ticket_id]
            ticket["status"] = status
            self._touch(ticket)

    def list_calls(self) -> int:
        with self.lock:
            return sum(1 for call in self.received if call.kind == "list")

    def changes(self, ticket_id: int) -> list[tuple[str, Any]]:
        """What Relay did to one ticket, in order: replies, notes and field updates."""
        with self.lock:
            calls = [c for c in self.received if c.ticket_id == ticket_id and c.method != "GET"]
        out: list[tuple[str, Any]] = []
        for call in calls:
            body = call.body or {}
            if call.kind == "reply":
                out.append(("reply", body["body"]))
            elif call.kind == "notes":
                out.append(("private note" if body.get("private", True) else "public note", body["body"]))
            else:
                out.append(("update", body))
        return out

    def customer_replies(self, ticket_id: int, text: str) -> None:
        """The requester answers by email: an incoming conversation, and the ticket's version moves on."""
        with self.lock:
            ticket = self.tickets[ticket_id]
            self._conversation(ticket, text, incoming=True, user_id=ticket["requester_id"])
            self._touch(ticket)
            self.stats.setdefault(ticket_id, {})["requester_responded_at"] = ticket["updated_at"]

    def _touch(self, ticket: dict[str, Any]) -> None:
        # Freshdesk's updated_at has one-second resolution; keep versions distinct and increasing.
        previous = datetime.fromisoformat(ticket["updated_at"].replace("Z", "+00:00"))
        now = datetime.now(UTC).replace(microsecond=0)
        ticket["updated_at"] = max(now, previous + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _conversation(self, ticket: dict[str, Any], body: str, *, incoming: bool, user_id: int) -> int:
        self._next_id += 1
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.conversations[ticket["id"]].append(
            {
                "id": self._next_id,
                "body": body,
                "body_text": re.sub(r"<[^>]+>", " ", body).strip(),
                "incoming": incoming,
                "private": False,
                "user_id": user_id,
                "source": 0,
                "ticket_id": ticket["id"],
                "created_at": created,
                "updated_at": created,
            }
        )
        return self._next_id

    def _with_stats(self, ticket: dict[str, Any], query: dict[str, list[str]]) -> dict[str, Any]:
        shown = copy.deepcopy(ticket)
        if "stats" in query.get("include", [""])[0].split(","):
            shown["stats"] = dict(self.stats.get(ticket["id"], {}))
        return shown

    def _list(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        """``GET /tickets?updated_since=…&order_by=updated_at&order_type=asc&page=…&per_page=…``."""
        since = datetime.fromisoformat(query["updated_since"][0].replace("Z", "+00:00"))
        page, per_page = int(query.get("page", ["1"])[0]), int(query.get("per_page", ["30"])[0])
        updated = [
            t
            for t in self.tickets.values()
            if datetime.fromisoformat(t["updated_at"].replace("Z", "+00:00")) >= since
        ]
        updated.sort(key=lambda t: (t["updated_at"], t["id"]))
        return [self._with_stats(t, query) for t in updated[(page - 1) * per_page : page * per_page]]

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        if path == "/api/v2/tickets" and method == "GET":
            with self.lock:
                self.received.append(Call(method, 0, "list", None))
                return 200, self._list(query)
        match = _TICKET.match(path)
        if match is None:
            return 404, {"code": "not_found"}
        ticket_id, suffix = int(match.group(1)), (match.group(2) or "/ticket").lstrip("/")
        with self.lock:
            self.received.append(Call(method, ticket_id, suffix, body if isinstance(body, dict) else None))
            ticket = self.tickets.get(ticket_id)
            if ticket is None:
                return 404, {}
            if suffix == "conversations":
                page = int(query.get("page", ["1"])[0])
                per_page = int(query.get("per_page", ["30"])[0])
                items = self.conversations[ticket_id][(page - 1) * per_page : page * per_page]
                return 200, copy.deepcopy(items)
            if suffix in ("reply", "notes"):
                conversation_id = self._conversation(ticket, body["body"], incoming=False, user_id=1)
                self._touch(ticket)
                if suffix == "reply":
                    self.stats.setdefault(ticket_id, {})["agent_responded_at"] = ticket["updated_at"]
                return 201, {"id": conversation_id, "ticket_id": ticket_id, **body}
            if method == "PUT":
                missing = self.required_on_close.get(ticket_id)
                if missing and body.get("status") in (4, 5):
                    error = {"field": missing, "message": "It should not be blank", "code": "invalid_value"}
                    return 400, {"description": "Validation failed", "errors": [error]}
                ticket.update(body)
                self._touch(ticket)
            return 200, self._with_stats(ticket, query)


@contextmanager
def fake_freshdesk() -> Iterator[FakeFreshdesk]:
    fake = FakeFreshdesk()
    expected_auth = "Basic " + base64.b64encode(f"{API_KEY}:X".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("content-length", 0))
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            if self.headers.get("authorization") != expected_auth:
                status, answer = 401, {"code": "invalid_credentials"}
            else:
                status, answer = fake.answer(
                    self.command, parts.path, parse_qs(parts.query), json.loads(raw) if raw else None
                )
            payload = json.dumps(answer).encode()
            with fake.lock:
                remaining = max(0, RATE_LIMIT_TOTAL - len(fake.received))
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.send_header("x-ratelimit-total", str(RATE_LIMIT_TOTAL))
            self.send_header("x-ratelimit-remaining", str(remaining))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _serve

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
        server.shutdown()
        server.server_close()
