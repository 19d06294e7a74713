"""Dependencies every controller may ask for."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncGenerator, Sequence
from typing import Annotated, Any, cast

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import Parameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from market.actor import PUBLIC, Actor
from market.audit.service import pending
from market.db import is_disconnect
from market.identity.principal import Principal
from market.settings import Network, Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_UNSET = object()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DISCONNECTED = "db_disconnected"  # scope state: a safe request lost its database connection


class WriteInRead(RuntimeError):
    """A safe request (GET, HEAD) tried to change something: reads never write (a bug, loudly)."""


async def provide_db(state: State, request: Request[Any, Any, Any]) -> AsyncGenerator[AsyncSession, None]:
    """One session per request. A safe request (GET, HEAD) reads in a read transaction
    (:func:`market.db.read_session_factory`) that is never committed: whatever it reads is the
    state as of now computed without writing, and a change it tried to make is an error. Any
    other request's session is committed once when the handler succeeds (redirects included),
    rolled back when anything raises. Handlers and services never commit themselves. A safe route
    that must record something (an audited export) says so with ``opt={"writes": True}``. A read
    that lost its connection (a restarted server, a dropped idle connection) is marked, and
    :class:`market.web.middleware.PlatformMiddleware` runs it once more on a new connection."""
    if request.method in SAFE_METHODS and not request.route_handler.opt.get("writes"):
        async with state.read_session_factory() as session:
            try:
                yield session
            except Exception as error:
                if is_disconnect(error):  # the middleware runs the request again on a new connection
                    request.scope.setdefault("state", {})[DISCONNECTED] = True
                raise
            finally:
                dirty = bool(session.new or session.dirty or session.deleted or pending(session))
                await session.rollback()
            if dirty:
                raise WriteInRead(f"{request.method} {request.url.path} tried to write in a read-only request")
        return
    async with state.session_factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


def provide_readers(state: State) -> async_sessionmaker[AsyncSession]:
    """Read sessions of their own, for a report that reads several independent aggregates at once
    (each on its own connection, so the database works on them in parallel)."""
    return cast(async_sessionmaker[AsyncSession], state.read_session_factory)


def provide_settings(state: State) -> Settings:
    return cast(Settings, state.settings)


def _ip(value: str) -> IPAddress | None:
    value = value.strip().strip('"')
    if value.startswith("["):  # Forwarded: for="[2001:db8::1]:4711"
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:  # 192.0.2.1:4711
        value = value.split(":")[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _forwarded_chain(headers: Any) -> list[str]:
    """The addresses the proxies appended, oldest first: ``Forwarded: for=…`` if present (RFC 7239),
    else ``X-Forwarded-For``; every header line counts, in order."""
    forwarded = headers.getall("forwarded", [])
    if forwarded:
        chain = []
        for line in forwarded:
            for element in line.split(","):
                for pair in element.split(";"):
                    key, _, value = pair.partition("=")
                    if key.strip().lower() == "for":
                        chain.append(value)
        return chain
    return [part for line in headers.getall("x-forwarded-for", []) for part in line.split(",")]


def resolve_client_ip(peer: str | None, headers: Any, trusted: Sequence[Network]) -> str | None:
    """The client's address: the direct peer, unless the peer is a trusted proxy
    (``MARKET_TRUSTED_PROXIES``); then the right-most address of the forwarded chain that is not
    itself a trusted proxy. Whatever a client writes into the headers itself stays to the left
    of what the trusted proxies appended, so it cannot pose as another address."""
    if peer is None or not trusted:
        return peer
    address = _ip(peer)
    if address is None or not any(address in net for net in trusted):
        return peer
    for raw in reversed(_forwarded_chain(headers)):
        hop = _ip(raw)
        if hop is None:  # garbage (or "unknown") where an address should be: the last good hop
            break
        address = hop
        if not any(hop in net for net in trusted):
            break
    return str(address)


def client_ip(request: Request[Any, Any, Any]) -> str | None:
    """The client's address for sessions, audit events, signatures and throttles."""
    cached = request.scope.get("state", {}).get("client_ip", _UNSET)
    if cached is not _UNSET:
        return cast("str | None", cached)
    settings = cast(Settings, request.app.state.settings)
    peer = request.client.host if request.client else None
    ip = resolve_client_ip(peer, request.headers, settings.trusted_proxy_networks)
    request.scope.setdefault("state", {})["client_ip"] = ip
    return ip


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
Readers = NamedDependency[async_sessionmaker[AsyncSession]]


# Query-parameter bounds shared by every list: an offset past any real list is refused as a field
# error (a number beyond 64 bits would otherwise reach the database and fail there).
MAX_OFFSET = 1_000_000_000
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)]
# a version number in a path (versions count from 1; a number beyond 32 bits names none)
VersionNumber = Annotated[int, Parameter(ge=1, le=2**31 - 1)]
