"""Drift injected behind Relay's back on local fake providers is found and repaired in one run."""

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import DeliverySettings, ReconciliationSettings
from app.integrations.slack.planning import render_summary
from tests.conftest import RelayApp
from tests.reconciliation_support import Relay, by_provider, fakes, settings_for, started

pytestmark = pytest.mark.usefixtures("clean_database")
DURABLE = {"durable_reason": "The rollback is the fix."}


async def summary_text(relay: Relay, reference: str) -> str:
    incident = await relay.incident(reference)
    async with relay.sessionmaker() as session:
        rendered = await render_summary(session, incident, relay.app.state.settings)
    text: str = rendered["text"]
    return text


async def test_drift_on_every_provider_is_found_and_repaired_in_one_run_and_the_next_finds_none(
    database_url: str, relay_app: RelayApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    with fakes() as fake:
        async with started(relay_app, sessionmaker, settings_for(database_url, fake)) as relay:
            paged = await relay.declare(severity="SEV1", affects_end_users=True)
            await relay.move(paged, "investigating")
            answered = await relay.declare(severity="SEV2")
            await relay.link_ticket(fake.freshdesk, 30571, answered)
            await relay.move(answered, "resolved", **DURABLE)
            assert fake.freshdesk.tickets[30571]["status"] == 4

            clean = await relay.reconcile()
            assert by_provider(clean) == dict.fromkeys(("pagerduty", "freshdesk", "slack"), (0, 0, 0))

            pagerduty_id = await relay.pagerduty_id(paged)
            fake.pagerduty.change_behind_relay(pagerduty_id, status="resolved")
            fake.freshdesk.reopen(30571)
            summary = await relay.incident(answered)
            assert summary.slack_channel_id is not None
            assert summary.slack_summary_ts is not None
            fake.slack.edit(summary.slack_channel_id, summary.slack_summary_ts, "Nothing to see here")

            repaired = await relay.reconcile()
            assert by_provider(repaired) == dict.fromkeys(("pagerduty", "freshdesk", "slack"), (1, 1, 0))
            # PagerDuty's resolve is an input: Relay takes it as mitigated, as the lost webhook would have.
            assert (await relay.incident(paged)).status == "mitigated"
            assert "Resolved in PagerDuty by Dana Okafor" in await relay.timeline(paged, "pagerduty")
            [pd_note] = await relay.timeline(paged, "reconciliation")
            assert pd_note.startswith("Reconciliation: PagerDuty incident #1 was resolved in PagerDuty")
            # Relay owns the ticket's status and the summary: both are put back through the outbox.
            assert fake.freshdesk.tickets[30571]["status"] == 4
            assert fake.freshdesk.changes(30571)[-1] == ("update", {"status": 4})
            stored = fake.slack.message(summary.slack_channel_id, summary.slack_summary_ts)
            assert stored is not None
            assert stored["text"] == await summary_text(relay, answered)
            notes = await relay.timeline(answered, "reconciliation")
            # The providers' runs go side by side: their entries come in either order.
            assert sorted(n.split(";")[0] for n in notes) == [
                "Reconciliation: Freshdesk ticket #30571 was set to Open in Freshdesk "
                "while INC-2 is resolved",
                "Reconciliation: INC-2's pinned summary in Slack no longer says what Relay has "
                "(edited, or an update never landed)",
            ]
            pagerduty_calls = next(run for run in repaired if run.provider == "pagerduty").calls

            after = await relay.reconcile()
            assert by_provider(after) == dict.fromkeys(("pagerduty", "freshdesk", "slack"), (0, 0, 0))
            listing = await relay.call("GET", "/api/v1/reconciliation")

    assert pagerduty_calls == 1  # one page of log entries, the incident included in it
    assert sorted(run["provider"] for run in listing["runs"][:3]) == ["freshdesk", "pagerduty", "slack"]
    assert len(listing["runs"]) == 9
    latest = {entry["provider"]: entry for entry in listing["providers"]}
    assert set(latest) == {"pagerduty", "freshdesk", "slack"}
    assert all(entry["configured"] and entry["last_run"]["status"] == "finished" for entry in latest.values())
    found = next(run for run in listing["runs"] if run["provider"] == "freshdesk" and run["drift_found"])
    assert found["drift"] == [
        {
            "reference": "INC-2",
            "object": "freshdesk_ticket",
            "external_id": "30571",
            "field": "status",
            "want": 4,
            "have": 2,
            "action": "repaired",
        }
    ]
    assert found["checked"] >= 1
    assert found["calls"] >= 1
    assert found["finished_at"] >= found["started_at"]


async def test_a_customer_reply_that_reopened_a_ticket_is_applied_and_the_ticket_left_open(
    database_url: str, relay_app: RelayApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    with fakes() as fake:
        async with started(relay_app, sessionmaker, settings_for(database_url, fake)) as relay:
            reference = await relay.declare(severity="SEV2")
            await relay.link_ticket(fake.freshdesk, 30572, reference)
            await relay.move(reference, "resolved", **DURABLE)
            await relay.reconcile("freshdesk")
            updates_before = len(fake.freshdesk.changes(30572))

            # The customer answers; Freshdesk reopens the ticket; the webhook never reaches Relay.
            fake.freshdesk.customer_replies(30572, "<p>Works again for us, thank you!</p>")
            fake.freshdesk.reopen(30572)
            [run] = await relay.reconcile("freshdesk")
            incident = await relay.incident(reference)
            timeline = await relay.timeline(reference, "freshdesk")
            notes = await relay.timeline(reference, "reconciliation")
            [again] = await relay.reconcile("freshdesk")

    assert (run.drift_found, run.repaired) == (2, 1)
    assert "Customer reply on Freshdesk ticket #30572: Works again for us, thank you!" in timeline
    assert incident.customer_confirmed_at is not None  # a reply after the resolved message confirms
    assert notes == [
        "Reconciliation: 1 customer reply on Freshdesk ticket #30572 never came through a webhook; "
        "added to the timeline.",
        "Reconciliation: Freshdesk ticket #30572 is Open again: the customer answered after INC-1 was "
        "resolved. Left Open for the liaison to answer.",
    ]
    assert len(fake.freshdesk.changes(30572)) == updates_before  # nothing sent to overwrite them
    assert fake.freshdesk.tickets[30572]["status"] == 2
    assert (again.drift_found, again.repaired) == (0, 0)


async def test_a_relay_change_whose_delivery_died_is_sent_again(
    database_url: str, relay_app: RelayApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    with fakes() as fake:
        settings = settings_for(database_url, fake, delivery=DeliverySettings(max_attempts=1))
        async with started(relay_app, sessionmaker, settings) as relay:
            reference = await relay.declare(severity="SEV1", affects_end_users=True)
            await relay.move(reference, "investigating")
            pagerduty_id = await relay.pagerduty_id(reference)
            await relay.reconcile("pagerduty")
            fake.pagerduty.failing.add(f"/incidents/{pagerduty_id}")
            await relay.move(reference, "resolved", **DURABLE)  # the resolve delivery dies
            fake.pagerduty.failing.clear()
            assert fake.pagerduty.incidents[pagerduty_id]["status"] == "acknowledged"

            [run] = await relay.reconcile("pagerduty")
            [again] = await relay.reconcile("pagerduty")
            notes = await relay.timeline(reference, "reconciliation")

    # PagerDuty's log never mentions it: the Relay side of the change is what sends the run to look.
    assert (run.drift_found, run.repaired) == (1, 1)
    assert fake.pagerduty.incidents[pagerduty_id]["status"] == "resolved"
    assert notes == [
        "Reconciliation: PagerDuty incident #1 is acknowledged in PagerDuty while INC-1 is resolved; "
        "setting it resolved again."
    ]
    assert (again.drift_found, again.repaired) == (0, 0)


async def test_one_provider_down_is_an_error_on_its_run_and_the_others_still_run(
    database_url: str, relay_app: RelayApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    with fakes() as fake:
        async with started(relay_app, sessionmaker, settings_for(database_url, fake)) as relay:
            reference = await relay.declare(severity="SEV2")
            await relay.link_ticket(fake.freshdesk, 30573, reference)
            first = await relay.reconcile()
            fake.pagerduty.failing.add("/log_entries")
            down = await relay.reconcile()
            fake.pagerduty.failing.clear()
            back = await relay.reconcile("pagerduty")

    failed = next(run for run in down if run.provider == "pagerduty")
    assert failed.status == "failed"
    assert failed.errors == 1
    assert failed.error is not None
    assert "HTTP 500 from GET /log_entries" in failed.error
    assert {run.provider: run.status for run in down if run.provider != "pagerduty"} == {
        "freshdesk": "finished",
        "slack": "finished",
    }
    # The failed window is read again: the next run starts where the last finished one ended.
    previous = next(run for run in first if run.provider == "pagerduty")
    assert previous.window_to is not None
    overlap = timedelta(seconds=ReconciliationSettings().overlap_seconds)
    assert back[0].window_from == previous.window_to - overlap
    assert back[0].status == "finished"


async def test_a_page_whose_trigger_webhook_was_lost_is_declared_as_the_webhook_would_have(
    database_url: str, relay_app: RelayApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    with fakes() as fake:
        async with started(relay_app, sessionmaker, settings_for(database_url, fake)) as relay:
            fake.pagerduty.add_incident("PLOST01", "login-api-5xx", "Login API error rate above 5%")
            [run] = await relay.reconcile("pagerduty")
            incident = await relay.incident("INC-1")
            pagerduty_id = await relay.pagerduty_id("INC-1")
            notes = await relay.timeline("INC-1", "reconciliation")
            [again] = await relay.reconcile("pagerduty")

    assert (run.drift_found, run.repaired) == (1, 1)
    assert (incident.title, incident.priority, pagerduty_id) == (
        "Login API error rate above 5%",
        "P1",
        "PLOST01",
    )
    assert notes == [
        "Reconciliation: PagerDuty incident #4812 (triggered) was not linked to any Relay incident: "
        "its webhook never arrived. Now it follows INC-1."
    ]
    assert (again.drift_found, again.repaired) == (0, 0)


async def test_a_deleted_summary_is_posted_and_pinned_again(
    database_url: str, relay_app: RelayApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    with fakes() as fake:
        async with started(relay_app, sessionmaker, settings_for(database_url, fake)) as relay:
            reference = await relay.declare(severity="SEV3")
            old = await relay.incident(reference)
            assert old.slack_channel_id is not None
            assert old.slack_summary_ts is not None
            fake.slack.delete(old.slack_channel_id, old.slack_summary_ts)
            [run] = await relay.reconcile("slack")
            new = await relay.incident(reference)
            assert new.slack_summary_ts is not None
            reposted = fake.slack.message(old.slack_channel_id, new.slack_summary_ts)
            wanted = await summary_text(relay, reference)
            [again] = await relay.reconcile("slack")

    assert (run.drift_found, run.repaired) == (1, 1)
    assert new.slack_summary_ts != old.slack_summary_ts
    assert reposted is not None
    assert reposted["text"] == wanted
    assert reposted["pinned_to"] == [old.slack_channel_id]
    assert (again.drift_found, again.repaired, again.calls) == (0, 0, 1)  # the new one, read back once
