"""Helpers for the alerting tests: integrations, signed calls, and a local subscriber that records."""

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

Headers = dict[str, str]


async def make_integration(client: httpx.AsyncClient, admin: Headers, **overrides: Any) -> dict[str, Any]:
    body = {"name": "Prometheus EU", "service": "checkout-api", "severity": "SEV2", **overrides}
    response = await client.post("/api/v1/integrations", json=body, headers=admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def sign(secret: str, raw: bytes, timestamp: int | None = None) -> Headers:
    """The documented recipe, written out independently of Relay's code."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return {"X-Relay-Timestamp": ts, "X-Relay-Signature": f"v1={digest}", "Content-Type": "application/json"}


def bearer(secret: str) -> Headers:
    return {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}


async def post_event(
    client: httpx.AsyncClient,
    integration: dict[str, Any],
    body: Any,
    *,
    headers: Headers | None = None,
    path: str = "events",
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await client.post(
        f"/api/v1/integrations/{integration['key']}/{path}",
        content=raw,
        headers=headers if headers is not None else bearer(integration["secret"]),
    )


def trigger(dedup_key: str = "checkout-5xx", **payload: Any) -> dict[str, Any]:
    return {
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": "Checkout error rate above 5%",
            "source": "prometheus-eu-1",
            "severity": "critical",
            "component": "Checkout",
            **payload,
        },
        "links": [{"href": "https://grafana.example.com/d/checkout", "text": "Dashboard"}],
    }


@dataclass
class FakeSubscriber:
    """Answers with ``statuses`` in turn (then 200) and keeps every request's headers and raw body."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def answer(self, headers: dict[str, str], raw: bytes) -> int:
        with self.lock:
            self.received.append((headers, raw))
            return self.statuses.pop(0) if self.statuses else 200

    def events(self) -> list[tuple[dict[str, str], bytes]]:
        with self.lock:
            return list(self.received)


@contextmanager
def fake_subscriber(statuses: list[int] | None = None) -> Iterator[FakeSubscriber]:
    fake = FakeSubscriber(statuses=list(statuses or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", 0)))
            code = fake.answer({k.lower(): v for k, v in self.headers.items()}, raw)
            self.send_response(code)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/relay-events"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
