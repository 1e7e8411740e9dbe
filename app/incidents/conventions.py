"""Naming conventions from the process documents: channel names, summary lines, priorities."""

import re
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from app.incidents.models import Incident

SLACK_CHANNEL_MAX = 80
_NOT_ALLOWED = re.compile(r"[^a-z0-9_-]+")
_DASHES = re.compile(r"-{2,}")


def slug(text: str) -> str:
    """Lowercase words joined by dashes, using only what Slack allows in a channel name."""
    cleaned = _NOT_ALLOWED.sub("-", text.lower())
    return _DASHES.sub("-", cleaned).strip("-_")


def channel_name(declared_at: datetime, functionality: str, state: str, audience: str, zone: ZoneInfo) -> str:
    """``inc-YY-MM-DD-functionality-state-audience``, slugged and at most 80 characters."""
    day = declared_at.astimezone(zone).strftime("%y-%m-%d")
    name = "-".join(p for p in ("inc", day, slug(functionality), slug(state), slug(audience)) if p)
    return name[:SLACK_CHANNEL_MAX].rstrip("-_")


def with_suffix(name: str, n: int) -> str:
    """The ``n``-th alternative to a taken channel name, still within the length limit."""
    suffix = f"-{n}"
    return name[: SLACK_CHANNEL_MAX - len(suffix)].rstrip("-_") + suffix


def summary_line(
    declared_at: datetime, severity: str, functionality: str, state: str, audience: str, zone: ZoneInfo
) -> str:
    """``[inc-YY-MM-DD-SEV-X] {functionality} is {state} for {audience}``."""
    day = declared_at.astimezone(zone).strftime("%y-%m-%d")
    sev = severity.upper().replace("SEV", "SEV-")
    return f"[inc-{day}-{sev}] {functionality} is {state} for {audience}"


def incident_summary_line(incident: "Incident", zone: ZoneInfo) -> str:
    """The summary line of an incident as it stands."""
    return summary_line(
        incident.declared_at,
        incident.severity,
        incident.functionality,
        incident.state,
        incident.audience,
        zone,
    )


def priority_for(severity: str, affects_end_users: bool) -> str:
    """P1 whenever end users feel it; otherwise one step below the severity."""
    if affects_end_users:
        return "P1"
    return {"SEV1": "P2", "SEV2": "P3", "SEV3": "P4"}[severity]
