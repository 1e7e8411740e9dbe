"""The report as Markdown. Pure: it renders what the service gathered."""

from datetime import datetime
from zoneinfo import ZoneInfo

from app.reports.schemas import ReportEntry, ReportPublic, ReportSections

NOT_YET = "not yet"
# Labels that do not repeat what the entry's own text starts with ("Status: …", "Hypothesis: …").
KIND_LABELS = {
    "note": "Note",
    "status_change": "Lifecycle",
    "role_change": "Roles",
    "field_change": "Edit",
    "communication": "Update sent",
    "milestone": "Milestone",
    "hypothesis": "Investigation",
    "action_item": "Follow-up",
}
WRITTEN = (
    ("Contributing factors", "contributing_factors"),
    ("What went well", "went_well"),
    ("What went badly", "went_badly"),
    ("Lessons", "lessons"),
)
# Deeper replies are drawn at this depth so that a long chain of replies stays readable.
MAX_INDENT = 6


def duration(seconds: float | None) -> str:
    """A duration the way people say it: 45s, 5m, 5m 30s, 2h 0m, 1d 3h 20m."""
    if seconds is None:
        return NOT_YET
    total = round(seconds)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s" if secs else f"{minutes}m"
    return f"{secs}s"


def _when(at: datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z") if at else NOT_YET


def _cell(text: str | None) -> str:
    return (text or "—").replace("|", "\\|").replace("\n", " ")


def _indented(text: str, indent: str) -> str:
    # Continuation lines stay inside their list item.
    return text.replace("\n", "\n" + indent)


def _label(entry: ReportEntry) -> str:
    if entry.kind == "message":
        return "Slack message" if entry.source == "slack" else "Message"
    if entry.kind == "event":
        return f"{entry.source.capitalize()} event"
    return KIND_LABELS.get(entry.kind, entry.kind.replace("_", " ").capitalize())


def _timeline(entries: list[ReportEntry], zone: ZoneInfo) -> list[str]:
    if not entries:
        return ["_Nothing was recorded._"]
    lines = []
    for entry in entries:
        indent = "  " * min(entry.depth, MAX_INDENT)
        author = f" · {entry.author_name}" if entry.author_name else ""
        edited = " _(edited)_" if entry.edited_at else ""
        body = _indented(entry.body, indent + "  ")
        lines.append(
            f"{indent}- **{_when(entry.occurred_at, zone)}** · {_label(entry)}{author}: {body}{edited}"
        )
    return lines


def _durations(report: ReportPublic, zone: ZoneInfo) -> list[str]:
    d = report.durations
    rows = [
        ("Declared", d.declared_at, "—"),
        ("Acknowledged", d.acknowledged_at, duration(d.time_to_acknowledge_seconds)),
        ("Mitigated", d.mitigated_at, duration(d.time_to_mitigate_seconds)),
        ("Resolved", d.resolved_at, duration(d.time_to_resolve_seconds)),
        ("Closed", d.closed_at, duration(d.time_to_close_seconds)),
    ]
    return [
        "| Stage | At | After declaration |",
        "|---|---|---|",
        *(f"| {stage} | {_when(at, zone)} | {after} |" for stage, at, after in rows),
        "",
        f"Internal updates: {d.updates_sent} sent, {d.updates_due} due (one when declared, then one every "
        f"{d.update_cadence_minutes} minutes until resolved).",
    ]


def _hypotheses(report: ReportPublic, zone: ZoneInfo) -> list[str]:
    if not report.hypotheses:
        return ["_None were recorded._"]
    statements = {h.id: h.statement for h in report.hypotheses}
    lines = []
    for h in report.hypotheses:
        verdict = {"confirmed": "Confirmed", "ruled_out": "Ruled out"}.get(h.conclusion, "Open")
        lines.append(f"- **{verdict}:** {_indented(h.statement, '  ')}")
        if h.parent_id in statements:
            lines.append(f"  - Suggested by: {_indented(statements[h.parent_id], '    ')}")
        if h.test_plan:
            lines.append(f"  - How it was tested: {_indented(h.test_plan, '    ')}")
        if h.proposed_fix:
            started = f" (started {_when(h.fix_started_at, zone)})" if h.fix_started_at else ""
            lines.append(f"  - Proposed fix: {_indented(h.proposed_fix, '    ')}{started}")
        if h.concluded_at or h.conclusion_notes:
            notes = f": {_indented(h.conclusion_notes, '    ')}" if h.conclusion_notes else ""
            lines.append(f"  - Concluded {_when(h.concluded_at, zone)}{notes}")
    return lines


def _action_items(report: ReportPublic) -> list[str]:
    if not report.action_items:
        return ["_None were recorded._"]
    lines = ["| Action item | Owner | Due | Status | Durability |", "|---|---|---|---|---|"]
    for item in report.action_items:
        title = f"[{_cell(item.title)}]({item.link})" if item.link else _cell(item.title)
        durability = "durable" if item.durable else "follow-up (not durable)"
        if item.durability_warnings:
            durability += ": flagged, " + "; ".join(item.durability_warnings)
        due = item.due_date.isoformat() if item.due_date else "—"
        lines.append(f"| {title} | {_cell(item.owner_name)} | {due} | {item.status} | {_cell(durability)} |")
    return lines


def _written(report: ReportPublic, sections: ReportSections) -> list[str]:
    lines = []
    for heading, name in WRITTEN:
        text = getattr(sections, name)
        placeholder = f"_Not written yet (`{name}` in `PATCH /api/v1/incidents/{report.reference}/report`)._"
        lines += [f"## {heading}", "", text or placeholder, ""]
    return lines


def render(report: ReportPublic, zone: ZoneInfo) -> str:
    """The whole report as one Markdown document."""
    team = f" (team {report.team})" if report.team else ""
    resolution = report.durable_reason or (
        "every durable action item is done" if report.durations.resolved_at else NOT_YET
    )
    generated = _when(report.generated_at, zone)
    lines = [
        f"# {report.reference}: {report.title}",
        "",
        f"_Blameless incident report generated by Relay from the record on {generated}."
        " It says what happened, what the team knew and what it did at each point; it does not look for"
        " someone to blame._",
        "",
        "## Summary",
        "",
        f"**{report.summary_line}**",
        "",
        report.summary or "_No summary was recorded._",
        "",
        f"- Status: {report.status}",
        f"- Service: {report.service}{team}",
        f"- Channel: #{report.channel_name}",
        f"- Mitigation: {_indented(report.mitigation or NOT_YET, '  ')}",
        f"- Durable resolution: {_indented(resolution, '  ')}",
        "",
        "## Impact and audience",
        "",
        f"- {report.functionality} is {report.state} for {report.audience}.",
        f"- End users affected: {'yes' if report.affects_end_users else 'no'}",
        "",
        "## Severity",
        "",
        f"{report.severity}, priority {report.priority}.",
        "",
        "## Durations",
        "",
        *_durations(report, zone),
        "",
        "## Timeline",
        "",
        *_timeline(report.timeline, zone),
        "",
        "## Hypotheses",
        "",
        *_hypotheses(report, zone),
        "",
        "## Milestones",
        "",
        *(
            [f"- **{_when(m.occurred_at, zone)}** {m.label}" for m in report.milestones]
            or ["_None were recorded._"]
        ),
        "",
        *_written(report, report.sections),
        "## Action items",
        "",
        *_action_items(report),
        "",
    ]
    return "\n".join(lines)
