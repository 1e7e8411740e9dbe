"""Which differences reconciliation finds, and which way it settles each (pure functions)."""

from datetime import UTC, datetime

import pytest

from app.reconciliation.drift import (
    Finding,
    PagerDutyView,
    PagerDutyWant,
    Remedy,
    TicketView,
    TicketWant,
    pagerduty_findings,
    pagerduty_view,
    summary_findings,
    summary_fingerprint,
    ticket_findings,
)

RESOLVED_AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def pd(status: str, priority: str | None = "P2", assignees: tuple[str, ...] = ()) -> PagerDutyView:
    return PagerDutyView("PX", 7, status, priority, assignees, None, None)


@pytest.mark.parametrize(
    ("relay", "pagerduty", "expected"),
    [
        ("investigating", "resolved", [("status", "mitigated", Remedy.apply)]),
        ("declared", "resolved", [("status", "mitigated", Remedy.apply)]),
        ("declared", "acknowledged", [("status", "investigating", Remedy.apply)]),
        ("mitigated", "resolved", []),  # PagerDuty's resolve is Relay's mitigated
        ("resolved", "acknowledged", [("status", "resolved", Remedy.repair)]),
        ("cancelled", "triggered", [("status", "resolved", Remedy.repair)]),
        ("investigating", "triggered", [("status", "acknowledged", Remedy.repair)]),
        ("investigating", "acknowledged", []),
        ("declared", "triggered", []),
    ],
)
def test_pagerduty_status_is_applied_when_it_is_an_input_and_repaired_when_relay_owns_it(
    relay: str, pagerduty: str, expected: list[tuple[str, str, Remedy]]
) -> None:
    found = pagerduty_findings(PagerDutyWant(relay, "P2", None), pd(pagerduty))
    assert [(f.field, f.want, f.remedy) for f in found] == expected


def test_pagerduty_priority_and_commander_are_relay_s_while_the_page_is_open() -> None:
    want = PagerDutyWant("investigating", "P1", "PUSRCMD")
    assert pagerduty_findings(want, pd("acknowledged", "P3", ("PUSR9",))) == [
        Finding("priority", "P1", "P3", Remedy.repair),
        Finding("assignee", "PUSRCMD", ["PUSR9"], Remedy.repair),
    ]
    # Escalation reassigns a triggered page on purpose; an account without priorities has none.
    assert pagerduty_findings(want, pd("triggered", None, ("PUSR9",))) == [
        Finding("status", "acknowledged", "triggered", Remedy.repair)
    ]
    # Once it is over, neither matters.
    assert pagerduty_findings(PagerDutyWant("resolved", "P1", "PUSRCMD"), pd("resolved", "P3")) == []


def test_a_pagerduty_incident_reads_the_same_from_the_rest_api_and_from_a_webhook() -> None:
    rest = {
        "id": "PX",
        "incident_number": 7,
        "status": "acknowledged",
        "priority": {"id": "PPRI1", "summary": "P1"},
        "assignments": [{"at": "2026-11-20T10:00:00Z", "assignee": {"id": "PUSR1"}}],
        "last_status_change_at": "2026-11-20T10:01:00Z",
    }
    webhook = {"id": "PX", "number": 7, "status": "acknowledged", "priority": {"summary": "P1"}}
    webhook["assignees"] = [{"id": "PUSR1", "summary": "Dana"}]
    assert pagerduty_view(rest) == PagerDutyView(
        "PX", 7, "acknowledged", "P1", ("PUSR1",), "2026-11-20T10:01:00Z", None
    )
    assert pagerduty_view(webhook) == PagerDutyView("PX", 7, "acknowledged", "P1", ("PUSR1",), None, None)
    assert pagerduty_view({"id": "PX", "status": "snoozed"}) is None


def ticket(status: int, responder: int | None = None, replied: str | None = None) -> TicketView:
    return TicketView(30571, status, responder, "2026-11-20T11:00:00Z", replied)


def test_a_ticket_reopened_behind_relay_s_back_is_resolved_again_unless_the_customer_reopened_it() -> None:
    resolved = TicketWant("resolved", RESOLVED_AT, None)
    assert ticket_findings(resolved, ticket(2)) == [Finding("status", 4, 2, Remedy.repair)]
    assert ticket_findings(resolved, ticket(2, replied="2026-11-20T10:30:00Z")) == [
        Finding("status", 4, 2, Remedy.leave)
    ]
    # A reply from before the resolution is not what reopened it.
    assert ticket_findings(resolved, ticket(2, replied="2026-11-20T09:30:00Z"))[0].remedy is Remedy.repair
    assert ticket_findings(resolved, ticket(5)) == []  # closed is further along than resolved
    assert ticket_findings(TicketWant("closed", RESOLVED_AT, None), ticket(4)) == [
        Finding("status", 5, 4, Remedy.repair)
    ]
    assert ticket_findings(TicketWant("investigating", None, None), ticket(2)) == []


def test_a_ticket_belongs_to_the_liaison_until_the_incident_is_over() -> None:
    assert ticket_findings(TicketWant("investigating", None, 5001), ticket(2, responder=77)) == [
        Finding("responder_id", 5001, 77, Remedy.repair)
    ]
    assert ticket_findings(TicketWant("closed", RESOLVED_AT, 5001), ticket(5, responder=77)) == []


def test_a_summary_is_compared_by_what_it_says_not_by_what_slack_adds_to_its_blocks() -> None:
    sent = [{"type": "header", "text": {"type": "plain_text", "text": "INC-1: Login & SSO is down"}}]
    stored = [
        {
            "type": "header",
            "block_id": "aB3x",
            "text": {"type": "plain_text", "text": "INC-1: Login &amp; SSO is down", "emoji": True},
        }
    ]
    want = summary_fingerprint("INC-1: Login & SSO is down", sent)
    assert summary_findings(want, {"text": "INC-1: Login &amp; SSO is down", "blocks": stored}) == []
    edited = {"text": "INC-1: Login & SSO is down", "blocks": [{"type": "section", "text": "all fine"}]}
    assert [f.remedy for f in summary_findings(want, edited)] == [Remedy.repair]
    assert summary_findings(want, None) == [Finding("summary", "posted", "deleted", Remedy.repair)]
