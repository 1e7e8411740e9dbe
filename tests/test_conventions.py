from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.incidents import conventions
from app.incidents.durability import audit

UTC_ZONE = ZoneInfo("UTC")
WHEN = datetime(2022, 9, 5, 14, 30, tzinfo=UTC)


def test_channel_name_follows_the_convention() -> None:
    name = conventions.channel_name(WHEN, "Logging in", "down", "all users", UTC_ZONE)
    assert name == "inc-22-09-05-logging-in-down-all-users"


def test_channel_name_uses_the_teams_time_zone_for_the_date() -> None:
    late = datetime(2022, 9, 5, 23, 30, tzinfo=UTC)
    assert conventions.channel_name(late, "x", "down", "y", ZoneInfo("Asia/Tokyo")).startswith(
        "inc-22-09-06-"
    )


def test_channel_name_keeps_only_characters_slack_allows_and_fits_80() -> None:
    name = conventions.channel_name(WHEN, "Café Checkout / Pay!!", "degraded", "EU " * 40, UTC_ZONE)
    assert len(name) <= 80
    assert all(c.isascii() and (c.islower() or c.isdigit() or c in "-_") for c in name)
    assert "--" not in name
    assert not name.endswith("-")


def test_suffix_keeps_the_limit() -> None:
    base = "inc-" + "a" * 76
    assert conventions.with_suffix(base, 12).endswith("-12")
    assert len(conventions.with_suffix(base, 12)) == 80


def test_summary_line_follows_the_convention() -> None:
    line = conventions.summary_line(WHEN, "SEV1", "Logging in", "down", "all users", UTC_ZONE)
    assert line == "[inc-22-09-05-SEV-1] Logging in is down for all users"


@pytest.mark.parametrize(
    ("severity", "end_users", "expected"),
    [("SEV3", True, "P1"), ("SEV1", False, "P2"), ("SEV2", False, "P3"), ("SEV3", False, "P4")],
)
def test_priority_is_p1_whenever_end_users_are_affected(
    severity: str, end_users: bool, expected: str
) -> None:
    assert conventions.priority_for(severity, end_users) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Added a cron job to restart the pods every 15 minutes",
        "Disabled the session cache",
        "Manually scaled the database in the console",
        "Deployed a hotfix for the null pointer",
    ],
)
def test_durability_audit_flags_the_known_non_durable_mitigations(text: str) -> None:
    assert audit(text)


@pytest.mark.parametrize(
    "text", ["Rolled back the release and pinned the version in terraform", "Hotfix with a regression test"]
)
def test_durability_audit_lets_durable_changes_through(text: str) -> None:
    assert audit(text) == []
