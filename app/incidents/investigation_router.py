"""Timeline, hypotheses, milestones, action items and links of one incident."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.auth.deps import Authenticated, Reader, Writer
from app.dependencies import SessionDep
from app.errors import ValidationFailed, field_error
from app.incidents import investigation, presenters
from app.incidents import repository as repo
from app.incidents.models import ActionItem, Hypothesis, IncidentLink, Milestone
from app.incidents.router import ERRORS, IncidentDep
from app.incidents.schemas import (
    ActionItemCreate,
    ActionItemPublic,
    ActionItemUpdate,
    HypothesisCreate,
    HypothesisPublic,
    HypothesisUpdate,
    LinkCreate,
    LinkPublic,
    MilestoneCreate,
    MilestonePublic,
    TimelineCreate,
    TimelineEntryPublic,
)
from app.schemas import Page, decode_cursor, encode_cursor

router = APIRouter(
    prefix="/api/v1/incidents/{reference}",
    tags=["investigation"],
    responses=ERRORS,
    dependencies=[Authenticated],
)


def _timeline_position(cursor: str) -> tuple[datetime, int]:
    at, entry_id = decode_cursor(cursor, 2)
    try:
        return datetime.fromisoformat(at), int(entry_id)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            "The cursor is not one this API handed out.",
            errors=[field_error("query.cursor", "unknown cursor")],
        ) from exc


@router.post("/timeline", status_code=status.HTTP_201_CREATED)
async def append_timeline(
    incident: IncidentDep, entry_in: TimelineCreate, actor: Writer, session: SessionDep
) -> TimelineEntryPublic:
    """Add a note (or a record of a communication) to the timeline."""
    return presenters.entry_public(await investigation.append_note(session, incident, entry_in, actor))


@router.get("/timeline")
async def list_timeline(
    incident: IncidentDep,
    _actor: Reader,
    session: SessionDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Page[TimelineEntryPublic]:
    """The timeline in time order, with threaded replies pointing at their parent."""
    assert incident.id is not None
    after = None
    if cursor:
        after = _timeline_position(cursor)
    entries = await repo.timeline(session, incident.id, after=after, limit=limit + 1)
    more = len(entries) > limit
    entries = entries[:limit]
    last = entries[-1] if entries else None
    return Page(
        items=[presenters.entry_public(e) for e in entries],
        next_cursor=encode_cursor(last.occurred_at.isoformat(), last.id) if more and last else None,
    )


@router.post("/hypotheses", status_code=status.HTTP_201_CREATED)
async def add_hypothesis(
    incident: IncidentDep, hypothesis_in: HypothesisCreate, actor: Writer, session: SessionDep
) -> HypothesisPublic:
    """Write down a hypothesis: what might cause this, how to test it, what would fix it."""
    hypothesis = await investigation.add_hypothesis(session, incident, hypothesis_in, actor)
    return HypothesisPublic.model_validate(hypothesis, from_attributes=True)


@router.get("/hypotheses")
async def list_hypotheses(
    incident: IncidentDep, _actor: Reader, session: SessionDep
) -> list[HypothesisPublic]:
    """Every hypothesis, with its test, fix and conclusion."""
    assert incident.id is not None
    rows = await repo.children_of(session, Hypothesis, incident.id)
    return [HypothesisPublic.model_validate(h, from_attributes=True) for h in rows]


@router.patch("/hypotheses/{hypothesis_id}")
async def update_hypothesis(
    incident: IncidentDep,
    hypothesis_id: int,
    changes: HypothesisUpdate,
    actor: Writer,
    session: SessionDep,
) -> HypothesisPublic:
    """Record the fix being tried, or the conclusion."""
    hypothesis = await investigation.update_hypothesis(session, incident, hypothesis_id, changes, actor)
    return HypothesisPublic.model_validate(hypothesis, from_attributes=True)


@router.post("/milestones", status_code=status.HTTP_201_CREATED)
async def add_milestone(
    incident: IncidentDep, milestone_in: MilestoneCreate, actor: Writer, session: SessionDep
) -> MilestonePublic:
    """Mark a milestone, such as "Possibly identified: bad deploy"."""
    milestone = await investigation.add_milestone(session, incident, milestone_in, actor)
    await session.flush()
    return MilestonePublic.model_validate(milestone, from_attributes=True)


@router.get("/milestones")
async def list_milestones(
    incident: IncidentDep, _actor: Reader, session: SessionDep
) -> list[MilestonePublic]:
    """The milestones in the order they were reached."""
    assert incident.id is not None
    rows = await repo.children_of(session, Milestone, incident.id)
    return [MilestonePublic.model_validate(m, from_attributes=True) for m in rows]


@router.post("/action-items", status_code=status.HTTP_201_CREATED)
async def add_action_item(
    incident: IncidentDep, item_in: ActionItemCreate, actor: Writer, session: SessionDep
) -> ActionItemPublic:
    """Add an action item; durable ones must be done before the incident can be resolved."""
    return presenters.action_item_public(
        await investigation.add_action_item(session, incident, item_in, actor)
    )


@router.get("/action-items")
async def list_action_items(
    incident: IncidentDep, _actor: Reader, session: SessionDep
) -> list[ActionItemPublic]:
    """Action items with their owners, status and durability warnings."""
    assert incident.id is not None
    rows = await repo.children_of(session, ActionItem, incident.id)
    return [presenters.action_item_public(i) for i in rows]


@router.patch("/action-items/{item_id}")
async def update_action_item(
    incident: IncidentDep, item_id: int, changes: ActionItemUpdate, actor: Writer, session: SessionDep
) -> ActionItemPublic:
    """Change an action item, e.g. mark it done."""
    item = await investigation.update_action_item(session, incident, item_id, changes, actor)
    return presenters.action_item_public(item)


@router.post("/links", status_code=status.HTTP_201_CREATED)
async def add_link(
    incident: IncidentDep, link_in: LinkCreate, _actor: Writer, session: SessionDep
) -> LinkPublic:
    """Link an external object (a ticket, an issue, a document) to the incident."""
    link = await investigation.add_link(session, incident, link_in)
    return LinkPublic.model_validate(link, from_attributes=True)


@router.get("/links")
async def list_links(incident: IncidentDep, _actor: Reader, session: SessionDep) -> list[LinkPublic]:
    """External objects linked to the incident."""
    assert incident.id is not None
    rows = await repo.children_of(session, IncidentLink, incident.id)
    return [LinkPublic.model_validate(link, from_attributes=True) for link in rows]
