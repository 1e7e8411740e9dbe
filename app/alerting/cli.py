"""``relay integrations``: create and list alert sources on this Relay's database."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerting import integrations
from app.alerting.models import Integration
from app.alerting.schemas import IntegrationCreate
from app.config import get_settings
from app.errors import AppError
from app.incidents.models import Severity

T = TypeVar("T")
integrations_app = typer.Typer(
    help="Alert sources that raise incidents (the secret is shown once).", no_args_is_help=True
)


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from app.db.session import create_engine, create_sessionmaker, unit_of_work

    async def main() -> T:
        engine = create_engine(get_settings().database.url)
        try:
            async with unit_of_work(create_sessionmaker(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@integrations_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="What sends the alerts, e.g. 'Prometheus EU'.")],
    service: Annotated[str, typer.Option(help="The impacted service of its incidents.")],
    team_id: Annotated[
        int | None, typer.Option(help="The team that owns them, if not the service's.")
    ] = None,
    severity: Annotated[Severity, typer.Option(help="Used when an alert has no severity.")] = Severity.SEV2,
) -> None:
    """Create an integration and print its URLs and secret (the secret cannot be shown again)."""
    settings = get_settings()
    try:
        data = IntegrationCreate(name=name, service=service, team_id=team_id, severity=severity)
    except ValidationError as exc:
        typer.echo(f"error: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}", err=True)
        raise typer.Exit(1) from exc

    async def work(session: AsyncSession) -> tuple[Integration, str]:
        return await integrations.create(session, data, created_by="relay integrations create")

    try:
        integration, secret = _run(work)
    except AppError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    shown = integrations.created(integration, secret, settings)
    typer.echo(f"id: {shown.id}")
    typer.echo(f"events: {shown.events_url}")
    typer.echo(f"alertmanager: {shown.alertmanager_url}")
    typer.echo(f"secret: {secret}")


@integrations_app.command("list")
def listing() -> None:
    """List integrations (never their secrets)."""
    settings = get_settings()
    for integration in _run(integrations.listing):
        shown = integrations.public(integration, settings)
        typer.echo(
            f"{shown.id}\t{shown.name}\t{shown.service}\t{shown.severity}\t"
            f"{shown.secret_prefix}…\t{shown.events_url}"
        )
