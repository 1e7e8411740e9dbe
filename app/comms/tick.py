"""One tick of the process clock: every watched incident gets what is due, once, whoever ticks."""

import asyncio

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import clock
from app.auth.models import Scope
from app.auth.service import Actor
from app.comms import cadence, reminders
from app.comms import repository as repo
from app.comms.working_time import WorkingCalendar
from app.config import Settings
from app.db.session import unit_of_work
from app.incidents import service as incident_service
from app.incidents.models import Incident, IncidentStatus
from app.incidents.schemas import TransitionIn

log = structlog.get_logger(__name__)
CLOCK_ACTOR = Actor(name=reminders.CLOCK, scope=Scope.write)


async def tick(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Look at every open or resolved incident; returns how many things were done."""
    async with unit_of_work(sessionmaker) as session:
        ids = await repo.watched_ids(session, cadence.WATCHED)
    done = 0
    for incident_id in ids:
        try:
            async with unit_of_work(sessionmaker) as session:
                # Locked, or skipped while another holds it: two workers never act on one incident at once.
                incident = await repo.lock_for_tick(session, incident_id)
                if incident is not None and incident.status in cadence.WATCHED:
                    done += await apply_rules(session, incident, settings)
        except IntegrityError:
            log.info("clock_tick_raced", incident_id=incident_id)
        except Exception:  # one incident's failure must not keep the clock from the others
            log.exception("clock_tick_failed", incident_id=incident_id)
    if done:
        log.info("clock_ticked", actions=done, incidents=len(ids))
    return done


async def apply_rules(session: AsyncSession, incident: Incident, settings: Settings) -> int:
    """Everything the clock owes one incident at this moment."""
    now = clock.now()
    done = 0
    if cadence.keeps_cadence(incident, settings):
        for audience in (cadence.INTERNAL, cadence.EXTERNAL):
            overdue = cadence.overdue_update(incident, audience, now, settings)
            if overdue is not None:
                done += await reminders.update_overdue(session, incident, overdue, settings)
    escalation = cadence.escalation_due(incident, settings)
    if escalation is not None and now >= escalation:
        done += await reminders.escalate(session, incident, escalation, settings)
    if incident.status == IncidentStatus.resolved:
        done += await _after_resolution(session, incident, settings)
    return done


async def _after_resolution(session: AsyncSession, incident: Incident, settings: Settings) -> int:
    assert incident.resolved_at is not None
    now = clock.now()
    cal = WorkingCalendar.from_settings(settings)
    # Nagging waits for working hours and for the day after the resolution.
    nag = cal.is_working_time(now) and cal.local_date(now) > cal.local_date(incident.resolved_at)
    done = 0
    deadline = cadence.retrospective_deadline(incident, settings)
    if incident.retrospective_at is None and deadline is not None:
        done += await reminders.propose_retrospective(session, incident, deadline, settings)
        if nag:
            done += await reminders.retrospective_unscheduled(session, incident, deadline, now, settings)
    incident.autoclose_at = cadence.autoclose_at(incident, settings)
    check = cadence.close_check(incident, now, settings)
    if check.may_close:
        confirmed = incident.customer_confirmed_at is not None
        reason = (
            "the customer confirmed and the report is complete"
            if confirmed
            else "no customer reply within the auto-close wait after the resolved message"
        )
        move = TransitionIn(status=IncidentStatus.closed, reason=reason)
        await incident_service.transition(session, incident, move, CLOCK_ACTOR, settings, source="clock")
        return done + 1
    reminders_from = cadence.close_reminders_from(incident, settings)
    if check.missing and nag and reminders_from is not None and now >= reminders_from:
        done += await reminders.cannot_close(session, incident, check.missing, now, settings)
    return done


async def tick_forever(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The embedded stand-in for the workers' cron: tick, then wait (the first tick waits too)."""
    while True:
        await asyncio.sleep(settings.policy.tick_seconds)
        try:
            await tick(settings, sessionmaker)
        except Exception:
            log.warning("clock_tick_failed", exc_info=True)
