"""/api/v1/integrations: admins manage alert sources; alert sources raise, update and resolve incidents."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response, status
from pydantic import BaseModel

from app.alerting import inbound, integrations, mapping
from app.alerting.formats import (
    ALERTMANAGER_EXAMPLES,
    EVENT_EXAMPLES,
    AlertmanagerWebhook,
    EventAccepted,
    EventIn,
)
from app.alerting.schemas import IntegrationCreate, IntegrationCreated, IntegrationPublic
from app.auth.deps import Admin, Authenticated
from app.dependencies import SessionDep, SettingsDep
from app.incidents.router import ERRORS, PROBLEM

router = APIRouter(prefix="/api/v1/integrations", tags=["integrations"])

AUTH = """
Authenticate in one of two ways:

* `Authorization: Bearer <secret>`, the secret shown when the integration was created; or
* a signature: `X-Relay-Timestamp: <Unix seconds>` and `X-Relay-Signature: v1=<hex>`, where `<hex>` is
  the lowercase hex HMAC-SHA256, keyed with the secret, of the timestamp, a dot, and the raw body
  (`{timestamp}.{body}`). A timestamp more than 5 minutes from Relay's clock is refused (no replays).
  In a shell: `printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -hex`.

The alert is applied within the request (not queued), so the 202 answer names the incident. Every call,
refused ones included, is kept in `GET /api/v1/webhooks/receipts?provider=integration`.
Errors are problem+json; a 422 lists each field at fault in `errors`.
"""

INBOUND_ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys((401, 404, 409, 413, 422), PROBLEM)
KeyPath = Annotated[str, Path(max_length=64, description="The integration's key.")]


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema with its ``$defs`` written in place, so that it stands alone in OpenAPI."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                rest = {k: v for k, v in node.items() if k != "$ref"}
                return {**walk(defs[ref.rsplit("/", 1)[-1]]), **walk(rest)}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result


def _body(model: type[BaseModel], examples: dict[str, dict[str, Any]]) -> dict[str, Any]:
    # The body is read raw (the signature covers its exact bytes), so its schema is documented by hand.
    schema = _inline(model.model_json_schema(by_alias=True))
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema, "examples": examples}},
        }
    }


@router.post(
    "/{key}/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=EventAccepted,
    responses=INBOUND_ERRORS,
    openapi_extra=_body(EventIn, EVENT_EXAMPLES),
    description=(
        "An alert event shaped like PagerDuty's Events API v2. `trigger` with a new `dedup_key` declares "
        "an incident (or joins the open one on the same service and functionality); `trigger` with an "
        "open `dedup_key` counts a repeat on one timeline entry; `acknowledge` moves a declared incident "
        "to investigating; `resolve` moves it to mitigated. Incidents never move backwards.\n" + AUTH
    ),
)
async def receive_event(
    key: KeyPath, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """Raise, acknowledge or resolve an incident from an alerting tool or script."""
    admitted = await inbound.admit(session, key, request, settings.webhook_max_body_bytes)
    if isinstance(admitted, Response):
        return admitted
    integration, raw = admitted
    event = await inbound.parse(session, request, raw, EventIn)
    if isinstance(event, Response):
        return event
    errors = mapping.event_errors(event, key)
    if errors:
        return await inbound.invalid(session, request, raw, errors)
    return await inbound.accept(
        session,
        integration,
        mapping.from_event(event),
        event_type=f"events.{event.event_action}",
        request=request,
        raw=raw,
        settings=settings,
    )


@router.post(
    "/{key}/alertmanager",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=EventAccepted,
    responses=INBOUND_ERRORS,
    openapi_extra=_body(AlertmanagerWebhook, ALERTMANAGER_EXAMPLES),
    description=(
        "Alertmanager's webhook (version 4). Each notification is one group, keyed by `groupKey`: "
        "`firing` triggers and `resolved` resolves, by the same rules as `/events`. The severity comes "
        "from the `severity` common label (critical, error, warning, info), the functionality from "
        "`alertname`. Point a receiver at this URL with `http_config.authorization.credentials` set to "
        "the secret.\n" + AUTH
    ),
)
async def receive_alertmanager(
    key: KeyPath, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """Raise and resolve incidents from Alertmanager."""
    admitted = await inbound.admit(session, key, request, settings.webhook_max_body_bytes)
    if isinstance(admitted, Response):
        return admitted
    integration, raw = admitted
    body = await inbound.parse(session, request, raw, AlertmanagerWebhook)
    if isinstance(body, Response):
        return body
    return await inbound.accept(
        session,
        integration,
        mapping.from_alertmanager(body),
        event_type=f"alertmanager.{body.status}",
        request=request,
        raw=raw,
        settings=settings,
    )


admin = APIRouter(
    prefix="/api/v1/integrations", tags=["integrations"], responses=ERRORS, dependencies=[Authenticated]
)


@admin.post("", status_code=status.HTTP_201_CREATED)
async def create_integration(
    integration_in: IntegrationCreate, actor: Admin, session: SessionDep, settings: SettingsDep
) -> IntegrationCreated:
    """Add an alert source (admin); the answer holds its secret, shown this once."""
    integration, secret = await integrations.create(session, integration_in, created_by=actor.name)
    return integrations.created(integration, secret, settings)


@admin.get("")
async def list_integrations(
    _actor: Admin, session: SessionDep, settings: SettingsDep
) -> list[IntegrationPublic]:
    """Every alert source, with the URLs to point it at (admin)."""
    return [integrations.public(i, settings) for i in await integrations.listing(session)]


@admin.get("/{integration_id}")
async def get_integration(
    integration_id: int, _actor: Admin, session: SessionDep, settings: SettingsDep
) -> IntegrationPublic:
    """One alert source (admin)."""
    return integrations.public(await integrations.get_or_404(session, integration_id), settings)


@admin.delete("/{integration_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_integration(integration_id: int, _actor: Admin, session: SessionDep) -> None:
    """Stop accepting alerts from a source (admin); its incidents stay as they are."""
    await integrations.delete(session, await integrations.get_or_404(session, integration_id))
