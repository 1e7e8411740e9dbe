from datetime import UTC, datetime, timedelta

import pytest

from app.incidents.lifecycle import ActionItemState, TransitionFacts, missing_for
from app.incidents.models import IncidentStatus as S

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)


def facts(**overrides: object) -> TransitionFacts:
    values: dict[str, object] = {
        "durable_reason": None,
        "action_items": [],
        "report_completed_at": None,
        "customer_confirmed_at": None,
        "autoclose_at": None,
        "now": NOW,
    }
    values.update(overrides)
    return TransitionFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.declared, S.investigating),
        (S.declared, S.mitigated),
        (S.investigating, S.mitigated),
        (S.mitigated, S.investigating),
        (S.resolved, S.investigating),
    ],
)
def test_plain_moves_need_nothing(current: S, target: S) -> None:
    assert missing_for(current, target, facts()) == []


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.closed, S.investigating),
        (S.cancelled, S.declared),
        (S.mitigated, S.declared),
        (S.declared, S.closed),
    ],
)
def test_illegal_moves_say_what_is_allowed(current: S, target: S) -> None:
    (reason,) = missing_for(current, target, facts())
    assert f"cannot become {target}" in reason


def test_staying_put_is_refused() -> None:
    assert missing_for(S.mitigated, S.mitigated, facts()) == ["the incident is already mitigated"]


def test_resolve_needs_a_durable_resolution() -> None:
    (reason,) = missing_for(S.mitigated, S.resolved, facts())
    assert "durable_reason" in reason


def test_resolve_counts_open_durable_items() -> None:
    items = [ActionItemState(True, "done"), ActionItemState(True, "open"), ActionItemState(False, "open")]
    (reason,) = missing_for(S.mitigated, S.resolved, facts(action_items=items))
    assert reason.startswith("1 durable action item(s) still open")


def test_resolve_passes_when_durable_items_are_done_or_a_reason_is_recorded() -> None:
    done = [ActionItemState(True, "done"), ActionItemState(False, "open")]
    assert missing_for(S.mitigated, S.resolved, facts(action_items=done)) == []
    assert missing_for(S.mitigated, S.resolved, facts(durable_reason="rollback is the fix")) == []


def test_close_needs_report_and_confirmation() -> None:
    missing = missing_for(S.resolved, S.closed, facts())
    assert len(missing) == 2
    assert "report" in missing[0]
    assert "confirmation" in missing[1]


def test_close_accepts_the_auto_close_clock_once_it_has_run_out() -> None:
    waiting = facts(report_completed_at=NOW, autoclose_at=NOW + timedelta(hours=1))
    assert len(missing_for(S.resolved, S.closed, waiting)) == 1
    ran_out = facts(report_completed_at=NOW, autoclose_at=NOW - timedelta(seconds=1))
    assert missing_for(S.resolved, S.closed, ran_out) == []
    confirmed = facts(report_completed_at=NOW, customer_confirmed_at=NOW)
    assert missing_for(S.resolved, S.closed, confirmed) == []


def test_duplicate_and_cancel_need_their_detail() -> None:
    assert "duplicate_of" in missing_for(S.declared, S.duplicate, facts())[0]
    assert "reason" in missing_for(S.investigating, S.cancelled, facts())[0]
    assert missing_for(S.declared, S.duplicate, facts(duplicate_of="INC-1")) == []
