"""Staying inside a share of the Freshdesk account's API budget, which agents and other tools share."""

from collections.abc import Mapping
from datetime import datetime, timedelta

from app import clock
from app.integrations.errors import TransientError


def _number(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


class RateBudget:
    """Pauses this process's calls once the account's remaining calls fall below the reserve."""

    def __init__(self, *, reserve: float = 0.2, window_seconds: float = 60.0) -> None:
        self.reserve = reserve
        self.window = timedelta(seconds=window_seconds)
        self.paused_until: datetime | None = None

    def check(self) -> None:
        """Refuse to call while paused: the delivery waits for its next attempt instead."""
        if self.paused_until is None:
            return
        wait = (self.paused_until - clock.now()).total_seconds()
        if wait <= 0:
            self.paused_until = None
            return
        raise TransientError(
            f"holding back Freshdesk calls for {wait:.0f}s to keep "
            f"{self.reserve:.0%} of the account's API budget for others",
            retry_after=wait,
        )

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read X-RateLimit-Total/-Remaining; below the reserve, pause until the window has rolled over."""
        total = _number(headers, "x-ratelimit-total")
        remaining = _number(headers, "x-ratelimit-remaining")
        if not total or remaining is None:
            return
        if remaining < total * self.reserve:
            # The window's start is not reported: a full window from now is sure to have rolled over.
            self.pause(self.window.total_seconds())

    def pause(self, seconds: float) -> None:
        """Make no call for ``seconds`` (a 429's Retry-After, or the rest of the window)."""
        until = clock.now() + timedelta(seconds=seconds)
        if self.paused_until is None or until > self.paused_until:
            self.paused_until = until
