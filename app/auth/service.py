"""Issuing and checking API tokens. Tokens are random; only their SHA-256 is stored."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import clock
from app.auth.models import ApiToken, Scope
from app.people.models import Person

TOKEN_PREFIX = "rly_"
_TOUCH_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class Actor:
    """Who is making a request."""

    name: str
    scope: Scope
    person_id: int | None = None
    token_id: int | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(
    session: AsyncSession, *, name: str, scope: Scope, person_id: int | None = None
) -> tuple[ApiToken, str]:
    """Store a new token and return it with its secret, which is shown only this once."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        prefix=secret[:12],
        token_hash=hash_token(secret),
        scope=scope,
        person_id=person_id,
        created_at=clock.now(),
    )
    session.add(token)
    await session.flush()
    return token, secret


async def list_tokens(session: AsyncSession) -> list[ApiToken]:
    return list((await session.scalars(select(ApiToken).order_by(col(ApiToken.id)))).all())


async def revoke_token(session: AsyncSession, token_id: int) -> bool:
    token = await session.get(ApiToken, token_id)
    if token is None or token.revoked_at is not None:
        return False
    token.revoked_at = clock.now()
    return True


async def authenticate(session: AsyncSession, secret: str) -> Actor | None:
    """The actor behind a bearer token, or None when it is unknown or revoked."""
    token = await session.scalar(select(ApiToken).where(col(ApiToken.token_hash) == hash_token(secret)))
    if token is None or token.revoked_at is not None:
        return None
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        token.last_used_at = now
    name = token.name
    if token.person_id is not None:
        person = await session.get(Person, token.person_id)
        name = person.name if person else name
    return Actor(name=name, scope=Scope(token.scope), person_id=token.person_id, token_id=token.id)
