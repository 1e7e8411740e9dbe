"""What must never be stored or shown as sent: credentials in headers, bodies and URLs."""

from collections.abc import Mapping
from typing import Any

import httpx

REDACTED = "<redacted>"
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-relay-token"}
)
# Body fields that carry a credential (PagerDuty's Events API puts its routing key in the body).
SECRET_FIELDS = frozenset({"routing_key", "token", "password", "secret", "signing_secret", "api_key"})


def headers(values: Mapping[str, str], *, skip: frozenset[str] = frozenset()) -> dict[str, str]:
    """Headers with every credential masked, lower-cased, without those in ``skip``."""
    return {
        name.lower(): REDACTED if name.lower() in SECRET_HEADERS else value
        for name, value in values.items()
        if name.lower() not in skip
    }


def body(value: Any) -> Any:
    """A JSON-like body with every credential field masked, however deep."""
    if isinstance(value, dict):
        return {k: REDACTED if k in SECRET_FIELDS else body(v) for k, v in value.items()}
    if isinstance(value, list):
        return [body(v) for v in value]
    return value


def url(value: httpx.URL) -> str:
    """A URL without credentials: a subscriber's query string or user info may hold a token."""
    bare = value.copy_with(query=None, fragment=None, username=None, password=None)
    return f"{bare}?{REDACTED}" if value.query else str(bare)
