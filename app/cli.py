"""The ``relay`` command: run the service, manage tokens, and talk to a running Relay."""

import asyncio
import json
from typing import Annotated, Any

import httpx
import typer

from app.alerting.cli import integrations_app
from app.auth.models import Scope
from app.config import get_settings
from app.incidents.models import ImpactState, IncidentStatus, Severity

app = typer.Typer(help="Relay: incident-response coordination.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (stored hashed; shown once).", no_args_is_help=True)
incidents_app = typer.Typer(help="Incidents on a running Relay.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")
app.add_typer(incidents_app, name="incidents")
app.add_typer(integrations_app, name="integrations")

UrlOpt = Annotated[str, typer.Option("--url", envvar="RELAY_URL", help="Relay's base URL.")]
TokenOpt = Annotated[str, typer.Option("--token", envvar="RELAY_TOKEN", help="An API token.")]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Run the API server."""
    import uvicorn

    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers)


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Stop once the queue is empty.")] = False,
) -> None:
    """Run an ARQ worker: deliveries, the sweep, and the process clock."""
    from arq import run_worker

    from app.jobs.worker import WorkerSettings, redis_settings

    run_worker(WorkerSettings, redis_settings=redis_settings(get_settings()), burst=burst)  # type: ignore[arg-type]


@app.command()
def migrate(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply database migrations."""
    from app.db import migrations

    migrations.upgrade(revision=revision)
    typer.echo(f"database at {revision}")


async def _with_session(work: Any) -> Any:
    from app.db.session import create_engine, create_sessionmaker, unit_of_work

    engine = create_engine(get_settings().database.url)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Option(help="Who or what uses the token.")],
    scope: Annotated[Scope, typer.Option(help="read, write or admin.")] = Scope.write,
    person_id: Annotated[int | None, typer.Option(help="The person acting with it.")] = None,
) -> None:
    """Create an API token and print it (it cannot be shown again)."""
    from app.auth.service import create_token

    async def work(session: Any) -> str:
        _, secret = await create_token(session, name=name, scope=scope, person_id=person_id)
        return secret

    typer.echo(asyncio.run(_with_session(work)))


@tokens_app.command("list")
def tokens_list() -> None:
    """List tokens (never their secrets)."""
    from app.auth.service import list_tokens

    for token in asyncio.run(_with_session(list_tokens)):
        state = "revoked" if token.revoked_at else "active"
        typer.echo(f"{token.id}\t{token.prefix}…\t{token.scope}\t{state}\t{token.name}")


@tokens_app.command("revoke")
def tokens_revoke(token_id: int) -> None:
    """Revoke a token."""
    from app.auth.service import revoke_token

    async def work(session: Any) -> bool:
        return await revoke_token(session, token_id)

    if not asyncio.run(_with_session(work)):
        typer.echo(f"no active token {token_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {token_id}")


def _call(method: str, url: str, token: str, path: str, **kwargs: Any) -> Any:
    return _send(method, url, token, path, **kwargs).json()


def _send(
    method: str, url: str, token: str, path: str, accept: str = "application/json", **kwargs: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Accept": accept}
    try:
        response = httpx.request(method, url.rstrip("/") + path, headers=headers, timeout=15, **kwargs)
    except httpx.HTTPError as exc:
        typer.echo(f"cannot reach Relay at {url}: {exc}", err=True)
        raise typer.Exit(2) from exc
    if response.is_error:
        try:
            body = response.json()
        except ValueError:
            body = {"detail": response.text}
        typer.echo(f"error {response.status_code}: {body.get('detail') or body.get('title')}", err=True)
        for error in body.get("errors", []):
            typer.echo(f"  {error.get('field')}: {error.get('message')}", err=True)
        raise typer.Exit(1)
    return response


def _line(incident: dict[str, Any]) -> str:
    return (
        f"{incident['reference']}\t{incident['status']}\t{incident['severity']}\t"
        f"{incident['priority']}\t{incident['title']}"
    )


@app.command()
def declare(
    title: Annotated[str, typer.Option(help="What is happening.")],
    service: Annotated[str, typer.Option(help="The impacted service.")],
    functionality: Annotated[str, typer.Option(help="The functionality that is broken.")],
    state: Annotated[ImpactState, typer.Option(help="down, degraded or insecure.")],
    audience: Annotated[str, typer.Option(help="Who is affected, e.g. 'all users'.")],
    severity: Annotated[Severity, typer.Option(help="SEV1, SEV2 or SEV3.")],
    url: UrlOpt,
    token: TokenOpt,
    affects_end_users: Annotated[bool, typer.Option(help="End users feel it (P1).")] = False,
    summary: Annotated[str | None, typer.Option(help="Impact summary.")] = None,
    force: Annotated[bool, typer.Option(help="Declare despite an open incident on the same thing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the incident as JSON.")] = False,
) -> None:
    """Declare an incident on a running Relay."""
    body = {
        "title": title,
        "service": service,
        "functionality": functionality,
        "state": state.value,
        "audience": audience,
        "severity": severity.value,
        "affects_end_users": affects_end_users,
        "summary": summary,
        "force": force,
    }
    incident = _call("POST", url, token, "/api/v1/incidents", json=body)
    if as_json:
        typer.echo(json.dumps(incident, indent=2))
    else:
        typer.echo(f"{incident['reference']} declared: {incident['summary_line']}")
        typer.echo(f"channel: #{incident['channel_name']}")


@incidents_app.command("list")
def incidents_list(
    url: UrlOpt,
    token: TokenOpt,
    status: Annotated[list[IncidentStatus] | None, typer.Option(help="Filter by status.")] = None,
    severity: Annotated[list[Severity] | None, typer.Option(help="Filter by severity.")] = None,
    service: Annotated[str | None, typer.Option(help="Filter by service.")] = None,
    limit: Annotated[int, typer.Option(help="How many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List incidents, newest first."""
    params: dict[str, Any] = {"limit": limit}
    if status:
        params["status"] = [s.value for s in status]
    if severity:
        params["severity"] = [s.value for s in severity]
    if service:
        params["service"] = service
    page = _call("GET", url, token, "/api/v1/incidents", params=params)
    if as_json:
        typer.echo(json.dumps(page["items"], indent=2))
        return
    for incident in page["items"]:
        typer.echo(_line(incident))


@incidents_app.command("show")
def incidents_show(
    reference: str,
    url: UrlOpt,
    token: TokenOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one incident."""
    incident = _call("GET", url, token, f"/api/v1/incidents/{reference}")
    if as_json:
        typer.echo(json.dumps(incident, indent=2))
        return
    typer.echo(incident["summary_line"])
    for key in (
        "reference",
        "title",
        "status",
        "severity",
        "priority",
        "service",
        "channel_name",
        "declared_at",
        "summary",
    ):
        typer.echo(f"{key:>14}: {incident.get(key) or '-'}")


@app.command()
def report(
    reference: str,
    url: UrlOpt,
    token: TokenOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Print an incident's blameless report (Markdown) from a running Relay."""
    accept = "application/json" if as_json else "text/markdown"
    response = _send("GET", url, token, f"/api/v1/incidents/{reference}/report", accept=accept)
    typer.echo(json.dumps(response.json(), indent=2) if as_json else response.text.rstrip("\n"))
