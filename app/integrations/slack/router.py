"""Everything Slack adds to the API: its webhooks and the timeline import."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Response, status

from app.auth.deps import Authenticated, Reader, Writer
from app.config import Settings
from app.dependencies import SessionDep, SettingsDep
from app.incidents.router import ERRORS, IncidentDep
from app.integrations.http import build_http_client
from app.integrations.sandbox import SandboxTransport
from app.integrations.slack import client as slack_client
from app.integrations.slack import history, webhooks
from app.integrations.slack.history import ImportReport


@asynccontextmanager
async def views_client(app: FastAPI) -> AsyncIterator[None]:
    """The API process's own Slack client, for the one call made inside a request (``views.open``)."""
    settings: Settings = app.state.settings
    token = settings.slack.bot_token
    http = build_http_client(
        settings.slack.api_url,
        timeout=settings.slack.views_timeout_seconds,
        headers={"Authorization": f"Bearer {token.get_secret_value()}"} if token else None,
        transport=None if settings.slack.configured else SandboxTransport(slack_client.sandbox_response),
    )
    app.state.slack_views = slack_client.SlackClient(http)
    try:
        yield
    finally:
        await http.aclose()


imports = APIRouter(
    prefix="/api/v1/incidents/{reference}/timeline/import",
    tags=["investigation"],
    responses=ERRORS,
    dependencies=[Authenticated],
)


@imports.post("", status_code=status.HTTP_202_ACCEPTED)
async def import_timeline(
    incident: IncidentDep, _actor: Writer, session: SessionDep, settings: SettingsDep, response: Response
) -> ImportReport:
    """Backfill the timeline from the incident's Slack channel (history and threads) in the background.

    Idempotent by message: messages already on the timeline are counted, not added again. Follow
    ``Location`` for what the import has brought in so far.
    """
    import_id = await history.start(session, incident, settings)
    response.headers["Location"] = f"/api/v1/incidents/{incident.reference}/timeline/import/{import_id}"
    return ImportReport(
        import_id=import_id,
        status="running",
        channel=incident.slack_channel_id or "",
        pages=0,
        threads=0,
        messages_imported=0,
        replies_imported=0,
        already_present=0,
        skipped=0,
        errors=[],
    )


@imports.get("/{import_id}")
async def import_report(
    incident: IncidentDep, import_id: str, _actor: Reader, session: SessionDep
) -> ImportReport:
    """What an import of the Slack channel has brought onto the timeline so far."""
    return await history.report(session, incident, import_id)


router = APIRouter(lifespan=views_client)
router.include_router(webhooks.router)
router.include_router(imports)
