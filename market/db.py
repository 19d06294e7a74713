"""Database access: engines, sessions, the unit of work and the column types every package uses.

* ``MARKET_DATABASE_URL`` takes plain URLs; the async driver is picked here
  (``sqlite`` → aiosqlite, ``postgresql`` → psycopg 3).
* SQLite transactions start with ``BEGIN IMMEDIATE`` so that writers queue on the database lock
  instead of failing with "database is locked" halfway through; PostgreSQL uses row locks.
* Read sessions (:func:`read_session_factory`, used by safe requests: GET and HEAD) never take
  the write lock: on SQLite a plain deferred ``BEGIN`` with ``PRAGMA query_only`` (a reader goes on
  answering while another process writes); on PostgreSQL no transaction at all: every pooled
  connection is opened with ``default_transaction_read_only=on``, read sessions run in autocommit
  (each statement its own read-only transaction: no BEGIN, no ROLLBACK, no SET — a trivial read
  is one round trip) and the sessions that may write begin ``READ WRITE`` (psycopg's
  ``read_only=False``, no statement of its own). A write in a read session is refused by the
  database.
* The PostgreSQL pool does not ping a connection on every checkout (a round trip per request):
  it pings only a connection that sat idle for :data:`IDLE_PING_SECONDS`, recycles connections
  after :data:`RECYCLE_SECONDS`, and a connection lost under a safe request is retried once on a
  new one (:func:`is_disconnect`, used by :mod:`market.web.middleware`).
* :func:`unit_of_work` rolls back unless the block commits; the web layer commits once per
  request when the handler succeeds.
* :class:`UTCDateTime` makes SQLite and PostgreSQL return the same aware UTC datetimes (the
  money column type is :class:`market.money.MoneyType`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import ARRAY, ColumnElement, DateTime, Select, String, any_, event, exc, func, literal, select, text
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from market.clock import ensure_aware

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata = SQLModel.metadata

READ_ONLY = "market_read_only"  # the execution option and session mark of read sessions
IDLE_PING_SECONDS = 10.0  # a pooled connection idle longer than this is pinged before use
RECYCLE_SECONDS = 1800  # and one older than this is replaced (server-side timeouts, failovers)
_CHECKED_IN = "market_checked_in"  # connection record info: when it last went back to the pool


def one_of(column: str, values: Iterable[str]) -> str:
    """The SQL of a CHECK constraint keeping ``column`` to ``values`` (strings or a StrEnum class)."""
    items = [getattr(v, "value", v) for v in values]
    return f"{column} IN ({', '.join(repr(v) for v in items)})"


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = ensure_aware(value)
        if dialect.name == "sqlite":
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return ensure_aware(value)


E = TypeVar("E", bound=StrEnum)


class StrEnumType(TypeDecorator[E]):
    """A coded column (a status, a kind, a role) typed with its :class:`StrEnum`: stored as the plain
    code in a ``VARCHAR(length)`` (a CHECK constraint keeps the database to the codes), read back as
    the enum member. A plain string is accepted where a member is (a code in a query, say)."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


def async_url(url: str) -> str:
    """The SQLAlchemy URL with the async driver for a plain ``sqlite:`` or ``postgresql:`` URL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return str(parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False))
    if backend in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")


def sync_url(url: str) -> str:
    """The SQLAlchemy URL with the synchronous driver (used by the migrations)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite").render_as_string(hide_password=False)
    if backend in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")


def ensure_sqlite_dir(url: str) -> None:
    """Create the directory of a SQLite database file (``var/`` on a fresh checkout)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def prepare_sqlite(sync_engine: Engine) -> None:
    """Foreign keys on, WAL journal, wait for the lock, and take the write lock at BEGIN."""

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")  # deferred: a reader never waits for the write lock
            conn.exec_driver_sql("PRAGMA query_only=ON")
            conn.info[READ_ONLY] = True
            return
        if conn.info.pop(READ_ONLY, False):
            conn.exec_driver_sql("PRAGMA query_only=OFF")
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def prepare_postgres(sync_engine: Engine) -> None:
    """Ping a pooled connection before use only when it sat idle (a busy pool pays no round trip
    for it); a dead one is replaced by the pool before anyone uses it. Read sessions are made
    read-only by psycopg's connection mode (:func:`read_session_factory`), not here."""

    @event.listens_for(sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN)
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            sync_engine.dialect.do_ping(dbapi_connection)  # in autocommit: it leaves no transaction open
        except Exception as e:
            if sync_engine.dialect.is_disconnect(e, dbapi_connection, None):  # type: ignore[arg-type]
                raise exc.DisconnectionError(str(e)) from e  # the pool opens a new connection
            raise


def is_disconnect(error: BaseException) -> bool:
    """Whether ``error`` is a lost database connection (SQLAlchemy has invalidated the pool's
    connections of before it): a safe request that met it can be run again on a new one."""
    return isinstance(error, exc.DBAPIError) and bool(error.connection_invalidated)


def _with_read_only_default(url: str) -> str:
    """The connection's ``options``: the URL's own (``?options=-c …``), then read-only transactions
    by default."""
    own = make_url(url).query.get("options")
    own = own[-1] if isinstance(own, tuple) else own
    return " ".join(part for part in (own, "-c default_transaction_read_only=on") if part)


