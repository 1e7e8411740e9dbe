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
# Query parameters that carry a credential, e.g. a subscriber's https://hooks.example/in?token=…
SECRET_PARAMS = frozenset(
    {"token", "access_token", "api_key", "apikey", "key", "secret", "sig", "signature", "password", "code"}
)


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
    """A URL without credentials: user info and query values that name a secret are masked."""
    params = [
        (name, REDACTED if name.lower() in SECRET_PARAMS else v) for name, v in value.params.multi_items()
    ]
    bare = value.copy_with(username=None, password=None, fragment=None)
    return str(bare.copy_with(params=params) if params else bare)
