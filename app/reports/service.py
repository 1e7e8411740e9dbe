"""The incident report: generated from the record, with the sections the team writes."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.auth.service import Actor
from app.config import Settings
from app.db import versioning
from app.errors import StaleVersion
from app.incidents import presenters
from app.incidents import repository as incident_repo
from app.incidents.models import Hypothesis, Incident, Milestone
from app.incidents.schemas import HypothesisPublic, MilestonePublic
from app.incidents.service import summary_line
from app.metrics import service as metrics
from app.reports import repository as repo
from app.reports.models import IncidentReport
from app.reports.repository import DELETED_AT, ID, PARENT_ID, TimelineRow
from app.reports.schemas import ReportActionItem, ReportEntry, ReportPublic, ReportSections, ReportUpdate


def threaded(rows: Sequence[TimelineRow]) -> list[ReportEntry]:
    """Entries in display order: each followed by its replies; deleted entries left out."""
    # Plain tuples, unpacked by position: attribute access on ten thousand rows shows in the render time.
    visible = [tuple(row) for row in rows if row[DELETED_AT] is None]
    ids = {row[ID] for row in visible}
    replies: defaultdict[int, list[tuple[Any, ...]]] = defaultdict(list)
    roots = []
    for row in visible:
        if row[PARENT_ID] in ids:
            replies[row[PARENT_ID]].append(row)
        else:  # a reply to a deleted entry stays in the report, at the top level
            roots.append(row)
    ordered: list[ReportEntry] = []
    stack = [(row, 0) for row in reversed(roots)]
    while stack:
        row, depth = stack.pop()
        entry_id, parent_id, kind, source, body, author_name, occurred_at, edited_at, _ = row
        ordered.append(
            ReportEntry(
                id=entry_id,
                parent_id=parent_id,
                depth=depth,
                kind=kind,
                source=source,
                body=body,
                author_name=author_name,
                occurred_at=occurred_at,
                edited_at=edited_at,
            )
        )
        stack.extend((reply, depth + 1) for reply in reversed(replies.pop(entry_id, [])))
    return ordered


def sections_public(report: IncidentReport | None) -> ReportSections:
    if report is None:
        return ReportSections(
            contributing_factors=None,
            went_well=None,
            went_badly=None,
            lessons=None,
            version=0,
            updated_by=None,
            updated_at=None,
        )
    return ReportSections.model_validate(report, from_attributes=True)


async def build(session: AsyncSession, incident: Incident, settings: Settings) -> ReportPublic:
    """Gather everything the report shows from the incident's record."""
    assert incident.id is not None
    teams = await incident_repo.team_names(session, {incident.team_id} if incident.team_id else set())
    hypotheses = await incident_repo.children_of(session, Hypothesis, incident.id)
    milestones = await incident_repo.children_of(session, Milestone, incident.id)
    items = await repo.action_items_with_owners(session, incident.id)
    return ReportPublic(
        reference=incident.reference,
        title=incident.title,
        summary_line=summary_line(incident, settings),
        summary=incident.summary,
        status=incident.status,
        service=incident.service,
        functionality=incident.functionality,
        state=incident.state,
        audience=incident.audience,
        affects_end_users=incident.affects_end_users,
        severity=incident.severity,
        priority=incident.priority,
        team=teams.get(incident.team_id) if incident.team_id else None,
        channel_name=incident.channel_name,
        mitigation=incident.mitigation,
        durable_reason=incident.durable_reason,
        generated_at=clock.now(),
        durations=await metrics.incident_durations(session, incident, settings.policy),
        timeline=threaded(await repo.timeline_rows(session, incident.id)),
        hypotheses=[HypothesisPublic.model_validate(h, from_attributes=True) for h in hypotheses],
        milestones=sorted(
            (MilestonePublic.model_validate(m, from_attributes=True) for m in milestones),
            key=lambda m: (m.occurred_at, m.id),
        ),
        action_items=[
            ReportActionItem(**presenters.action_item_public(item).model_dump(), owner_name=owner)
            for item, owner in items
        ],
        sections=sections_public(await repo.sections(session, incident.id)),
    )


def _stale(incident: Incident, expected: int) -> StaleVersion:
    return StaleVersion(
        f"The report of {incident.reference} changed since version {expected}; "
        "fetch it again and reapply your change."
    )


async def write_sections(
    session: AsyncSession, incident: Incident, changes: ReportUpdate, actor: Actor, expected: int
) -> ReportSections:
    """Save the sections the team writes, with the version the writer read as the precondition."""
    assert incident.id is not None
    fields = changes.model_dump(exclude_unset=True, exclude={"version"})
    now = clock.now()
    report = await repo.sections(session, incident.id)
    if expected != (report.version if report else 0):
        raise _stale(incident, expected)
    if report is None:
        report = IncidentReport(incident_id=incident.id, updated_by=actor.name, updated_at=now, **fields)
        try:
            async with session.begin_nested():
                session.add(report)
        except IntegrityError:  # someone wrote the first version at the same moment
            raise _stale(incident, expected) from None
        return sections_public(report)
    if not await versioning.bump_version(session, report, expected, now):
        raise _stale(incident, expected)
    for name, value in fields.items():
        setattr(report, name, value)
    report.updated_by = actor.name
    await session.flush()
    return sections_public(report)
