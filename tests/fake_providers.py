"""A local stand-in for Slack's Web API that records what it receives and keeps the messages it was sent."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class FakeSlack:
    """Answers like Slack on success; can hold the first call to a method until released."""

    hold_first: set[str] = field(default_factory=set)
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    # users.info answers: Slack user id -> profile.
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    # conversations.history answers, one page each, served in turn.
    history: list[dict[str, Any]] = field(default_factory=list)
    # Messages posted, by (channel, ts): read back by conversations.history with latest=ts.
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    channels: int = 0

    def methods(self) -> list[str]:
        """The methods called, in the order they arrived."""
        with self.lock:
            return [name for name, _ in self.received]

    def calls(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [body for name, body in self.received if name == method]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self.lock:
            return self.messages.get((channel, ts))

    def edit(self, channel: str, ts: str, text: str) -> None:
        """Someone changes a message in Slack, behind Relay's back."""
        with self.lock:
            self.messages[(channel, ts)].update(text=text, blocks=[], edited={"user": "U0SOMEONE", "ts": "1"})

    def delete(self, channel: str, ts: str) -> None:
        with self.lock:
            del self.messages[(channel, ts)]

    def _one_message(self, body: dict[str, Any]) -> dict[str, Any]:
        found = self.messages.get((str(body.get("channel")), str(body.get("latest"))))
        return {"ok": True, "messages": [dict(found)] if found else [], "has_more": False}

    def answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.received.append((method, body))
            position = len(self.received)
            first = sum(1 for name, _ in self.received if name == method) == 1
        if first and method in self.hold_first:
            self.held.set()
            self.release.wait(timeout=60)
        if method == "conversations.create":
            with self.lock:
                self.channels += 1
                channel = "C0FAKE" if self.channels == 1 else f"C0FAKE{self.channels}"
            return {"ok": True, "channel": {"id": channel, "name": body.get("name")}}
        if method == "chat.postMessage":
            # The ts names the call's place among all calls, so tests can tell which post a pin was for.
            ts = f"1700000000.{position:06d}"
            with self.lock:
                self.messages[(str(body.get("channel")), ts)] = {
                    "type": "message",
                    "ts": ts,
                    "text": body.get("text"),
                    "blocks": body.get("blocks") or [],
                }
            return {"ok": True, "channel": body.get("channel"), "ts": ts}
        if method == "chat.update":
            with self.lock:
                stored = self.messages.get((str(body.get("channel")), str(body.get("ts"))))
                if stored is not None:
                    stored.update(text=body.get("text"), blocks=body.get("blocks") or [])
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")}
        if method == "pins.add":
            with self.lock:
                stored = self.messages.get((str(body.get("channel")), str(body.get("timestamp"))))
                if stored is not None:
                    stored["pinned_to"] = [body.get("channel")]
            return {"ok": True}
        if method == "users.info":
            user = str(body.get("user"))
            return {"ok": True, "user": {"id": user, "profile": self.profiles.get(user, {})}}
        if method == "auth.test":
            return {"ok": True, "user_id": "U0FAKEBOT", "bot_id": "B0FAKEBOT"}
        if method == "conversations.history" and body.get("latest"):
            with self.lock:
                return self._one_message(body)
        if method == "conversations.history":
            with self.lock:
                page = self.history.pop(0) if self.history else {"messages": []}
            return {"ok": True, **page}
        if method == "conversations.replies":
            return {"ok": True, "messages": [], "response_metadata": {"next_cursor": ""}}
        return {"ok": True}


@contextmanager
def fake_slack(hold_first: set[str] | None = None) -> Iterator[FakeSlack]:
    fake = FakeSlack(hold_first=hold_first or set())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            raw = self.rfile.read(length)
            if self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                body = dict(parse_qsl(raw.decode()))  # Slack's read methods take form fields
            else:
                body = json.loads(raw or b"{}")
            method = self.path.rsplit("/", 1)[-1]
            payload = json.dumps(fake.answer(method, body)).encode()
            try:
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the caller was killed while we held its request

        def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/api"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.release.set()
        server.shutdown()
        server.server_close()
