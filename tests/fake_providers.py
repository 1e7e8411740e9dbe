"""A local stand-in for Slack's Web API that records what it receives (for tests across processes)."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeSlack:
    """Answers like Slack on success; can hold the first call to a method until released."""

    hold_first: set[str] = field(default_factory=set)
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def calls(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [body for name, body in self.received if name == method]

    def answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.received.append((method, body))
            first = sum(1 for name, _ in self.received if name == method) == 1
        if first and method in self.hold_first:
            self.held.set()
            self.release.wait(timeout=60)
        if method == "conversations.create":
            return {"ok": True, "channel": {"id": "C0FAKE", "name": body.get("name")}}
        if method == "chat.postMessage":
            return {"ok": True, "channel": body.get("channel"), "ts": f"1700000000.{len(self.received):06d}"}
        return {"ok": True}


@contextmanager
def fake_slack(hold_first: set[str] | None = None) -> Iterator[FakeSlack]:
    fake = FakeSlack(hold_first=hold_first or set())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
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
