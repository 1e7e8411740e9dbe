"""From incident events to email deliveries: the one place email meets the incident domain."""

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.deliveries import service
from app.incidents.models import Incident

if TYPE_CHECKING:
    from app.deliveries.planning import StatusUpdate


def _domain(settings: Settings) -> str:
    return settings.smtp.from_address.rpartition("@")[2] or "relay.invalid"


async def on_status_update(
    session: AsyncSession, incident: Incident, update: "StatusUpdate", settings: Settings
) -> None:
    """Mail a status update to the incident mailing list when the list reads that audience."""
    smtp = settings.smtp
    if not smtp.mailing_list or update.audience not in smtp.audiences:
        return
    ref = incident.reference
    label = (update.template or "update").capitalize()
    key = f"{ref}:email:{update.key}"
    await service.add(
        session,
        provider="email",
        action="email.send",
        payload={
            "to": smtp.mailing_list,
            "subject": f"[{ref}] {label}: {incident.title} ({incident.severity})",
            "text": update.body,
            "message_id": f"<{key.replace(':', '.')}@{_domain(settings)}>",
            "headers": {"X-Relay-Incident": ref},
        },
        idempotency_key=key,
        settings=settings.delivery,
        incident_id=incident.id,
    )
