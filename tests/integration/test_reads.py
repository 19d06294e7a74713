"""Reads never write (issue 12.1): safe requests (GET, HEAD) read in read transactions — SQLite's
deferred ``BEGIN`` with ``query_only``, PostgreSQL's ``READ ONLY`` — and show each purchase as of
now (``effective_status``) without applying what the time engine owes; only the worker and
state-changing requests write."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import psycopg
import pytest
from litestar import get
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url

from bidding.models import Purchase
from market import db as dbmod
from market.actor import SYSTEM
from market.audit.models import AuditEvent
from market.audit.service import record
from market.web.deps import DbSession
from tests.integration.bidding_world import make_world

PUBLIC_READS = ["/", "/purchases", "/api/v1/purchases", "/api/v1/ocds/releases", "/catalog", "/api/v1/catalog"]


async def _audit_events(factory: Any) -> int:
    async with factory() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


async def test_public_reads_answer_while_another_process_holds_the_sqlite_write_lock(
    client, factory, settings, backend
):
    if backend != "sqlite":
        pytest.skip("SQLite's database-wide write lock; PostgreSQL readers never wait for writers")
    w = await make_world(client, factory, settings)
    p = await w.published()
    w.past_deadline(p)  # due, not yet applied: a read that applied it would need the write lock
    other = sqlite3.connect(make_url(settings.database_url).database, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        for path in [*PUBLIC_READS, f"/purchases/{p['id']}", f"/api/v1/purchases/{p['id']}"]:
            r = await client.get(path)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
        assert (await client.get(f"/api/v1/purchases/{p['id']}")).json()["status"] == "closing"
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_a_read_past_the_deadline_writes_nothing_and_reads_as_closing(client, factory, settings):
    w = await make_world(client, factory, settings)
    p = await w.published()
    for i, price in enumerate(["40000", "41000", "42000"]):
        assert (await w.bid(p["id"], i, price)).status_code == 201
    w.past_deadline(p)
    before = await _audit_events(factory)
    got = (await client.get(f"/api/v1/purchases/{p['id']}")).json()
    assert got["status"] == "closing" and got["opened_at"] is None and got["bid_count"] is None  # still sealed
    assert (await client.get("/api/v1/purchases?status=closing")).json()["total"] == 1
    assert (await client.get("/api/v1/purchases?status=open")).json()["total"] == 0
    assert (await client.get("/api/v1/purchases?status=evaluating")).json()["total"] == 0
    page = await client.get(f"/purchases/{p['id']}")
    assert page.status_code == 200 and "投标截止，待开标" in page.text
    for path in PUBLIC_READS:
        assert (await client.get(path)).status_code == 200, path
    assert await _audit_events(factory) == before  # no audit event …
    async with factory() as session:
        stored = await session.get(Purchase, uuid.UUID(p["id"]))
        assert stored is not None and stored.status == "open" and stored.opened_at is None  # … and no row written
    # the worker (and only it, or a state-changing request) applies the transition
    assert await w.tick() == 1
    assert await _audit_events(factory) > before
    assert (await client.get(f"/api/v1/purchases/{p['id']}")).json()["status"] == "evaluating"


@get("/test-only/transaction", include_in_schema=False)
async def _transaction(db: DbSession) -> dict[str, str]:
    if db.get_bind().dialect.name == "postgresql":
        return {"read_only": str(await db.scalar(text("SHOW transaction_read_only")))}
    return {"read_only": "on" if await db.scalar(text("PRAGMA query_only")) else "off"}


@get("/test-only/update", include_in_schema=False)
async def _update(db: DbSession) -> dict[str, str]:
    await db.execute(text("UPDATE purchases SET title = title"))
    return {"wrote": "yes"}


@get("/test-only/audit", include_in_schema=False)
async def _audit(db: DbSession) -> dict[str, str]:
    record(db, SYSTEM, "test.read_wrote", "purchase", None, {})
    return {"wrote": "yes"}


@pytest.mark.own_app
async def test_a_get_runs_in_a_read_only_transaction_and_a_write_in_it_fails_loudly(app, client, factory):
    for handler in (_transaction, _update, _audit):
        app.register(handler)
    assert (await client.get("/test-only/transaction")).json() == {"read_only": "on"}
    before = await _audit_events(factory)
    assert (await client.get("/test-only/update")).status_code == 500  # refused by the database
    assert (await client.get("/test-only/audit")).status_code == 500  # never silently dropped
    assert await _audit_events(factory) == before


def _terminate_pool_connections(database_url: str) -> int:
    """Ends every other server connection to the test database (a restart, a failover, an idle
    timeout), from a connection of its own; returns how many."""
    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.own_app
async def test_a_read_is_one_statement_on_a_read_only_connection_without_a_ping(app, client, engine, backend):
    """PostgreSQL: a read is its statements alone — no BEGIN, no ``SET TRANSACTION``, no ROLLBACK
    (autocommit on a connection whose transactions are read-only by default) — and the pool does
    not ping a connection it handed out a moment ago; a session that may write begins READ WRITE."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL's read-only transactions and its connection pool")
    app.register(_transaction)
    statements: list[str] = []

    def _seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    assert (await client.get("/test-only/transaction")).json() == {"read_only": "on"}  # fills the pool
    event.listen(engine.sync_engine, "before_cursor_execute", _seen)
    try:
        assert (await client.get("/test-only/transaction")).json() == {"read_only": "on"}
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", _seen)
    assert statements == ["SHOW transaction_read_only"]
    assert not engine.sync_engine.pool._pre_ping  # type: ignore[attr-defined]
    async with engine.connect() as conn:  # what the read session's connection was handed, at the driver
        raw = await conn.get_raw_connection()
        assert raw.driver_connection is not None
        assert raw.driver_connection.read_only is False  # writers: BEGIN READ WRITE
        assert str(await conn.scalar(text("SHOW transaction_read_only"))) == "off"
    async with dbmod.read_session_factory(engine)() as session:
        assert str(await session.scalar(text("SHOW transaction_read_only"))) == "on"
        raw = await (await session.connection()).get_raw_connection()
        assert raw.driver_connection is not None and raw.driver_connection.autocommit is True


