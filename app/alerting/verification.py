"""Secrets and signatures, in and out. Pure functions: the caller passes the time.

The recipe, the same both ways: ``X-Relay-Timestamp`` is the Unix time in seconds, and
``X-Relay-Signature`` is ``v1=`` followed by the lowercase hex HMAC-SHA256, keyed with the secret's UTF-8
bytes, of ``{timestamp}.`` followed by the raw body. Several ``v1=`` values may be given, comma-separated.
A timestamp more than five minutes from now is refused, so a captured request cannot be replayed later.
"""

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime

TIMESTAMP_HEADER = "X-Relay-Timestamp"
SIGNATURE_HEADER = "X-Relay-Signature"
EVENT_ID_HEADER = "X-Relay-Event-Id"
EVENT_TYPE_HEADER = "X-Relay-Event-Type"
TOLERANCE_SECONDS = 300
SCHEME = "v1="


def new_secret(prefix: str) -> str:
    """A random secret, shown once to whoever creates it."""
    return prefix + secrets.token_urlsafe(32)


def new_key() -> str:
    """A random integration key, the part of the URL that names the integration."""
    return secrets.token_hex(16)


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Relay-Signature`` value for a body sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return SCHEME + digest


def signed_headers(secret: str, body: bytes, now: datetime) -> dict[str, str]:
    """The timestamp and signature headers for a body sent now."""
    timestamp = int(now.timestamp())
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, timestamp, body)}


def check_signature(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> str | None:
    """Why a signed request must be refused, or None when its signature holds."""
    timestamp = headers.get(TIMESTAMP_HEADER.lower()) or headers.get(TIMESTAMP_HEADER)
    given = headers.get(SIGNATURE_HEADER.lower()) or headers.get(SIGNATURE_HEADER)
    if not timestamp or not given:
        return f"{SIGNATURE_HEADER} and {TIMESTAMP_HEADER} are both needed"
    if not timestamp.isdigit():
        return f"{TIMESTAMP_HEADER} must be a Unix time in seconds"
    if abs(now.timestamp() - int(timestamp)) > TOLERANCE_SECONDS:
        return f"{TIMESTAMP_HEADER} is more than {TOLERANCE_SECONDS} seconds from Relay's clock"
    expected = signature(secret, timestamp, body)
    candidates = [part.strip() for part in given.split(",") if part.strip().startswith(SCHEME)]
    # Compare against every candidate, so that timing does not reveal which one came close.
    matches = [hmac.compare_digest(expected.encode(), c.encode()) for c in candidates]
    if not any(matches):
        return f"{SIGNATURE_HEADER} does not match the body"
    return None


def check_bearer(secret: str, authorization: str | None) -> str | None:
    """Why a bearer-authenticated request must be refused, or None when the secret matches."""
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return "send the integration's secret as 'Authorization: Bearer <secret>', or sign the body"
    if not hmac.compare_digest(presented.strip().encode(), secret.encode()):
        return "the bearer secret does not match this integration"
    return None


def authenticate(*, secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> str | None:
    """Accept a signature when one is sent, otherwise the bearer secret; the reason for a refusal."""
    if headers.get(SIGNATURE_HEADER.lower()) or headers.get(SIGNATURE_HEADER):
        return check_signature(secret, headers, body, now)
    return check_bearer(secret, headers.get("authorization"))
