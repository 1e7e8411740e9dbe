"""Request bodies for tests."""

from itertools import count
from typing import Any

_seq = count(1)


def declaration(**overrides: Any) -> dict[str, Any]:
    """A valid declaration with a functionality no other call has used."""
    n = next(_seq)
    body: dict[str, Any] = {
        "title": f"Customers cannot log in ({n})",
        "service": "auth-api",
        "functionality": f"Logging in {n}",
        "state": "down",
        "audience": "all users",
        "severity": "SEV2",
        "affects_end_users": False,
    }
    body.update(overrides)
    return body
