"""Reading what people type after /incident."""

import pytest

from app.incidents.models import Role
from app.integrations.slack.commands import (
    Command,
    CommandError,
    Mention,
    parse,
    parse_declaration,
    parse_role,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Command("help")),
        ("note  INC-7   checking the IdP", Command("note", "checking the IdP", "INC-7")),
        ("note inc-7", Command("note", "", "INC-7")),
        ("Mitigate rolled back", Command("mitigated", "rolled back")),
        ("declare INC-3 is down for all", Command("declare", "INC-3 is down for all")),
        ("status", Command("status")),
    ],
)
def test_commands(text: str, expected: Command) -> None:
    assert parse(text) == expected


def test_an_unknown_verb_is_answered_with_help() -> None:
    with pytest.raises(CommandError, match="I don't know `page`"):
        parse("page everyone")


def test_the_one_line_declaration() -> None:
    line = parse_declaration("sev1 Login API is down for all users")
    assert (line.severity, line.functionality, line.state, line.audience) == (
        "SEV1",
        "Login API",
        "down",
        "all users",
    )
    assert line.title == "Login API is down for all users"
    assert line.affects_end_users
    assert line.service is None
    assert not line.force

    named = parse_declaration("--force SEV-3 search: Indexing is Degraded for the support team.")
    assert (named.service, named.state, named.audience, named.force) == (
        "search",
        "degraded",
        "the support team",
        True,
    )
    assert not named.affects_end_users


@pytest.mark.parametrize("args", ["", "sev1", "sev4 Login is down for all", "sev2 Login is broken for all"])
def test_a_declaration_that_does_not_fit_explains_the_form(args: str) -> None:
    with pytest.raises(CommandError, match="on one line"):
        parse_declaration(args)


def test_roles_take_aliases_and_escaped_mentions() -> None:
    assert parse_role("ic <@U0LEE|lee>") == (Role.commander, Mention("U0LEE", "lee"))
    assert parse_role("note taker <@W0KIM>") == (Role.note_taker, Mention("W0KIM", None))
    assert parse_role("tech-lead @sam") == (Role.tech_lead, Mention(None, "sam"))
    with pytest.raises(CommandError, match="not a role"):
        parse_role("captain <@U0LEE>")
    with pytest.raises(CommandError, match="Mention the person"):
        parse_role("commander lee")
