"""The one source of time, so that tests move time instead of sleeping."""

from datetime import UTC, datetime, timedelta, tzinfo


class Clock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


clock: Clock = Clock()


def now() -> datetime:
    """The current time from the installed clock."""
    return clock.now()


def install(new_clock: Clock) -> None:
    """Replace the process clock (tests)."""
    global clock
    clock = new_clock


def aware(value: datetime, zone: tzinfo) -> datetime:
    """A time a person typed: one without an offset is read in the team's zone."""
    return value if value.tzinfo else value.replace(tzinfo=zone)
