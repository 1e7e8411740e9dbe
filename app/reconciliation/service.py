"""Reconciliation runs: one provider at a time, one run per provider at a time, whoever starts it."""

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import clock
from app.config import Settings
from app.db.session import unit_of_work
from app.integrations.clients import Clients
from app.integrations.errors import PermanentError, TransientError
from app.integrations.sandbox import recorded
from app.reconciliation import freshdesk, pagerduty, slack
from app.reconciliation import repository as repo
from app.reconciliation.models import Provider, ReconciliationRun, RunStatus
from app.reconciliation.passes import Pass, PassFunction, Tally

log = structlog.get_logger(__name__)
MAX_ERRORS_KEPT = 10
PASSES: dict[Provider, PassFunction] = {
    Provider.pagerduty: pagerduty.reconcile,
    Provider.freshdesk: freshdesk.reconcile,
    Provider.slack: slack.reconcile,
}


def configured(settings: Settings) -> list[Provider]:
    """The providers Relay can read back: credentials set, and for PagerDuty a REST API token."""
    found = []
    if settings.pagerduty.api_token is not None:
        found.append(Provider.pagerduty)
    if settings.freshdesk.configured:
        found.append(Provider.freshdesk)
    if settings.slack.configured:
        found.append(Provider.slack)
    return found


async def _start(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, provider: Provider, trigger: str
) -> ReconciliationRun | None:
    """Take the provider's slot and open a run; None when another run holds the slot."""
    options = settings.reconciliation
    async with unit_of_work(sessionmaker) as session:
        now = clock.now()
        await repo.abandon_expired(session, provider, now)
        previous = await repo.latest_finished(session, provider)
        if previous is not None and previous.window_to is not None:
            window_from = previous.window_to - timedelta(seconds=options.overlap_seconds)
        else:
            window_from = now - timedelta(hours=options.first_lookback_hours)
        run = ReconciliationRun(
            provider=provider,
            trigger=trigger[:200],
            running=provider,
            started_at=now,
            lease_expires_at=now + timedelta(seconds=options.run_timeout_seconds),
            window_from=window_from,
            window_to=now,
        )
        try:
            async with session.begin_nested():
                session.add(run)
        except IntegrityError:
            return None
    return run


async def _finish(
    sessionmaker: async_sessionmaker[AsyncSession], run_id: int, status: RunStatus, tally: Tally, calls: int
) -> ReconciliationRun:
    async with unit_of_work(sessionmaker) as session:
        run = await session.get(ReconciliationRun, run_id, with_for_update=True)
        assert run is not None
        run.status = status
        run.running = None
        run.lease_expires_at = None
        run.finished_at = clock.now()
        run.window_to = tally.window_to
        run.checked = tally.checked
        run.calls = calls
        run.drift_found = tally.drift_found
        run.repaired = tally.repaired
        run.errors = len(tally.errors)
        kept = tally.errors[:MAX_ERRORS_KEPT]
        more = len(tally.errors) - len(kept)
        run.error = "\n".join(kept + ([f"… and {more} more"] if more else [])) or None
        run.drift = tally.drift
    return run


async def run_provider(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    clients: Clients,
    provider: Provider,
    trigger: str,
) -> ReconciliationRun | None:
    """One run for one provider; None when a run for it is already under way."""
    run = await _start(sessionmaker, settings, provider, trigger)
    if run is None:
        log.info("reconciliation_already_running", provider=provider, trigger=trigger)
        return None
    assert run.id is not None
    assert run.window_from is not None
    assert run.window_to is not None
    tally = Tally(window_to=run.window_to)
    calls: list[dict[str, Any]] = []
    token = recorded.set(calls)
    status = RunStatus.finished
    try:
        await PASSES[provider](
            Pass(run.id, run.window_from, run.window_to, settings, sessionmaker, clients, tally)
        )
    except (TransientError, PermanentError) as exc:
        # The provider is down or refuses us: the run says so, and the next one covers this window.
        status = RunStatus.failed
        tally.failed(f"{provider}: {exc.message}")
    except Exception as exc:
        log.exception("reconciliation_failed", provider=provider)
        status = RunStatus.failed
        tally.failed(f"{provider}: {type(exc).__name__}: {exc}")
    finally:
        recorded.reset(token)
    finished = await _finish(sessionmaker, run.id, status, tally, len(calls))
    log.info(
        "reconciliation_run",
        provider=provider,
        status=status,
        checked=tally.checked,
        calls=len(calls),
        drift_found=tally.drift_found,
        repaired=tally.repaired,
        errors=len(tally.errors),
    )
    return finished


async def reconcile(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    clients: Clients,
    providers: Sequence[Provider] | None,
    trigger: str,
) -> list[ReconciliationRun]:
    """Run each provider in turn (every configured one by default); one's failure never stops the next."""
    done = []
    for provider in providers if providers is not None else configured(settings):
        try:
            run = await run_provider(settings, sessionmaker, clients, provider, trigger)
        except Exception:  # the database itself failed: still try the other providers
            log.exception("reconciliation_run_not_recorded", provider=provider)
            continue
        if run is not None:
            done.append(run)
    return done
