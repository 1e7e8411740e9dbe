"""Slack request signatures: v0 HMAC-SHA256 over ``v0:{timestamp}:{raw body}``, five-minute window."""

from collections.abc import Mapping
from dataclasses import dataclass

from slack_sdk.signature import Clock, SignatureVerifier

MAX_AGE_SECONDS = 300
TIMESTAMP_HEADER = "x-slack-request-timestamp"
SIGNATURE_HEADER = "x-slack-signature"


class _FixedClock(Clock):
    """Hands the verifier the caller's idea of now, so that tests and callers control time."""

    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


@dataclass(frozen=True)
class Refusal:
    """Why a request is not Slack's: the header at fault and what is wrong with it."""

    field: str
    reason: str


def refusal(secret: str | None, raw: bytes, headers: Mapping[str, str], *, now: float) -> Refusal | None:
    """Why a request must be refused, or None when Slack signed it within the last five minutes."""
    if not secret:
        return Refusal(
            "header.X-Slack-Signature",
            "RELAY_SLACK_SIGNING_SECRET is not set, so no Slack request can be verified",
        )
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER)
    signature = lowered.get(SIGNATURE_HEADER)
    if not timestamp:
        return Refusal("header.X-Slack-Request-Timestamp", "missing")
    if not signature:
        return Refusal("header.X-Slack-Signature", "missing")
    if not timestamp.isdigit():
        return Refusal("header.X-Slack-Request-Timestamp", "not a Unix time")
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return Refusal(
            "header.X-Slack-Request-Timestamp", "more than 5 minutes from now (a replay, or a skewed clock)"
        )
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal("body", "not UTF-8, so it cannot carry a valid signature")
    verifier = SignatureVerifier(secret, clock=_FixedClock(now))
    if not verifier.is_valid(raw, timestamp, signature):
        return Refusal("header.X-Slack-Signature", "does not match the body")
    return None


def sign(secret: str, raw: bytes, timestamp: int) -> dict[str, str]:
    """The headers Slack would send with ``raw`` at ``timestamp`` (tests, benchmarks, tools)."""
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=raw)
    assert signature is not None
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}
