"""What Relay reads from a Freshdesk ticket, and the settings that say how."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from app.config import FreshdeskSettings, Settings
from app.integrations.freshdesk.mapping import customer_replies, ticket_facts
from app.integrations.freshdesk.messages import TicketContext, as_html, render
from tests.fake_freshdesk import fixture, make_ticket


def test_the_shared_sample_ticket_is_marked_by_its_tag_and_names_no_incident() -> None:
    facts = ticket_facts(fixture("ticket.30571.json"), FreshdeskSettings(url="https://acme.freshdesk.com/"))
    assert facts.ticket_id == 30571
    assert facts.marked
    assert facts.reference is None
    assert facts.updated_at == datetime(2026, 11, 20, 9, 48, 40, tzinfo=UTC)
    assert facts.url == "https://acme.freshdesk.com/a/tickets/30571"


@pytest.mark.parametrize(
    ("fields", "tags", "marked", "reference"),
    [
        ({"cf_relay_incident": " inc-0042 "}, [], True, "INC-42"),
        ({"cf_relay_incident": "see INC-7 and INC-8"}, [], True, "INC-7"),
        ({"cf_relay_incident": "yes"}, [], True, None),
        ({"cf_outage": True}, [], True, None),
        ({"cf_outage": "false"}, [], False, None),
        ({}, ["Outage"], True, None),
        ({}, ["billing"], False, None),
    ],
)
def test_incident_field_tags_and_marker_field(
    fields: dict[str, object], tags: list[str], marked: bool, reference: str | None
) -> None:
    settings = FreshdeskSettings(incident_tags="incident, OUTAGE", incident_marker_field="cf_outage")
    ticket = {**make_ticket(5, tags=tuple(tags)), "custom_fields": fields}
    facts = ticket_facts(ticket, settings)
    assert (facts.marked, facts.reference) == (marked, reference)


def test_only_public_incoming_messages_are_customer_replies() -> None:
    ticket = make_ticket(5)
    facts = ticket_facts(ticket, FreshdeskSettings())
    base = {"private": False, "created_at": "2026-11-20T10:00:00Z", "user_id": ticket["requester_id"]}
    conversations = [
        {
            **base,
            "id": 3,
            "incoming": True,
            "body": "<div>Second</div>",
            "created_at": "2026-11-20T11:00:00Z",
        },
        {**base, "id": 1, "incoming": True, "body_text": "First"},
        {**base, "id": 2, "incoming": False, "body_text": "Our reply"},
        {**base, "id": 4, "incoming": True, "private": True, "body_text": "Forwarded privately"},
        {
            **base,
            "id": 5,
            "incoming": True,
            "body_text": "From a colleague",
            "user_id": 1,
            "from_email": "bo@x.io",
        },
    ]
    replies = customer_replies(conversations, facts)
    assert [(r.conversation_id, r.text, r.author) for r in replies] == [
        (1, "First", "Ana Silva"),
        (5, "From a colleague", "bo@x.io"),
        (3, "Second", "Ana Silva"),
    ]


def test_templates_escape_what_they_are_given() -> None:
    values = TicketContext(name="<Ana>", context="A & B", link='https://r/"x"', reference="INC-1")
    assert (
        render("{name}|{context}|{link}|{reference}", values)
        == "&lt;Ana&gt;|A &amp; B|https://r/&quot;x&quot;|INC-1"
    )
    assert as_html("One <b>\nline\n\nTwo") == "<p>One &lt;b&gt;<br>line</p><p>Two</p>"


def test_settings_come_from_the_environment_and_bad_templates_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RELAY_FRESHDESK_WEBHOOK_SECRETS", "new-secret, old-secret")
    monkeypatch.setenv("RELAY_FRESHDESK_INCIDENT_TAGS", "Incident,outage")
    monkeypatch.setenv("RELAY_FRESHDESK_RATE_LIMIT_RESERVE", "0.3")
    settings = Settings(_env_file=None)
    assert [s.get_secret_value() for s in settings.freshdesk.webhook_secrets] == ["new-secret", "old-secret"]
    assert settings.freshdesk.incident_tags == ["incident", "outage"]
    assert settings.freshdesk.rate_limit_reserve == 0.3
    assert "new-secret" not in repr(settings)

    monkeypatch.setenv("RELAY_FRESHDESK_ACKNOWLEDGE_TEMPLATE", "<p>Hello {nme}</p>")
    with pytest.raises(ValidationError, match="unknown or broken placeholder 'nme'"):
        Settings(_env_file=None)
