"""Working-time arithmetic over a calendar of working days, hours and holidays. Pure, no I/O."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.config import WEEKDAYS, Settings

# A calendar with no working time left in this span is a configuration error, not a reason to loop forever.
SEARCH_DAYS = 3 * 366


@dataclass(frozen=True)
class WorkingCalendar:
    zone: ZoneInfo
    working_days: frozenset[int]  # 0 is Monday
    start_minute: int  # minutes after local midnight
    end_minute: int  # up to 24 * 60
    holidays: frozenset[date] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> "WorkingCalendar":
        """The team's calendar; its time zone defaults to the service's."""
        cal = settings.calendar
        start, end = (_minutes(part) for part in cal.hours.split("-"))
        return cls(
            zone=ZoneInfo(cal.timezone or settings.timezone),
            working_days=frozenset(WEEKDAYS.index(day) for day in cal.working_days),
            start_minute=start,
            end_minute=end,
            holidays=frozenset(cal.holidays),
        )

    def local_date(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self.holidays

    def hours_of(self, day: date) -> tuple[datetime, datetime]:
        """The working hours of ``day`` in UTC (whether or not it is a working day)."""
        return self._at(day, self.start_minute), self._at(day, self.end_minute)

    def _at(self, day: date, minute: int) -> datetime:
        local = datetime.combine(day + timedelta(days=minute // 1440), time(), tzinfo=self.zone)
        local = local.replace(hour=(minute % 1440) // 60, minute=minute % 60)
        return local.astimezone(UTC)

    def _working_spans(self, from_day: date) -> Iterator[tuple[datetime, datetime]]:
        for offset in range(SEARCH_DAYS):
            day = from_day + timedelta(days=offset)
            if self.is_working_day(day):
                yield self.hours_of(day)
        raise ValueError("the working calendar has no working time in the next three years")

    def is_working_time(self, at: datetime) -> bool:
        day = self.local_date(at)
        start, end = self.hours_of(day)
        return self.is_working_day(day) and start <= at < end

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The moment ``amount`` of working time after ``start``."""
        start = start.astimezone(UTC)
        remaining = amount
        # Start a day early: working hours that run past midnight belong to the previous local day.
        for span_start, span_end in self._working_spans(self.local_date(start) - timedelta(days=1)):
            if span_end <= start:
                continue
            begin = max(span_start, start)
            if begin + remaining <= span_end:
                return begin + remaining
            remaining -= span_end - begin
        raise AssertionError("unreachable")  # pragma: no cover

    def between(self, start: datetime, end: datetime) -> timedelta:
        """How much working time lies between two moments (zero when ``end`` is not after ``start``)."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        total = timedelta()
        if end <= start:
            return total
        for span_start, span_end in self._working_spans(self.local_date(start) - timedelta(days=1)):
            if span_start >= end:
                return total
            overlap = min(span_end, end) - max(span_start, start)
            if overlap > timedelta():
                total += overlap
        raise AssertionError("unreachable")  # pragma: no cover

    def working_day_after(self, day: date, n: int = 1) -> date:
        """The ``n``-th working day after ``day``."""
        found = 0
        for offset in range(1, SEARCH_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                found += 1
                if found == n:
                    return candidate
        raise ValueError("the working calendar has no working days in the next three years")

    def end_of_working_day(self, day: date) -> datetime:
        return self.hours_of(day)[1]


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)
