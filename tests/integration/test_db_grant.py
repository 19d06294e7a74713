"""The application does not own its tables: `market db grant ROLE` gives the app's role exactly
what it needs, and PostgreSQL itself refuses that role to switch off a trigger or edit an event."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Iterator

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from market import audit, clock
from market import db as dbmod
from market.actor import SYSTEM
from market.audit.anchors import anchor_tick
from market.audit.service import verify
from market.cli import main
from tests import databases

_roles = itertools.count(1)
PASSWORD = "app-role-secret"


def _cli(database_url: str, var_dir, *args: str):
    env = {"MARKET_DATABASE_URL": database_url, "MARKET_VAR_DIR": str(var_dir), "MARKET_ARGON2_PROFILE": "fast"}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def app_role(backend: str, database_url: str) -> Iterator[str]:
    if backend == "sqlite":
        pytest.skip("SQLite has no roles or privileges: whoever can open the file owns it")
    role = f"market_app_{databases.run_token()}_{os.getpid()}_{next(_roles)}".lower()
    with databases.pg_admin() as admin:
        admin.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{PASSWORD}'")
    yield role
    with psycopg.connect(_conninfo(database_url), autocommit=True) as owner:
        owner.execute(f'DROP OWNED BY "{role}"')  # its privileges in the test's database
    with databases.pg_admin() as admin:
        admin.execute(f'DROP ROLE "{role}"')


async def test_the_app_role_reads_and_writes_but_cannot_disable_a_trigger(app_role, database_url, settings, factory):
    async with factory() as session:
        audit.record(session, SYSTEM, "test.event", "thing", "before", {"i": 1})
        await session.commit()
    for _ in range(2):  # idempotent
        r = await asyncio.to_thread(_cli, database_url, settings.var_dir, "db", "grant", app_role)
        assert r.exit_code == 0, r.output
        assert "audit_events" in r.output and "audit_anchors" in r.output
    as_app = make_url(database_url).set(username=app_role, password=PASSWORD).render_as_string(hide_password=False)

    with psycopg.connect(_conninfo(as_app), autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (app_role,)
        # normal tables: read and write
        conn.execute("SELECT count(*) FROM organizations").fetchone()
        conn.execute("INSERT INTO registration_counters (client, window_start, accepted) VALUES ('x', now(), 1)")
        conn.execute("UPDATE registration_counters SET accepted = 2 WHERE client = 'x'")
        conn.execute("DELETE FROM registration_counters WHERE client = 'x'")
        # the guards: not the owner, so no ALTER TABLE; no UPDATE or DELETE on the audit trail
        for statement in (
            "ALTER TABLE audit_events DISABLE TRIGGER USER",
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
            "ALTER TABLE audit_anchors DISABLE TRIGGER USER",
            "ALTER TABLE contracts DISABLE TRIGGER USER",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="must be owner"):
                conn.execute(statement)
        for statement in (
            "UPDATE audit_events SET action = 'x' WHERE seq = 1",
            "DELETE FROM audit_events WHERE seq = 1",
            "TRUNCATE audit_events",
            "UPDATE audit_anchors SET seq = 0",
            "UPDATE alembic_version SET version_num = 'x'",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                conn.execute(statement)

    # the application itself runs as that role: events appended, an anchor signed, the chain intact
    app_settings = settings.with_(database_url=as_app)
    engine = dbmod.create_engine(as_app)
    try:
        app_factory = dbmod.session_factory(engine)
        async with app_factory() as session:
            audit.record(session, SYSTEM, "test.event", "thing", "as-app", {"i": 2})
            await session.commit()
        assert await anchor_tick(app_factory, app_settings, clock.now()) == 1
        async with app_factory() as session:
            assert (await verify(session)).ok
    finally:
        await engine.dispose()


def test_grant_refuses_what_cannot_be_the_app_role(backend, database_url, tmp_path):
    r = _cli(database_url, tmp_path, "db", "grant", "no_such_role_anywhere")
    assert r.exit_code == 1
    if backend == "sqlite":
        assert "PostgreSQL only" in r.output
        return
    assert "no role" in r.output
    superuser = make_url(databases.pg_admin_url()).username or "postgres"
    r = _cli(database_url, tmp_path, "db", "grant", superuser)
    assert r.exit_code == 1 and "superuser" in r.output