async def test_a_read_after_the_database_dropped_its_connections_answers(client, factory, settings, backend):
    """Without a ping per checkout, a pooled connection may be dead: the read that meets it runs
    again on a new connection (the public list, a signed-in page) instead of failing."""
    if backend != "postgresql":
        pytest.skip("SQLite has no server connection to lose")
    w = await make_world(client, factory, settings)
    await w.published()
    for path in ("/api/v1/purchases", "/api/v1/ocds/releases", "/purchases"):
        assert (await client.get(path)).status_code == 200
        assert _terminate_pool_connections(settings.database_url) >= 1
        r = await client.get(path)
        assert r.status_code == 200, (path, r.text[:300])
    _terminate_pool_connections(settings.database_url)  # signed in: the middleware's own read, then the route's
    assert (await client.get("/api/v1/purchases/mine", headers=w.owner)).status_code == 200


async def test_a_connection_idle_for_a_while_is_pinged_and_replaced_when_dead(engine, settings, backend, monkeypatch):
    """The pool pings only a connection that sat idle; a dead one is replaced before use."""
    if backend != "postgresql":
        pytest.skip("SQLite has no server connection to lose")
    factory = dbmod.read_session_factory(engine)
    async with factory() as session:
        assert await session.scalar(text("SELECT 1")) == 1
    assert _terminate_pool_connections(settings.database_url) >= 1
    monkeypatch.setattr(dbmod, "IDLE_PING_SECONDS", 0.0)
    async with factory() as session:  # no retry here: the checkout's ping found it dead
        assert await session.scalar(text("SELECT 1")) == 1
        assert str(await session.scalar(text("SHOW transaction_read_only"))) == "on"
