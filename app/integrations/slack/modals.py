"""The declare form (a Slack modal) and reading what was submitted. Pure, no I/O."""

import json
from typing import Any

from app.incidents.models import ImpactState, Severity

DECLARE_CALLBACK = "relay.declare"
MAX_OPTIONS = 100  # Slack's limit for a static select
FIELDS = (
    "service",
    "functionality",
    "state",
    "audience",
    "severity",
    "affects_end_users",
    "summary",
    "force",
)


def _text(value: str) -> dict[str, str]:
    return {"type": "plain_text", "text": value}


def _option(value: str, label: str | None = None) -> dict[str, Any]:
    return {"text": _text(label or value), "value": value}


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": _text(label),
        "optional": optional,
        "element": {**element, "action_id": "value"},
    }


def _select(options: list[dict[str, Any]], placeholder: str) -> dict[str, Any]:
    return {"type": "static_select", "placeholder": _text(placeholder), "options": options}


def declare_view(*, services: list[str], channel_id: str | None) -> dict[str, Any]:
    """The declare form: service, functionality, state, audience, severity, and whether end users feel it."""
    if services:
        service = _select([_option(s) for s in services[:MAX_OPTIONS]], "Which service is affected?")
    else:
        service = {"type": "plain_text_input", "placeholder": _text("e.g. auth-api")}
    blocks = [
        _input("service", "Service", service),
        _input(
            "functionality",
            "Functionality",
            {"type": "plain_text_input", "placeholder": _text("e.g. Logging in"), "max_length": 100},
        ),
        _input(
            "state", "State", _select([_option(s.value) for s in ImpactState], "Down, degraded or insecure?")
        ),
        _input(
            "audience",
            "Audience",
            {
                "type": "plain_text_input",
                "placeholder": _text("e.g. all users, EU customers"),
                "max_length": 100,
            },
        ),
        _input("severity", "Severity", _select([_option(s.value) for s in Severity], "SEV1 pages")),
        _input(
            "affects_end_users",
            "Are end users affected?",
            {"type": "radio_buttons", "options": [_option("yes", "Yes (priority P1)"), _option("no", "No")]},
        ),
        _input(
            "summary",
            "Impact summary",
            {"type": "plain_text_input", "multiline": True, "max_length": 3000},
            optional=True,
        ),
        _input(
            "force",
            "Duplicates",
            {
                "type": "checkboxes",
                "options": [
                    _option("force", "Declare even if an open incident covers the same functionality")
                ],
            },
            optional=True,
        ),
    ]
    return {
        "type": "modal",
        "callback_id": DECLARE_CALLBACK,
        "title": _text("Declare an incident"),
        "submit": _text("Declare"),
        "close": _text("Cancel"),
        "private_metadata": json.dumps({"channel_id": channel_id}),
        "blocks": blocks,
    }


def _value(element: dict[str, Any]) -> Any:
    kind = element.get("type")
    if kind in ("static_select", "radio_buttons"):
        return (element.get("selected_option") or {}).get("value")
    if kind == "checkboxes":
        return [o.get("value") for o in element.get("selected_options") or []]
    return element.get("value")


def submitted(view: dict[str, Any]) -> dict[str, Any]:
    """The form's answers as IncidentCreate fields; a title is made from them."""
    values = (view.get("state") or {}).get("values") or {}
    answers = {block: _value((values.get(block) or {}).get("value") or {}) for block in FIELDS}
    fields: dict[str, Any] = {
        name: answers[name] for name in ("service", "functionality", "state", "audience", "severity")
    }
    fields["affects_end_users"] = answers["affects_end_users"] == "yes"
    fields["force"] = "force" in (answers["force"] or [])
    if answers["summary"]:
        fields["summary"] = answers["summary"]
    if fields["functionality"] and fields["state"] and fields["audience"]:
        fields["title"] = f"{fields['functionality']} is {fields['state']} for {fields['audience']}"[:200]
    return fields


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """What the form carried from the command that opened it (the channel to answer in)."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
