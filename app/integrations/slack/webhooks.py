"""What Slack sends Relay: events, the /incident command, and interactivity. Verified before anything else."""

import json
from typing import Any
from urllib.parse import parse_qsl

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import clock
from app.config import Settings
from app.dependencies import SessionDep, SettingsDep
from app.errors import AppError, InvalidSignature, UnreadableBody, field_error
from app.integrations.errors import ProviderError
from app.integrations.slack import commands, interactivity, modals, operations, verification
from app.integrations.slack import repository as repo
from app.integrations.slack.client import SlackClient
from app.integrations.slack.commands import CommandError
from app.webhooks import service as receipts
from app.webhooks.models import ReceiptStatus, WebhookReceipt
from app.webhooks.responses import bounded_body, refused

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/webhooks/slack", tags=["slack"])
PROVIDER = "slack"
SIGNED: dict[int | str, dict[str, Any]] = {
    401: {"description": "The Slack signature is missing, wrong, or older than 5 minutes"}
}


async def _refuse(
    session: AsyncSession, request: Request, raw: bytes, *, status: int, field: str, reason: str
) -> JSONResponse:
    error_type = InvalidSignature if status == 401 else UnreadableBody
    error = error_type(f"{field}: {reason}.", errors=[field_error(field, reason)])
    return await refused(session, request, raw, error, provider=PROVIDER, reason=f"{field}: {reason}")


async def _verified(
    request: Request, session: AsyncSession, settings: Settings, raw: bytes
) -> JSONResponse | None:
    secret = settings.slack.signing_secret.get_secret_value() if settings.slack.signing_secret else None
    refusal = verification.refusal(secret, raw, request.headers, now=clock.now().timestamp())
    if refusal is None:
        return None
    return await _refuse(session, request, raw, status=401, field=refusal.field, reason=refusal.reason)


def _form(raw: bytes) -> dict[str, str]:
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))


async def _record(
    session: AsyncSession, request: Request, raw: bytes, settings: Settings, event_type: str
) -> WebhookReceipt:
    """Keep a command or an interaction; it is carried out in this request, so no job applies it."""
    recorded = await receipts.record(
        session,
        provider=PROVIDER,
        dedupe_key=None,
        event_type=event_type[:100],
        headers=request.headers,
        raw=raw,
        settings=settings.delivery,
        apply=False,
    )
    return recorded.receipt


@router.post("/events", responses=SIGNED)
async def slack_events(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Slack Events API: answers ``url_verification``; records each event once (``event_id``) for a job."""
    raw = await bounded_body(session, request, settings.webhook_max_body_bytes, provider=PROVIDER)
    if isinstance(raw, JSONResponse):
        return raw
    if refusal := await _verified(request, session, settings, raw):
        return refusal
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return await _refuse(session, request, raw, status=400, field="body", reason="not a JSON object")
    if body.get("type") == "url_verification":
        return JSONResponse({"challenge": body.get("challenge")})
    event = body.get("event") if isinstance(body.get("event"), dict) else {}
    assert isinstance(event, dict)
    kind = ".".join(str(part) for part in (event.get("type"), event.get("subtype")) if part) or str(
        body.get("type")
    )
    is_callback = body.get("type") == "event_callback"
    recorded = await receipts.record(
        session,
        provider=PROVIDER,
        dedupe_key=str(body["event_id"]) if is_callback and body.get("event_id") else None,
        event_type=kind[:100],
        headers=request.headers,
        raw=raw,
        settings=settings.delivery,
        apply=is_callback,
    )
    return JSONResponse({"ok": True, "duplicate": recorded.duplicate})


def _reply(text: str) -> JSONResponse:
    return JSONResponse({"response_type": "ephemeral", "text": text})


async def _open_form(request: Request, form: dict[str, str], settings: Settings) -> str | None:
    """Open the declare form now: its trigger_id dies within 3 seconds, so this cannot wait for a job."""
    trigger_id = form.get("trigger_id")
    if not trigger_id:
        return "Slack sent no trigger_id, so I cannot open the form. " + commands.DECLARE_USAGE
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with maker() as read:  # a short read of its own: no transaction stays open across the call below
        services = await repo.service_names(read, modals.MAX_OPTIONS)
    view = modals.declare_view(services=services, channel_id=form.get("channel_id"))
    client: SlackClient = request.app.state.slack_views
    try:
        await client.views_open(
            trigger_id=trigger_id, view=view, timeout=settings.slack.views_timeout_seconds
        )
    except ProviderError as exc:
        log.warning("slack_views_open_failed", error=exc.message)
        return f"I could not open the declare form ({exc.message}). " + commands.DECLARE_USAGE
    return None


@router.post("/commands", responses=SIGNED)
async def slack_command(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """The ``/incident`` slash command; the ephemeral reply says what happened or what was wrong."""
    raw = await bounded_body(session, request, settings.webhook_max_body_bytes, provider=PROVIDER)
    if isinstance(raw, JSONResponse):
        return raw
    if refusal := await _verified(request, session, settings, raw):
        return refusal
    form = _form(raw)
    if form.get("ssl_check") == "1":
        return Response(status_code=200)
    caller = operations.Caller(form.get("user_id", ""), form.get("user_name"), form.get("channel_id"))
    try:
        command = commands.parse(form.get("text", ""))
    except CommandError as exc:
        return _reply(exc.text)
    if command.verb == "help":
        return _reply(commands.HELP)
    if command.verb == "declare" and not command.args:
        failure = await _open_form(request, form, settings)
        receipt = await _record(session, request, raw, settings, "command.declare.form")
        receipt.status = ReceiptStatus.failed if failure else ReceiptStatus.applied
        receipt.reason = failure
        return _reply(failure) if failure else Response(status_code=200)
    receipt = await _record(session, request, raw, settings, f"command.{command.verb}")
    try:
        async with session.begin_nested():
            text, incident_id = await operations.run(session, command, caller, settings)
    except (AppError, CommandError, ValidationError) as exc:
        text = operations.explain(exc)
        receipt.status, receipt.reason = ReceiptStatus.failed, text
        return _reply(text)
    receipt.status, receipt.incident_id = ReceiptStatus.applied, incident_id
    return _reply(text)


@router.post("/interactivity", responses=SIGNED)
async def slack_interactivity(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """The declare form's submission and the pinned summary's buttons."""
    raw = await bounded_body(session, request, settings.webhook_max_body_bytes, provider=PROVIDER)
    if isinstance(raw, JSONResponse):
        return raw
    if refusal := await _verified(request, session, settings, raw):
        return refusal
    try:
        payload: Any = json.loads(_form(raw).get("payload", ""))
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        return await _refuse(session, request, raw, status=400, field="payload", reason="not a JSON object")
    kind = str(payload.get("type"))
    receipt = await _record(session, request, raw, settings, f"interactivity.{kind}")
    if (
        kind == "view_submission"
        and (payload.get("view") or {}).get("callback_id") == modals.DECLARE_CALLBACK
    ):
        answer = await interactivity.submit_declaration(session, payload, settings)
        if answer is not None:
            receipt.status, receipt.reason = ReceiptStatus.failed, json.dumps(answer.get("errors"))
            return JSONResponse(answer)
        receipt.status = ReceiptStatus.applied
    elif kind == "block_actions":
        receipt.reason = await interactivity.press(session, payload, settings)
        receipt.status = (
            ReceiptStatus.failed if receipt.reason.startswith("refused") else ReceiptStatus.applied
        )
    return Response(status_code=200)
