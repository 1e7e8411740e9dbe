"""Slack message bodies (Block Kit) for an incident."""

from typing import Any


def summary_blocks(
    *, summary_line: str, reference: str, status: str, severity: str, priority: str, impact: str | None
) -> list[dict[str, Any]]:
    """The pinned summary: what is broken, for whom, how bad, and where it stands."""
    return [
        {"type": "header", "text": {"type": "plain_text", "text": f"{reference}: {summary_line}"[:150]}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Status*\n{status}"},
                {"type": "mrkdwn", "text": f"*Severity*\n{severity}"},
                {"type": "mrkdwn", "text": f"*Priority*\n{priority}"},
            ],
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*Impact summary:* {impact or '_not yet known_'}"},
        },
    ]


def announcement(*, title: str, team: str | None) -> str:
    """The new-incidents post; ``{}`` becomes a link to the channel once it exists."""
    responding = f" The team that is currently responding is the {team} team." if team else ""
    return (
        f"I've declared an incident: {title}. The dedicated channel for the incident is <#{{}}>." + responding
    )
