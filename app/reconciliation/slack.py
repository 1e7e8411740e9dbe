"""Slack's pass: the pinned summaries worth reading, one ``conversations.history`` call each.

Slack has no list of the messages changed since a time, across channels: reading a summary back costs
one call for its channel (``oldest = latest = ts``, inclusive, limit 1). So a run reads only the
summaries that can have drifted since it last looked:

* incidents changed in Relay since the window began, whose summary Relay renders differently from the
  one it last saw (a chat.update that died leaves the old one pinned);
* summaries a run flagged: a repair it planned, or one of Relay's own updates still on its way;
* a few spot checks (RELAY_RECONCILIATION_SLACK_SPOT_CHECKS) of open incidents, least recently
  verified first, for edits or deletions made in Slack behind Relay's back.

The calls grow with the incidents that changed and a constant, not with every channel Relay has.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.session import unit_of_work
from app.deliveries.service import dependency
from app.incidents.models import Incident
from app.integrations.errors import PermanentError
from app.integrations.slack.planning import render_summary
from app.reconciliation import drift
from app.reconciliation import repository as repo
from app.reconciliation.passes import Pass, changed_since, plan, record, relay_side_limit, save_state

KIND = "slack_summary"
PROVIDER = "slack"
# Deliveries that write the summary: while one is on its way, what Slack shows is not yet drift.
SUMMARY_ACTIONS = frozenset({"slack.update_summary", "slack.post_summary", "slack.pin_message"})


async def _wanted(session: AsyncSession, p: Pass, incident: Incident) -> str:
    rendered = await render_summary(session, incident, p.settings)
    return drift.summary_fingerprint(rendered["text"], rendered["blocks"])


async def _busy(session: AsyncSession, incident_id: int) -> bool:
    underway = await repo.underway(session, [incident_id], PROVIDER)
    return any(delivery.action in SUMMARY_ACTIONS for delivery in underway)


async def _candidates(p: Pass) -> list[tuple[int, bool]]:
    """Incident ids to look at, each with whether to read Slack even if nothing changed in Relay."""
    options = p.settings.reconciliation
    async with unit_of_work(p.sessionmaker) as session:
        changed = await repo.summaries_changed(session, p.window_from, options.max_objects + 1)
        changed = changed[: relay_side_limit(p, len(changed))]
        others = await repo.summaries_to_check(session, KIND, options.max_objects, options.slack_spot_checks)
    found: dict[int, bool] = {}
    for incident in others:
        if incident.id is not None:
            found[incident.id] = True
    for incident in changed:
        if incident.id is not None:
            found.setdefault(incident.id, False)
    return list(found.items())


async def _message(p: Pass, channel: str, ts: str) -> dict[str, Any] | None:
    """The message at ``ts`` in ``channel``, or None when it is gone."""
    data = await p.clients.slack.conversations_history(
        channel=channel, oldest=ts, latest=ts, inclusive=True, limit=1
    )
    messages = [m for m in data.get("messages") or [] if isinstance(m, dict) and m.get("ts") == ts]
    return messages[0] if messages else None


async def _repair(
    session: AsyncSession, p: Pass, incident: Incident, channel: str, ts: str, gone: bool
) -> str:
    ref = incident.reference
    if gone:
        rendered = await render_summary(session, incident, p.settings)
        posted = await plan(
            session,
            p,
            incident,
            "slack.post_summary",
            f"slack:{channel}:summary",
            {"channel": channel, **rendered},
        )
        pin = {"channel": dependency("channel"), "timestamp": dependency("ts")}
        await plan(session, p, incident, "slack.pin_message", f"slack:{channel}:pin", pin, posted)
        return f"Reconciliation: {ref}'s pinned summary was deleted in Slack; posting and pinning it again."
    payload = {"incident_id": incident.id, "channel": channel, "ts": ts}
    await plan(session, p, incident, "slack.update_summary", f"slack:{channel}:{ts}", payload)
    return (
        f"Reconciliation: {ref}'s pinned summary in Slack no longer says what Relay has "
        "(edited, or an update never landed); rewriting it."
    )


async def _check(p: Pass, incident_id: int, always: bool) -> None:
    """Read one summary back if it may have drifted, and repair it when it has."""
    async with unit_of_work(p.sessionmaker) as session:
        incident = await session.get(Incident, incident_id)
        if incident is None or not incident.slack_channel_id or not incident.slack_summary_ts:
            return
        channel, ts = incident.slack_channel_id, incident.slack_summary_ts
        state = await repo.state(session, KIND, channel)
        if await _busy(session, incident_id):
            p.tally.checked += 1
            desired = state.desired if state else None
            await save_state(
                session,
                kind=KIND,
                external_id=channel,
                incident_id=incident_id,
                desired=desired,
                seen=None,
                recheck=True,
            )
            return
        want = await _wanted(session, p, incident)
        seen = (state.seen or {}) if state else {}
        if not always and seen.get("ts") == ts and seen.get("fingerprint") == want:
            p.tally.checked += 1  # Relay's change did not touch what the summary says
            return
    message = await _message(p, channel, ts)
    async with unit_of_work(p.sessionmaker) as session:
        incident = await repo.lock_incident(session, incident_id)
        if incident is None or (incident.slack_channel_id, incident.slack_summary_ts) != (channel, ts):
            return  # moved while Slack was asked: the next run looks at the new one
        p.tally.checked += 1
        want = await _wanted(session, p, incident)
        busy = changed_since(incident, p) or await _busy(session, incident_id)
        findings = [] if busy else drift.summary_findings(want, message)
        for finding in findings:
            body = await _repair(session, p, incident, channel, ts, gone=message is None)
            await record(session, p, incident, kind=KIND, external_id=channel, finding=finding, body=body)
        have = drift.summary_fingerprint(message.get("text"), message.get("blocks")) if message else None
        await save_state(
            session,
            kind=KIND,
            external_id=channel,
            incident_id=incident_id,
            desired={"ts": ts, "fingerprint": want},
            seen={"ts": ts, "fingerprint": have, "present": message is not None},
            recheck=busy or bool(findings),
        )


async def reconcile(p: Pass) -> None:
    """Find and repair pinned summaries that no longer say what Relay has."""
    for incident_id, always in await _candidates(p):
        try:
            await _check(p, incident_id, always)
        except PermanentError as exc:  # one channel Relay cannot read (archived, left) is not an outage
            p.tally.failed(f"Slack summary of incident {incident_id}: {exc.message}")
