"""Slack deliveries that read or change Relay: the pinned summary, people's names, results to keep."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.session import unit_of_work
from app.deliveries.models import Delivery
from app.incidents.models import Incident
from app.integrations.actions import Action, ActionContext, Result
from app.integrations.errors import PermanentError
from app.integrations.slack import history
from app.integrations.slack import repository as repo
from app.integrations.slack.planning import render_summary
from app.people.models import Person


async def update_summary(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """Rewrite the pinned summary with the incident as it is now, whichever change asked for it."""
    # Rendering at send time rather than at planning time means a late attempt never puts back an older
    # state: every attempt shows the latest committed incident.
    async with ctx.sessionmaker() as session:
        incident = await session.get(Incident, payload["incident_id"])
        if incident is None:
            raise PermanentError(f"incident {payload['incident_id']} does not exist")
        rendered = await render_summary(session, incident, ctx.settings)
        version = incident.version
    await ctx.clients.slack.chat_update(
        channel=payload["channel"], ts=payload["ts"], text=rendered["text"], blocks=rendered["blocks"]
    )
    return {"channel": payload["channel"], "ts": payload["ts"], "version": version}


def _display_name(user: dict[str, Any]) -> str | None:
    profile = user.get("profile") or {}
    name = (
        profile.get("real_name") or profile.get("display_name") or user.get("real_name") or user.get("name")
    )
    return str(name)[:200] if name else None


async def sync_person(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """Give someone first met in Slack their Slack name, unless somebody has named them since."""
    data = await ctx.clients.slack.users_info(user=payload["user"])
    name = _display_name(data.get("user") or {})
    if not name:
        return {"updated": False}
    placeholder = payload["placeholder"]
    async with unit_of_work(ctx.sessionmaker) as session:
        person = await session.get(Person, payload["person_id"])
        if person is None or person.id is None or person.name != placeholder or name == placeholder:
            return {"updated": False, "name": name}
        person.name = name
        await repo.rename_author(session, person.id, placeholder, name)
    return {"updated": True, "name": name}


async def apply_result(session: AsyncSession, delivery: Delivery, result: dict[str, Any]) -> None:
    """Remember the pinned summary's ts once it is posted in the incident's own channel."""
    if delivery.action != "slack.post_summary" or delivery.incident_id is None or not result.get("ts"):
        return
    incident = await session.get(Incident, delivery.incident_id)
    if incident is not None and result.get("channel") == incident.slack_channel_id:
        incident.slack_summary_ts = result["ts"]


ACTIONS: dict[str, Action] = {
    "slack.update_summary": update_summary,
    "slack.sync_person": sync_person,
    "slack.import_history": history.import_history,
    "slack.import_replies": history.import_replies,
}
