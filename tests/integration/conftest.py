"""Integration tests run through the real app against a real database, once on SQLite and once
on PostgreSQL. Every test gets a fresh database copied from a migrated template:

* SQLite: the migrated file is copied;
* PostgreSQL: ``CREATE DATABASE … TEMPLATE …`` from a database migrated once per run.

PostgreSQL is found at ``MARKET_TEST_DATABASE_URL``, else at localhost:5432 (``make test`` starts
a throwaway cluster when neither is there). If it cannot be reached the PostgreSQL half fails;
it is never skipped silently.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from market import db as dbmod
from market import migrations
from market.settings import Settings

DEFAULT_PG = "postgresql://postgres@localhost:5432/postgres"
RUN_TOKEN = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
_counter = itertools.count(1)


def _pg_admin_url() -> str:
    return os.environ.get("MARKET_TEST_DATABASE_URL") or DEFAULT_PG


def _pg_conninfo(url: str, database: str | None = None) -> str:
    parsed = make_url(url)
    if database:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def _pg_admin() -> Iterator[psycopg.Connection[Any]]:
    url = _pg_admin_url()
    with psycopg.connect(_pg_conninfo(url), autocommit=True, connect_timeout=5) as conn:
        yield conn


@dataclass
class Backend:
    name: str
    template: str  # a file path (SQLite) or a database name (PostgreSQL)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Backend:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    migrations.upgrade(f"sqlite:///{path}")
    return Backend("sqlite", str(path))


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[Backend]:
    name = f"market_tpl_{RUN_TOKEN}"
    try:
        with _pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:  # pragma: no cover - the Makefile provides a server
        pytest.fail(f"PostgreSQL is not reachable at {_pg_admin_url()}: {exc}. Run `make test`.")
    url = make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)
    migrations.upgrade(url)
    yield Backend("postgresql", name)
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite" and request.node.get_closest_marker("postgres_only"):
        pytest.skip("this test is about PostgreSQL row locking; SQLite serialises all writers")
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        template: Backend = request.getfixturevalue("sqlite_template")
        target = tmp_path / "market.db"
        shutil.copyfile(template.template, target)
        yield f"sqlite:///{target}"
        return
    template = request.getfixturevalue("postgres_template")
    name = f"market_t_{RUN_TOKEN}_{next(_counter)}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.template}"')
    yield make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Iterator[Settings]:
    """The test's settings, also made the ones services read (as the app and the CLI do)."""
    from market import settings as settings_mod

    value = Settings(
        database_url=database_url,
        var_dir=tmp_path,
        upload_dir=tmp_path / "uploads",
        run_worker_in_app=False,
        argon2_profile="fast",
    ).validate()
    previous = settings_mod._current
    settings_mod.configure(value)
    yield value
    settings_mod._current = previous


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = dbmod.create_engine(settings.database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return dbmod.session_factory(engine)


@pytest.fixture
def app(settings: Settings, engine: AsyncEngine) -> Any:
    from market.app import create_app

    return create_app(settings, engine=engine)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
