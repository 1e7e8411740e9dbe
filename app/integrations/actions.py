"""What an action receives: the process's clients and settings."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.integrations.clients import Clients


@dataclass(frozen=True)
class ActionContext:
    clients: Clients
    settings: Settings
    # For actions that change Relay itself (applying an inbound webhook); provider calls never use it.
    sessionmaker: async_sessionmaker[AsyncSession]


Result = dict[str, Any]
Action = Callable[[ActionContext, dict[str, Any]], Awaitable[Result]]
