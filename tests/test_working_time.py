"""The working calendar and the clock's deadlines: pure arithmetic, no database."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from app.comms import cadence
from app.comms.working_time import WorkingCalendar
from app.config import CalendarSettings, PolicySettings, Settings
from app.incidents.models import Incident

THANKSGIVING = date(2026, 11, 26)  # a Thursday


def settings(**calendar: Any) -> Settings:
    return Settings(calendar=CalendarSettings(**calendar), _env_file=None)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def office(**calendar: Any) -> WorkingCalendar:
    return WorkingCalendar.from_settings(settings(**calendar))


def test_defaults_are_weekdays_nine_to_five_in_the_service_zone() -> None:
    cal = WorkingCalendar.from_settings(Settings(timezone="Europe/Paris", _env_file=None))
    assert cal.zone == ZoneInfo("Europe/Paris")
    assert cal.working_days == frozenset(range(5))
    assert (cal.start_minute, cal.end_minute) == (9 * 60, 17 * 60)


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (utc(2026, 11, 23, 10, 0), 2, utc(2026, 11, 23, 12, 0)),  # inside one day
        (utc(2026, 11, 23, 16, 0), 2, utc(2026, 11, 24, 10, 0)),  # over the evening
        (utc(2026, 11, 27, 16, 0), 2, utc(2026, 11, 30, 10, 0)),  # Friday to Monday
        (utc(2026, 11, 28, 12, 0), 1, utc(2026, 11, 30, 10, 0)),  # from a Saturday
        (utc(2026, 11, 23, 7, 0), 8, utc(2026, 11, 23, 17, 0)),  # from before the day starts
        (utc(2026, 11, 23, 12, 5), 48, utc(2026, 12, 1, 12, 5)),  # 48 h = six working days + a weekend
    ],
)
def test_adding_working_hours(start: datetime, hours: int, expected: datetime) -> None:
    cal = office()
    assert cal.add(start, timedelta(hours=hours)) == expected
    assert cal.between(start, expected) == timedelta(hours=hours)


def test_a_holiday_is_skipped_like_a_weekend() -> None:
    cal = office(holidays=[THANKSGIVING])
    start = utc(2026, 11, 23, 12, 5)
    assert cal.add(start, timedelta(hours=48)) == utc(2026, 12, 2, 12, 5)
    assert cal.between(utc(2026, 11, 25, 17, 0), utc(2026, 11, 27, 9, 0)) == timedelta()
    assert not cal.is_working_time(utc(2026, 11, 26, 11, 0))
    assert cal.is_working_time(utc(2026, 11, 27, 11, 0))


def test_working_days_after_skip_weekends_and_holidays() -> None:
    cal = office(holidays=[THANKSGIVING])
    wednesday = date(2026, 11, 25)
    assert cal.working_day_after(wednesday) == date(2026, 11, 27)
    assert cal.working_day_after(wednesday, 2) == date(2026, 11, 30)


def test_a_whole_day_calendar_counts_48_hours_as_two_working_days() -> None:
    cal = office(hours="00:00-24:00")
    assert cal.add(utc(2026, 11, 27, 12, 0), timedelta(hours=48)) == utc(2026, 12, 1, 12, 0)


def test_hours_follow_the_local_clock_across_a_daylight_saving_change() -> None:
    cal = office(timezone="Europe/Berlin")
    friday_4pm = datetime(2026, 3, 27, 16, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    monday = cal.add(friday_4pm, timedelta(hours=2))
    assert monday.astimezone(ZoneInfo("Europe/Berlin")).replace(tzinfo=None) == datetime(2026, 3, 30, 10, 0)
    assert monday == utc(2026, 3, 30, 8, 0)  # summer time: UTC+2 after the weekend, UTC+1 before


def test_custom_working_days() -> None:
    cal = office(working_days="sun,mon,tue,wed,thu")
    assert cal.add(utc(2026, 11, 26, 16, 0), timedelta(hours=2)) == utc(2026, 11, 29, 10, 0)


@pytest.mark.parametrize(
    "calendar",
    [
        {"hours": "17:00-09:00"},
        {"hours": "9-5"},
        {"working_days": "mon,funday"},
        {"timezone": "Mars/Olympus"},
    ],
)
def test_a_bad_calendar_is_refused_at_start(calendar: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        CalendarSettings(**calendar)


def test_one_severity_rule_can_change_and_the_others_keep_their_defaults() -> None:
    policy = PolicySettings.model_validate({"sev3": '{"external_update_minutes": 480}'})
    assert policy.sev3.external_update_minutes == 480
    assert policy.sev3.retrospective_working_days == 2
    assert policy.sev1.retrospective_working_days == 1
    assert policy.for_severity("SEV1").internal_update_minutes == 30


def incident(severity: str, status: str = "resolved", **times: Any) -> Incident:
    return Incident(
        number=1,
        title="t",
        service="s",
        functionality="f",
        state="down",
        audience="all",
        severity=severity,
        priority="P1",
        status=status,
        channel_name="c",
        declared_at=times.pop("declared_at", utc(2026, 11, 27, 9, 0)),
        updated_at=utc(2026, 11, 27, 9, 0),
        **times,
    )


def test_retrospective_deadline_sev1_next_working_day_others_two() -> None:
    resolved = utc(2026, 11, 27, 15, 0)  # a Friday
    s = settings()
    assert cadence.retrospective_deadline(incident("SEV1", resolved_at=resolved), s) == utc(2026, 11, 30, 17)
    assert cadence.retrospective_deadline(incident("SEV3", resolved_at=resolved), s) == utc(2026, 12, 1, 17)


def test_retrospective_deadline_is_never_later_than_a_week() -> None:
    resolved = utc(2026, 11, 27, 15, 0)
    closed_week = [date(2026, 11, 30) + timedelta(days=n) for n in range(5)]
    deadline = cadence.retrospective_deadline(
        incident("SEV3", resolved_at=resolved), settings(holidays=closed_week)
    )
    assert deadline == resolved + timedelta(days=7)


def test_the_proposed_retrospective_lies_inside_the_deadline() -> None:
    deadline = utc(2026, 11, 30, 17, 0)
    slot = cadence.proposed_retrospective(deadline, settings())
    assert slot == utc(2026, 11, 30, 10, 0)
    assert slot < deadline


def test_update_due_times_follow_the_last_update_and_stop_after_mitigation() -> None:
    s = settings()
    open_incident = incident("SEV1", status="investigating", declared_at=utc(2026, 11, 23, 9, 0))
    assert cadence.next_update_due(open_incident, "internal", s) == utc(2026, 11, 23, 9, 30)
    assert cadence.next_update_due(open_incident, "external", s) == utc(2026, 11, 23, 11, 0)
    open_incident.last_internal_update_at = utc(2026, 11, 23, 9, 20)
    assert cadence.next_update_due(open_incident, "internal", s) == utc(2026, 11, 23, 9, 50)
    overdue = cadence.overdue_update(open_incident, "internal", utc(2026, 11, 23, 10, 25), s)
    assert overdue is not None
    assert (overdue.due_at, overdue.period) == (utc(2026, 11, 23, 9, 50), 1)
    open_incident.status = "mitigated"
    assert cadence.next_update_due(open_incident, "internal", s) is None
