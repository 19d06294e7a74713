"""Integration tests run through the real app against a real database, once on SQLite and once
on PostgreSQL. Every test gets a fresh database copied from a migrated template:

* SQLite: the migrated file is copied;
* PostgreSQL: ``CREATE DATABASE … TEMPLATE …`` from a database migrated once per run.

A test marked ``@pytest.mark.demo`` starts from a copy of the demo county instead (loaded once per
run and database into a second template, with its uploaded files), so that no test pays for
loading the demo itself.

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
from market.settings import Settings, configured

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
    uploads: Path | None = None  # the files the template's rows refer to (the demo's uploads)


def _url_of(backend: str, template: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{template}"
    return make_url(_pg_admin_url()).set(database=template).render_as_string(hide_password=False)


def _load_demo(url: str, var_dir: Path) -> Path:
    """The demo county loaded into the database at ``url``, as `market demo` loads it; returns the
    directory of its uploaded files."""
    import asyncio

    from market.app import demo_loaders, wire

    settings = Settings(
        database_url=url,
        var_dir=var_dir,
        upload_dir=var_dir / "uploads",
        run_worker_in_app=False,
        argon2_profile="fast",
    ).validate()
    wire(settings)

    async def load() -> None:
        engine = dbmod.create_engine(url)
        try:
            async with dbmod.unit_of_work(dbmod.session_factory(engine)) as session:
                for loader in demo_loaders():
                    await loader(session, settings)
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(load())
    return settings.upload_dir


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


@pytest.fixture(scope="session")
def sqlite_demo_template(sqlite_template: Backend, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    folder = tmp_path_factory.mktemp("demo")
    path = folder / "demo.db"
    shutil.copyfile(sqlite_template.template, path)
    uploads = _load_demo(_url_of("sqlite", str(path)), folder)
    return Backend("sqlite", str(path), uploads)


@pytest.fixture(scope="session")
def postgres_demo_template(postgres_template: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    name = f"market_demo_{RUN_TOKEN}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template.template}"')
    uploads = _load_demo(_url_of("postgresql", name), tmp_path_factory.mktemp("demo"))
    yield Backend("postgresql", name, uploads)
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite" and request.node.get_closest_marker("postgres_only"):
        pytest.skip("this test is about PostgreSQL row locking; SQLite serialises all writers")
    return str(request.param)


@pytest.fixture
def template(backend: str, request: pytest.FixtureRequest) -> Backend:
    """The template this test's database is copied from: the demo county for ``@pytest.mark.demo``."""
    demo = request.node.get_closest_marker("demo") is not None
    name = {"sqlite": "sqlite", "postgresql": "postgres"}[backend]
    return request.getfixturevalue(f"{name}_demo_template" if demo else f"{name}_template")


@pytest.fixture
def database_url(backend: str, template: Backend, tmp_path: Path) -> Iterator[str]:
    if template.uploads is not None:  # the files the copied rows refer to, where `settings` keeps uploads
        shutil.copytree(template.uploads, tmp_path / "uploads")
    if backend == "sqlite":
        target = tmp_path / "market.db"
        shutil.copyfile(template.template, target)
        yield f"sqlite:///{target}"
        return
    name = f"market_t_{RUN_TOKEN}_{next(_counter)}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.template}"')
    yield make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Iterator[Settings]:
    """The test's settings, also the process's for the block (as the app and the CLI configure them)."""
    value = Settings(
        database_url=database_url,
        var_dir=tmp_path,
        upload_dir=tmp_path / "uploads",
        run_worker_in_app=False,
        argon2_profile="fast",
    ).validate()
    with configured(value):
        yield value


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
