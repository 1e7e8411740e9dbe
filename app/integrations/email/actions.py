"""Email deliveries."""

from typing import Any

from app.integrations.actions import Action, ActionContext, Result


async def send(ctx: ActionContext, payload: dict[str, Any]) -> Result:
    """Send a message to the recipients the payload names, from the configured sender."""
    return await ctx.clients.email.send(
        sender=ctx.settings.smtp.from_address,
        recipients=list(payload["to"]),
        subject=payload["subject"],
        text=payload["text"],
        message_id=payload["message_id"],
        headers=payload.get("headers"),
    )


ACTIONS: dict[str, Action] = {"email.send": send}
