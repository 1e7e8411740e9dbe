"""When each rule of the process clock falls due for an incident. Pure, no I/O."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.comms.working_time import WorkingCalendar
from app.config import Settings
from app.incidents.models import Incident, IncidentStatus

S = IncidentStatus
# The audiences of status updates (``planning.Audience`` values; kept as text so the hook can import this).
INTERNAL, EXTERNAL = "internal", "external"
OPEN = frozenset({S.declared, S.investigating, S.mitigated})
# What the clock still looks at: open incidents, and resolved ones waiting for a retrospective or to close.
WATCHED = OPEN | {S.resolved}


def update_interval(incident: Incident, audience: str, settings: Settings) -> timedelta | None:
    """How often ``audience`` expects an update at the incident's severity; None when it expects none."""
    policy = settings.policy.for_severity(incident.severity)
    internal = audience == INTERNAL
    minutes = policy.internal_update_minutes if internal else policy.external_update_minutes
    return timedelta(minutes=minutes) if minutes else None


def keeps_cadence(incident: Incident, settings: Settings) -> bool:
    """Updates are owed while customers feel the impact (and while mitigated, when the policy says so)."""
    if incident.status in (S.declared, S.investigating):
        return True
    return incident.status == S.mitigated and settings.policy.updates_while_mitigated


def last_update_at(incident: Incident, audience: str) -> datetime | None:
    if audience == INTERNAL:
        return incident.last_internal_update_at
    return incident.last_external_update_at


def next_update_due(incident: Incident, audience: str, settings: Settings) -> datetime | None:
    """When the next update to ``audience`` is due; None when none is owed."""
    interval = update_interval(incident, audience, settings)
    if interval is None or not keeps_cadence(incident, settings):
        return None
    return (last_update_at(incident, audience) or incident.declared_at) + interval


@dataclass(frozen=True)
class Overdue:
    audience: str
    due_at: datetime
    period: int  # 0 for the first interval past due, 1 for the next…

    @property
    def key(self) -> str:
        return f"{self.audience}-update:{self.due_at:%Y%m%dT%H%M%S}:{self.period}"


def overdue_update(incident: Incident, audience: str, now: datetime, settings: Settings) -> Overdue | None:
    """The overdue period ``now`` falls in, if the update to ``audience`` is late."""
    due = next_update_due(incident, audience, settings)
    interval = update_interval(incident, audience, settings)
    if due is None or interval is None or now < due:
        return None
    return Overdue(audience, due, int((now - due) / interval))


def escalation_due(incident: Incident, settings: Settings) -> datetime | None:
    """When an unresolved incident pings the engineering team; None when it never will."""
    minutes = settings.policy.for_severity(incident.severity).escalate_after_minutes
    if minutes is None or incident.status not in OPEN:
        return None
    return incident.declared_at + timedelta(minutes=minutes)


def retrospective_deadline(incident: Incident, settings: Settings) -> datetime | None:
    """The latest a retrospective may happen: N working days after the resolution, and within a week."""
    if incident.resolved_at is None or incident.status not in (S.resolved, S.closed):
        return None
    cal = WorkingCalendar.from_settings(settings)
    days = settings.policy.for_severity(incident.severity).retrospective_working_days
    day = cal.working_day_after(cal.local_date(incident.resolved_at), days)
    week = incident.resolved_at + timedelta(days=settings.policy.retrospective_max_days)
    return min(cal.end_of_working_day(day), week)


def proposed_retrospective(deadline: datetime, settings: Settings) -> datetime:
    """A slot to propose: an hour into the deadline's working day, and always before the deadline."""
    cal = WorkingCalendar.from_settings(settings)
    start, _ = cal.hours_of(cal.local_date(deadline))
    if start >= deadline:
        return deadline - timedelta(hours=1)
    return min(start + timedelta(hours=1), start + (deadline - start) / 2)


def resolved_message_at(incident: Incident) -> datetime | None:
    """When customers were last told after the resolution: the auto-close wait counts from there."""
    sent = incident.last_external_update_at
    if incident.resolved_at is None or sent is None or sent < incident.resolved_at:
        return None
    return sent


def autoclose_at(incident: Incident, settings: Settings) -> datetime | None:
    """When a resolved incident may close without the customer's confirmation."""
    if incident.status != S.resolved:
        return None
    sent = resolved_message_at(incident)
    if sent is None:
        return None
    hours = settings.policy.for_severity(incident.severity).autoclose_working_hours
    return WorkingCalendar.from_settings(settings).add(sent, timedelta(hours=hours))


def close_reminders_from(incident: Incident, settings: Settings) -> datetime | None:
    """From when a resolved incident that cannot close yet gets a daily reminder of what is missing."""
    if incident.status != S.resolved or incident.resolved_at is None:
        return None
    hours = settings.policy.for_severity(incident.severity).autoclose_working_hours
    return WorkingCalendar.from_settings(settings).add(incident.resolved_at, timedelta(hours=hours))


@dataclass(frozen=True)
class CloseCheck:
    """What stands between a resolved incident and closing on its own."""

    needs_report: bool
    needs_resolved_message: bool
    waits_until: datetime | None  # the auto-close moment, while it lies ahead and nobody confirmed

    @property
    def may_close(self) -> bool:
        return not (self.needs_report or self.needs_resolved_message or self.waits_until)

    @property
    def missing(self) -> list[str]:
        """What someone has to do (waiting is not on the list)."""
        missing = []
        if self.needs_report:
            missing.append("the incident report (mark it complete with report_completed)")
        if self.needs_resolved_message:
            missing.append(
                "the resolved message to customers (an external status update after resolving), "
                "or the customer's confirmation (customer_confirmed)"
            )
        return missing


def close_check(incident: Incident, now: datetime, settings: Settings) -> CloseCheck:
    """Whether a resolved incident may close now: reported, and confirmed or past the auto-close wait."""
    confirmed = incident.customer_confirmed_at is not None
    closes = autoclose_at(incident, settings)
    return CloseCheck(
        needs_report=incident.report_completed_at is None,
        needs_resolved_message=not confirmed and closes is None,
        waits_until=closes if not confirmed and closes is not None and closes > now else None,
    )
