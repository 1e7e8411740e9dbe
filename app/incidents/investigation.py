"""Hypotheses, milestones, action items and links: what the team records while it works."""

from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import clock
from app.auth.service import Actor
from app.errors import Conflict, NotFound, ValidationFailed, field_error
from app.incidents.models import (
    ActionItem,
    ActionItemStatus,
    Hypothesis,
    HypothesisConclusion,
    Incident,
    IncidentLink,
    Milestone,
    TimelineEntry,
    TimelineKind,
)
from app.incidents.schemas import (
    ActionItemCreate,
    ActionItemUpdate,
    HypothesisCreate,
    HypothesisUpdate,
    LinkCreate,
    MilestoneCreate,
    TimelineCreate,
)
from app.incidents.service import add_entry
from app.people.models import Person

M = TypeVar("M", Hypothesis, ActionItem)


async def append_note(
    session: AsyncSession, incident: Incident, entry_in: TimelineCreate, actor: Actor
) -> TimelineEntry:
    if entry_in.parent_id is not None:
        parent = await session.get(TimelineEntry, entry_in.parent_id)
        if parent is None or parent.incident_id != incident.id:
            raise ValidationFailed(
                "A reply must point at an entry of the same incident.",
                errors=[field_error("parent_id", "unknown timeline entry for this incident")],
            )
    return await add_entry(
        session,
        incident,
        TimelineKind(entry_in.kind),
        entry_in.body,
        actor=actor,
        occurred_at=entry_in.occurred_at,
        parent_id=entry_in.parent_id,
    )


async def _child_or_404(session: AsyncSession, model: type[M], incident: Incident, child_id: int) -> M:
    child = await session.get(model, child_id)
    if child is None or child.incident_id != incident.id:
        raise NotFound(f"{incident.reference} has no {model.__tablename__.rstrip('s')} {child_id}.")
    return child


async def _check_person(session: AsyncSession, field: str, person_id: int | None) -> None:
    if person_id is not None and await session.get(Person, person_id) is None:
        raise ValidationFailed(
            f"There is no person {person_id}.", errors=[field_error(field, "unknown person")]
        )


async def add_hypothesis(
    session: AsyncSession, incident: Incident, data: HypothesisCreate, actor: Actor
) -> Hypothesis:
    assert incident.id is not None
    if data.parent_id is not None:
        await _child_or_404(session, Hypothesis, incident, data.parent_id)
    hypothesis = Hypothesis(
        incident_id=incident.id,
        author_name=actor.name,
        created_at=clock.now(),
        **data.model_dump(),
    )
    session.add(hypothesis)
    await session.flush()
    await add_entry(
        session,
        incident,
        TimelineKind.hypothesis,
        f"Hypothesis: {data.statement}",
        actor=actor,
        data={"hypothesis_id": hypothesis.id},
    )
    return hypothesis


async def update_hypothesis(
    session: AsyncSession, incident: Incident, hypothesis_id: int, data: HypothesisUpdate, actor: Actor
) -> Hypothesis:
    hypothesis = await _child_or_404(session, Hypothesis, incident, hypothesis_id)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        setattr(hypothesis, name, value)
    if "conclusion" in changes:
        concluded = data.conclusion not in (None, HypothesisConclusion.open)
        hypothesis.concluded_at = clock.now() if concluded else None
        if concluded:
            verdict = "confirmed" if data.conclusion == HypothesisConclusion.confirmed else "ruled out"
            await add_entry(
                session,
                incident,
                TimelineKind.hypothesis,
                f"Hypothesis {verdict}: {hypothesis.statement}",
                actor=actor,
                data={"hypothesis_id": hypothesis.id, "conclusion": data.conclusion},
            )
    if "fix_started_at" in changes and hypothesis.proposed_fix:
        await add_entry(
            session,
            incident,
            TimelineKind.hypothesis,
            f"Fix started: {hypothesis.proposed_fix}",
            actor=actor,
            occurred_at=data.fix_started_at,
            data={"hypothesis_id": hypothesis.id},
        )
    await session.flush()
    return hypothesis


async def add_milestone(
    session: AsyncSession, incident: Incident, data: MilestoneCreate, actor: Actor
) -> Milestone:
    assert incident.id is not None
    milestone = Milestone(
        incident_id=incident.id,
        label=data.label,
        author_name=actor.name,
        occurred_at=data.occurred_at or clock.now(),
    )
    session.add(milestone)
    await add_entry(
        session, incident, TimelineKind.milestone, data.label, actor=actor, occurred_at=milestone.occurred_at
    )
    return milestone


async def add_action_item(
    session: AsyncSession, incident: Incident, data: ActionItemCreate, actor: Actor
) -> ActionItem:
    assert incident.id is not None
    await _check_person(session, "owner_id", data.owner_id)
    item = ActionItem(incident_id=incident.id, created_at=clock.now(), **data.model_dump())
    session.add(item)
    await session.flush()
    kind = "durable" if item.durable else "follow-up"
    await add_entry(
        session,
        incident,
        TimelineKind.action_item,
        f"Action item ({kind}): {item.title}",
        actor=actor,
        data={"action_item_id": item.id},
    )
    return item


async def update_action_item(
    session: AsyncSession, incident: Incident, item_id: int, data: ActionItemUpdate, actor: Actor
) -> ActionItem:
    item = await _child_or_404(session, ActionItem, incident, item_id)
    changes = data.model_dump(exclude_unset=True)
    if "owner_id" in changes:
        await _check_person(session, "owner_id", data.owner_id)
    for name, value in changes.items():
        setattr(item, name, value)
    if "status" in changes:
        done = data.status == ActionItemStatus.done
        item.completed_at = clock.now() if done else None
        if done:
            await add_entry(
                session,
                incident,
                TimelineKind.action_item,
                f"Action item done: {item.title}",
                actor=actor,
                data={"action_item_id": item.id},
            )
    await session.flush()
    return item


async def add_link(session: AsyncSession, incident: Incident, data: LinkCreate) -> IncidentLink:
    assert incident.id is not None
    existing = await session.scalar(
        select(IncidentLink).where(
            col(IncidentLink.kind) == data.kind, col(IncidentLink.external_id) == data.external_id
        )
    )
    if existing is not None:
        raise Conflict(f"{data.kind} {data.external_id} is already linked to an incident.")
    link = IncidentLink(incident_id=incident.id, created_at=clock.now(), **data.model_dump())
    session.add(link)
    await session.flush()
    return link
