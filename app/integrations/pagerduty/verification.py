"""Webhooks V3 signatures: HMAC-SHA256 of the raw body, one ``v1=`` value per live secret. Pure."""

import hashlib
import hmac
from collections.abc import Sequence

SIGNATURE_HEADER = "X-PagerDuty-Signature"
VERSION_PREFIX = "v1="


class InvalidSignature(Exception):
    """The request does not prove it came from PagerDuty; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sign(body: bytes, secret: str) -> str:
    """The signature PagerDuty sends for ``body`` under ``secret``: ``v1=<lowercase hex>``."""
    return VERSION_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signatures(header: str | None) -> list[str]:
    """The ``v1`` signatures in a header; several are sent, comma-separated, while secrets rotate."""
    if not header:
        return []
    parts = (part.strip() for part in header.split(","))
    return [part.removeprefix(VERSION_PREFIX) for part in parts if part.startswith(VERSION_PREFIX)]


def verify(body: bytes, header: str | None, secrets: Sequence[str]) -> None:
    """Accept when any ``v1`` value in ``header`` is the HMAC of ``body`` under any of ``secrets``."""
    if not secrets:
        raise InvalidSignature("no webhook secret is configured (RELAY_PAGERDUTY_WEBHOOK_SECRETS)")
    if not header:
        raise InvalidSignature(f"the {SIGNATURE_HEADER} header is missing")
    offered = signatures(header)
    if not offered:
        raise InvalidSignature(f"the {SIGNATURE_HEADER} header has no v1 signature")
    expected = [sign(body, secret).removeprefix(VERSION_PREFIX) for secret in secrets]
    # Compare every pair in constant time, without stopping at the first match.
    matched = False
    for candidate in offered:
        for digest in expected:
            matched |= hmac.compare_digest(candidate.encode(), digest.encode())
    if not matched:
        raise InvalidSignature(f"no signature in {SIGNATURE_HEADER} matches a configured secret")
