"""Dependencies every controller may ask for."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any, cast

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import Parameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from market.actor import PUBLIC, Actor
from market.identity.principal import Principal
from market.settings import Settings


async def provide_db(state: State) -> AsyncGenerator[AsyncSession, None]:
    """One session per request, committed once when the handler succeeds (redirects included),
    rolled back when anything raises. Handlers and services never commit themselves."""
    async with state.session_factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


def provide_settings(state: State) -> Settings:
    return cast(Settings, state.settings)


def client_ip(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    user = request.scope.get("user")
    if isinstance(user, Principal):
        return user.actor(client_ip(request))
    return Actor(user_id=None, org_id=None, role=PUBLIC.role, ip=client_ip(request))


def provide_principal(request: Request[Any, Any, Any]) -> Principal | None:
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


# Annotated names for handler parameters (Litestar injects dependencies by parameter name)
DbSession = NamedDependency[AsyncSession]
AppSettings = NamedDependency[Settings]
CurrentActor = NamedDependency[Actor]


# Query-parameter bounds shared by every list: an offset past any real list is refused as a field
# error (a number beyond 64 bits would otherwise reach the database and fail there).
MAX_OFFSET = 1_000_000_000
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)]
# a version number in a path (versions count from 1; a number beyond 32 bits names none)
VersionNumber = Annotated[int, Parameter(ge=1, le=2**31 - 1)]
