"""Bearer-token authentication with read < write < admin scopes."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.models import Scope
from app.auth.service import Actor, authenticate
from app.dependencies import SessionDep
from app.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="An API token from `relay tokens create`.")


async def current_actor(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The caller behind the bearer token; 401 without a valid one."""
    if credentials is None:
        raise Unauthorized("Send an API token as 'Authorization: Bearer <token>'.")
    actor = await authenticate(session, credentials.credentials)
    if actor is None:
        raise Unauthorized("The API token is unknown or has been revoked.")
    return actor


def require(scope: Scope) -> Callable[..., Awaitable[Actor]]:
    """A dependency that lets through tokens holding at least ``scope``."""

    async def dependency(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if not actor.scope.allows(scope):
            raise Forbidden(f"This needs a token with the '{scope}' scope; this one has '{actor.scope}'.")
        return actor

    return dependency


# Routers list this first so that a caller without a token learns nothing, not even a 404.
Authenticated = Depends(current_actor)
Reader = Annotated[Actor, Depends(require(Scope.read))]
Writer = Annotated[Actor, Depends(require(Scope.write))]
Admin = Annotated[Actor, Depends(require(Scope.admin))]
