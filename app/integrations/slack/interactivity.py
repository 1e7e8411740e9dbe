"""Slack interactivity: the declare form's submission and the buttons on the pinned summary."""

from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.deliveries import repository as deliveries_repo
from app.deliveries import service as deliveries
from app.errors import AppError
from app.incidents import service as incident_service
from app.incidents.models import IncidentStatus, Role
from app.incidents.schemas import IncidentCreate, TransitionIn
from app.integrations.slack import modals, operations
from app.integrations.slack import planning as slack_planning
from app.integrations.slack.commands import CommandError
from app.integrations.slack.messages import literal
from app.integrations.slack.operations import Caller

# Where each IncidentCreate field is asked in the form; the made-up title belongs to the functionality.
FIELD_BLOCKS = {"title": "functionality", "summary": "summary", "force": "force"}
MAX_ERROR_CHARS = 150


def _caller(payload: dict[str, Any], channel_id: str | None) -> Caller:
    user = payload.get("user") or {}
    return Caller(str(user.get("id")), user.get("username") or user.get("name"), channel_id)


def _block_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "functionality"
        block = FIELD_BLOCKS.get(field, field if field in modals.FIELDS else "functionality")
        errors.setdefault(block, str(err["msg"])[:MAX_ERROR_CHARS])
    return errors


async def submit_declaration(
    session: AsyncSession, payload: dict[str, Any], settings: Settings
) -> dict[str, Any] | None:
    """Declare from the form; problems go back into the form next to the field at fault."""
    view = payload.get("view") or {}
    caller = _caller(payload, modals.metadata(view).get("channel_id"))
    try:
        data = IncidentCreate.model_validate(modals.submitted(view))
    except ValidationError as exc:
        return {"response_action": "errors", "errors": _block_errors(exc)}
    actor = await operations.actor_of(session, caller, settings)
    try:
        async with session.begin_nested():
            incident = await operations.declare(session, data, actor, settings)
    except AppError as exc:
        message = operations.explain(exc).replace(
            "declare again with `--force` before the severity", "tick the box"
        )
        return {"response_action": "errors", "errors": {"functionality": message[: MAX_ERROR_CHARS * 2]}}
    if caller.channel_id:
        create = await deliveries_repo.by_key(session, slack_planning.key(incident, "create_channel"))
        text = literal(operations.declared_reply(incident, settings)) + " Join <#{}>."
        confirm = {
            "channel": caller.channel_id,
            "user": caller.user_id,
            "text": deliveries.dependency("channel_id", text),
        }
        await slack_planning.add(
            session,
            incident,
            settings,
            "slack.post_ephemeral",
            f"ephemeral:declared:{caller.user_id}",
            confirm,
            create,
        )
    return None


async def _press(
    session: AsyncSession, action_id: str, reference: str, caller: Caller, settings: Settings
) -> None:
    actor = await operations.actor_of(session, caller, settings)
    incident = await incident_service.get_or_404(session, reference)
    if action_id == "incident.acknowledge":
        if incident.status != IncidentStatus.declared:
            raise CommandError(f"{incident.reference} was already acknowledged: it is {incident.status}.")
        await operations.move(
            session, incident, TransitionIn(status=IncidentStatus.investigating), actor, settings
        )
    elif action_id == "incident.take_commander":
        assert actor.person_id is not None
        await operations.take_role(session, incident, Role.commander, actor.person_id, actor, settings)
    elif action_id == "incident.mitigated":
        await operations.move(
            session, incident, TransitionIn(status=IncidentStatus.mitigated), actor, settings
        )
    elif action_id == "incident.resolved":
        await operations.move(
            session, incident, TransitionIn(status=IncidentStatus.resolved), actor, settings
        )
    else:
        raise CommandError(f"Relay does not know the button {action_id}.")


async def press(session: AsyncSession, payload: dict[str, Any], settings: Settings) -> str:
    """A button on the pinned summary; a refusal is explained to the presser alone."""
    channel_id = (payload.get("channel") or {}).get("id")
    caller = _caller(payload, channel_id)
    action = (payload.get("actions") or [{}])[0]
    action_id, reference = str(action.get("action_id")), str(action.get("value"))
    try:
        async with session.begin_nested():
            await _press(session, action_id, reference, caller, settings)
    except (AppError, CommandError, ValidationError) as exc:
        pressed_at = action.get("action_ts") or payload.get("trigger_id")
        if channel_id:
            await deliveries.add(
                session,
                provider="slack",
                action="slack.post_ephemeral",
                payload={"channel": channel_id, "user": caller.user_id, "text": operations.explain(exc)},
                idempotency_key=f"slack:ephemeral:{caller.user_id}:{pressed_at}",
                settings=settings.delivery,
            )
        return f"refused: {operations.explain(exc)}"
    return f"{action_id} on {reference}"
