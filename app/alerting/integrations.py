"""Integrations: created by an admin, each with a key for its URL and a secret shown once."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.alerting import repository as repo
from app.alerting import verification
from app.alerting.models import Integration
from app.alerting.schemas import IntegrationCreate, IntegrationCreated, IntegrationPublic
from app.config import Settings
from app.errors import NotFound, ValidationFailed, field_error
from app.people.models import Team

SECRET_PREFIX = "rlyi_"


async def create(
    session: AsyncSession, data: IntegrationCreate, *, created_by: str | None
) -> tuple[Integration, str]:
    """Store a new integration; return it with its secret, which is shown only this once."""
    if data.team_id is not None and await session.get(Team, data.team_id) is None:
        raise ValidationFailed(
            f"There is no team {data.team_id}.", errors=[field_error("team_id", "unknown team")]
        )
    secret = verification.new_secret(SECRET_PREFIX)
    integration = Integration(
        name=data.name,
        key=verification.new_key(),
        service=data.service,
        team_id=data.team_id,
        severity=data.severity,
        secret_prefix=secret[:12],
        signing_secret=secret,
        created_by=created_by,
        created_at=clock.now(),
    )
    session.add(integration)
    await session.flush()
    return integration, secret


async def get_or_404(session: AsyncSession, integration_id: int) -> Integration:
    """A live integration, or 404."""
    integration = await repo.live_integration(session, integration_id)
    if integration is None:
        raise NotFound(f"There is no integration {integration_id}.")
    return integration


async def listing(session: AsyncSession) -> Sequence[Integration]:
    """Every live integration, oldest first."""
    return await repo.live_integrations(session)


async def delete(session: AsyncSession, integration: Integration) -> None:
    """Stop accepting alerts for an integration; its incidents and links stay."""
    integration.deleted_at = clock.now()
    await session.flush()


def public(integration: Integration, settings: Settings) -> IntegrationPublic:
    """The integration as the API shows it: never its secret."""
    assert integration.id is not None
    base = f"{settings.base_url.rstrip('/')}/api/v1/integrations/{integration.key}"
    return IntegrationPublic(
        **integration.model_dump(include=set(IntegrationPublic.model_fields)),
        events_url=f"{base}/events",
        alertmanager_url=f"{base}/alertmanager",
    )


def created(integration: Integration, secret: str, settings: Settings) -> IntegrationCreated:
    """The integration as its creator sees it once: with its secret."""
    return IntegrationCreated(**public(integration, settings).model_dump(), secret=secret)
