"""What an action receives: the process's clients and settings."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from app.config import Settings
from app.integrations.clients import Clients


@dataclass(frozen=True)
class ActionContext:
    clients: Clients
    settings: Settings


Result = dict[str, Any]
Action = Callable[[ActionContext, dict[str, Any]], Awaitable[Result]]
