"""Slack message bodies (Block Kit) for an incident."""

from collections.abc import Sequence
from typing import Any

# The buttons on the pinned summary; the interactivity endpoint acts on these action ids.
SUMMARY_ACTIONS = (
    ("incident.acknowledge", "Acknowledge"),
    ("incident.take_commander", "Take commander"),
    ("incident.mitigated", "Mitigated"),
    ("incident.resolved", "Resolved"),
)
FINAL_STATUSES = frozenset({"closed", "duplicate", "cancelled"})


def summary_blocks(
    *,
    summary_line: str,
    reference: str,
    status: str,
    severity: str,
    priority: str,
    impact: str | None,
    title: str | None = None,
    roles: Sequence[tuple[str, str]] = (),
) -> list[dict[str, Any]]:
    """The pinned summary: what is broken, for whom, how bad, who leads, and where it stands."""
    fields = [
        {"type": "mrkdwn", "text": f"*Status*\n{status}"},
        {"type": "mrkdwn", "text": f"*Severity*\n{severity}"},
        {"type": "mrkdwn", "text": f"*Priority*\n{priority}"},
    ]
    holders: dict[str, list[str]] = {}
    for role, name in roles:
        holders.setdefault(role, []).append(name)
    commander = ", ".join(holders.pop("commander", [])) or "_nobody yet_"
    fields.append({"type": "mrkdwn", "text": f"*Commander*\n{commander}"})
    # Slack allows ten fields in a section: four are taken above.
    for role, names in list(holders.items())[:6]:
        fields.append(
            {"type": "mrkdwn", "text": f"*{role.replace('_', ' ').capitalize()}*\n{', '.join(names)}"}
        )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{reference}: {summary_line}"[:150]}},
    ]
    if title:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"}})
    blocks += [
        {"type": "section", "fields": fields},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*Impact summary:* {impact or '_not yet known_'}"},
        },
    ]
    if status not in FINAL_STATUSES:
        blocks.append(
            {
                "type": "actions",
                "block_id": "incident_actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": action_id,
                        "text": {"type": "plain_text", "text": label},
                        "value": reference,
                    }
                    for action_id, label in SUMMARY_ACTIONS
                ],
            }
        )
    return blocks


def announcement(*, title: str, team: str | None) -> str:
    """The new-incidents post; ``{}`` becomes a link to the channel once it exists."""
    responding = f" The team that is currently responding is the {team} team." if team else ""
    return (
        f"I've declared an incident: {literal(title)}. The dedicated channel for the incident is <#{{}}>."
        + literal(responding)
    )


def literal(text: str) -> str:
    """Text safe inside a template whose ``{}`` is filled in later (titles may contain braces)."""
    return text.replace("{", "{{").replace("}", "}}")


def links(*, reference: str, video_url: str | None, notes_url: str | None) -> str:
    """Where responders talk and write things down; what is missing is asked for."""
    lines = []
    if video_url:
        lines.append(f"I've created a video bridge for this incident, please join us here: {video_url}")
    if notes_url:
        lines.append(f"Take notes in the incident document: {notes_url}")
    missing = [name for name, url in (("video_url", video_url), ("notes_url", notes_url)) if not url]
    if missing:
        lines.append(
            f"No {' or '.join(m.replace('_url', ' link') for m in missing)} yet for {reference}: "
            f"set {' and '.join(missing)} with PATCH /api/v1/incidents/{reference}."
        )
    return "\n".join(lines)


def status_update(*, reference: str, summary_line: str, body: str, author: str | None, external: bool) -> str:
    """A status update as posted in Slack."""
    heading = f"*{'Customer update sent' if external else 'Status update'} on {reference}* · {summary_line}"
    signature = f"\n— {author}" if author else ""
    return f"{heading}\n{body}{signature}"
