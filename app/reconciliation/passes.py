"""What every provider's pass shares: its run's tally, the repairs it plans, and what it writes down."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import clock
from app.config import Settings
from app.deliveries import service as deliveries
from app.deliveries.models import Delivery
from app.incidents import service as incident_service
from app.incidents.models import Incident, TimelineKind
from app.integrations.clients import Clients
from app.reconciliation import repository as repo
from app.reconciliation.drift import Finding, Remedy
from app.reconciliation.models import LinkState

SOURCE = "reconciliation"
AUTHOR = "Reconciliation"
# What one run keeps of its findings for the API; the counts are always complete.
MAX_DRIFT_ITEMS = 100
ACTED = {Remedy.apply: "applied", Remedy.repair: "repaired", Remedy.leave: "left for a person"}


@dataclass
class Tally:
    """What a run found and did, filled in as it goes."""

    window_to: datetime
    checked: int = 0
    drift_found: int = 0
    repaired: int = 0
    errors: list[str] = field(default_factory=list)
    drift: list[dict[str, Any]] = field(default_factory=list)

    def found(self, item: dict[str, Any], *, acted: bool) -> None:
        self.drift_found += 1
        self.repaired += int(acted)
        if len(self.drift) < MAX_DRIFT_ITEMS:
            self.drift.append(item)

    def failed(self, message: str) -> None:
        self.errors.append(message[:1000])


@dataclass(frozen=True)
class Pass:
    """What a provider's pass works with."""

    run_id: int
    window_from: datetime
    window_to: datetime
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    clients: Clients
    tally: Tally


PassFunction = Callable[[Pass], Awaitable[None]]


def read_again(p: Pass, why: str) -> None:
    """This run could not read its whole window: the next run starts where this one did."""
    p.tally.failed(why)
    p.tally.window_to = min(
        p.tally.window_to, p.window_from + timedelta(seconds=p.settings.reconciliation.overlap_seconds)
    )


def relay_side_limit(p: Pass, found: int) -> int:
    """How many Relay-side candidates to look at; past the limit, the window is read again next run."""
    limit = p.settings.reconciliation.max_objects
    if found > limit:
        read_again(
            p,
            f"more than {limit} linked objects changed in Relay since {p.window_from.isoformat()}; "
            "the next run reads the same window again (raise RELAY_RECONCILIATION_MAX_OBJECTS)",
        )
    return limit


def changed_since(incident: Incident, p: Pass) -> bool:
    """Whether the incident changed after the run began: the change's own deliveries are on their way."""
    return incident.updated_at > p.window_to


async def plan(
    session: AsyncSession,
    p: Pass,
    incident: Incident,
    action: str,
    suffix: str,
    payload: dict[str, Any],
    depends_on: Delivery | None = None,
) -> Delivery:
    """A repair through the outbox: the normal delivery again, under a key of this run's own."""
    return await deliveries.add(
        session,
        provider=action.split(".", 1)[0],
        action=action,
        payload=payload,
        idempotency_key=f"{incident.reference}:reconciliation:{p.run_id}:{suffix}",
        settings=p.settings.delivery,
        incident_id=incident.id,
        depends_on=depends_on,
    )


async def record(
    session: AsyncSession,
    p: Pass,
    incident: Incident,
    *,
    kind: str,
    external_id: str,
    finding: Finding,
    body: str,
) -> None:
    """Write a finding and what was done about it on the incident's timeline and in the run."""
    action = ACTED[finding.remedy]
    await incident_service.add_entry(
        session,
        incident,
        TimelineKind.event,
        body,
        source=SOURCE,
        author_name=AUTHOR,
        # One entry per object, field and run, however often the run is retried.
        external_id=f"run-{p.run_id}:{kind}:{external_id}:{finding.field}"[:200],
        data={
            "run_id": p.run_id,
            "object": kind,
            "external_id": external_id,
            "field": finding.field,
            "want": finding.want,
            "have": finding.have,
            "action": action,
        },
    )
    p.tally.found(
        {
            "reference": incident.reference,
            "object": kind,
            "external_id": external_id,
            "field": finding.field,
            "want": finding.want,
            "have": finding.have,
            "action": action,
        },
        acted=finding.remedy is not Remedy.leave,
    )


async def save_state(
    session: AsyncSession,
    *,
    kind: str,
    external_id: str,
    incident_id: int,
    desired: dict[str, Any] | None,
    seen: dict[str, Any] | None,
    recheck: bool,
) -> LinkState:
    """Remember what Relay wanted and what the provider had when this run looked."""
    now = clock.now()
    state = await repo.state(session, kind, external_id)
    if state is None:
        state = LinkState(kind=kind, external_id=external_id, incident_id=incident_id)
        session.add(state)
    state.incident_id = incident_id
    state.desired = desired
    if seen is not None:
        state.seen = seen
        state.seen_at = now
    state.checked_at = now
    state.recheck = recheck
    await session.flush()
    return state
