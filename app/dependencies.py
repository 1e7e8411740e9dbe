"""Request-scoped dependencies shared by every router."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.session import unit_of_work


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session: committed after the handler returns, before the response is sent."""
    async with unit_of_work(request.app.state.sessionmaker) as session:
        yield session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# scope="function" commits before the response goes out, so a 2xx always means "stored".
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