def create_engine(url: str, *, echo: bool = False, pooled: bool = True) -> AsyncEngine:
    """The engine of ``url``; ``pooled=False`` for a process that connects once in a while (an
    export process): each session opens its own connection and closes it."""
    target = async_url(url)
    if target.startswith("sqlite"):
        ensure_sqlite_dir(url)
        engine = create_async_engine(target, echo=echo, poolclass=NullPool)
        prepare_sqlite(engine.sync_engine)
        return engine
    # every connection is read-only unless its transaction says otherwise: the sessions that may
    # write begin READ WRITE (psycopg's read_only=False), reads run in autocommit, one implicit
    # read-only transaction per statement — no BEGIN, no ROLLBACK, no SET of their own
    common: dict[str, Any] = {
        "connect_args": {"options": _with_read_only_default(url)},
        "execution_options": {"postgresql_readonly": False},
    }
    if pooled:
        engine = create_async_engine(
            target, echo=echo, pool_size=10, max_overflow=20, pool_recycle=RECYCLE_SECONDS, **common
        )
    else:
        engine = create_async_engine(target, echo=echo, poolclass=NullPool, **common)
    prepare_postgres(engine.sync_engine)
    return engine


async def refresh_statistics(engine: AsyncEngine) -> None:
    """Let the planner see bulk-loaded data: ``VACUUM ANALYZE`` on PostgreSQL (statistics, and the
    visibility map that index-only scans need), ``ANALYZE`` on SQLite. Autovacuum gets there too,
    minutes later; until then a freshly generated province is planned as if it were empty."""
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.exec_driver_sql("VACUUM ANALYZE")
        else:
            await conn.exec_driver_sql("ANALYZE")
            await conn.commit()


class MarketSession(Session):
    """The synchronous session behind every :class:`AsyncSession` of the platform.

    Hooks registered on this class (the audit trail writes its pending events in
    ``before_commit``) run for every transaction the platform commits.
    """


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=MarketSession)


def read_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for reads only (safe requests): read transactions that the database refuses to
    write in, and that never wait for SQLite's write lock. Marked so that code which would apply
    due transitions as it reads (see :func:`is_read_only`) leaves that to the worker."""
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        # no transaction: each statement is its own, read-only by the connections' default (see
        # create_engine) — at READ COMMITTED a transaction gave each statement its own snapshot anyway
        options["isolation_level"] = "AUTOCOMMIT"
    return async_sessionmaker(
        engine.execution_options(**options),
        expire_on_commit=False,
        sync_session_class=MarketSession,
        info={READ_ONLY: True},
    )


async def concurrently(
    session: AsyncSession,
    readers: async_sessionmaker[AsyncSession] | None,
    *jobs: Callable[[AsyncSession], Awaitable[Any]],
) -> list[Any]:
    """The results of ``jobs`` (each a coroutine function of a session), in order: the first on
    ``session``, the others at the same time, each on a read session of its own from ``readers``
    (its own connection: the database works on them in parallel); without ``readers``, one after
    the other on ``session``. For reports made of independent aggregates (the finance summary)."""
    if readers is None or len(jobs) < 2:
        return [await job(session) for job in jobs]

    async def alone(job: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        async with readers() as own:
            try:
                return await job(own)
            finally:
                await own.rollback()

    return list(await asyncio.gather(jobs[0](session), *(alone(job) for job in jobs[1:])))


async def distinct_values(session: AsyncSession, table: str, column: str) -> list[Any]:
    """The distinct non-null values of an indexed text column, found by walking its index — one probe
    per value (a "loose index scan" as a recursive query, on both databases) — instead of reading
    every row: a filter's choices over half a million audit events in a millisecond, not 150.
    ``table`` and ``column`` are names from the models, never from input."""
    if not (table.isidentifier() and column.isidentifier()):
        raise ValueError(f"{table}.{column}")
    walk = text(
        f"WITH RECURSIVE walk(v) AS (SELECT min({column}) FROM {table} "  # noqa: S608 - model names only
        f"UNION ALL SELECT (SELECT min({column}) FROM {table} WHERE {column} > walk.v) FROM walk "
        "WHERE walk.v IS NOT NULL) SELECT v FROM walk WHERE v IS NOT NULL"
    )
    return list((await session.execute(walk)).scalars())


def is_read_only(session: AsyncSession) -> bool:
    """Whether ``session`` is a read session (it must not change anything)."""
    return bool(session.info.get(READ_ONLY))


@contextlib.asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back unless the block calls ``await session.commit()``."""
    async with factory() as session:
        try:
            yield session
        finally:
            if session.in_transaction():
                await session.rollback()


async def fetch_page(session: AsyncSession, stmt: Select[Any], *, limit: int, offset: int) -> tuple[list[Any], int]:
    """One page of ``stmt``'s rows (first column) and the number of rows in all pages."""
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = await session.scalars(stmt.limit(limit).offset(offset))
    return list(rows), int(total)


def among(session: AsyncSession, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``column = ANY(:values)`` with the values as one array
    parameter: the statement's text does not grow with the list, so psycopg converts it once and
    the server prepares it once (a page's ``IN`` of 100 ids is 100 placeholders, re-expanded,
    re-parsed and re-planned on every request)."""
    items = list(values)
    if is_postgres(session):
        return cast(ColumnElement[bool], column == any_(literal(items, ARRAY(column.type))))
    return cast(ColumnElement[bool], column.in_(items))


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"
