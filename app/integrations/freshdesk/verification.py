"""Freshdesk does not sign webhooks: the automation rule sends a shared secret in ``X-Relay-Token``."""

import hmac
from collections.abc import Sequence

from pydantic import SecretStr

TOKEN_HEADER = "X-Relay-Token"


def token_refusal(presented: str | None, secrets: Sequence[SecretStr]) -> str | None:
    """Why the token is refused, or None when it matches one of the secrets (several during rotation)."""
    if not secrets:
        return "no webhook secret is configured (RELAY_FRESHDESK_WEBHOOK_SECRETS)"
    if not presented:
        return f"the {TOKEN_HEADER} header is missing"
    given = presented.strip().encode()
    # Compare against every secret, without stopping early, so timing says nothing about which matched.
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(given, secret.get_secret_value().encode())
    return None if matched else f"the {TOKEN_HEADER} header does not match any configured secret"
