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

import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from market import db as dbmod
from market import migrations
from market.settings import Settings
from tests import databases

_counter = itertools.count(1)


@dataclass
class Backend:
    name: str
    template: str  # a file path (SQLite) or a database name (PostgreSQL)
    uploads: Path | None = None  # the files the template's rows refer to (the demo's uploads)


def _url_of(backend: str, template: str) -> str:
    return f"sqlite:///{template}" if backend == "sqlite" else databases.pg_url(template)


def _load_demo(url: str, var_dir: Path) -> Path:
    """The demo county loaded into the database at ``url`` as `market demo` loads it, then the
    worker run until nothing is left to do (due transitions, the documents' PDFs), as `make run`
    serves it; returns the directory of its uploaded and rendered files."""
    import asyncio

    from market import worker
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
            factory = dbmod.session_factory(engine)
            while any((await worker.run_once(factory, settings)).values()):
                pass
        finally:
            await engine.dispose()

    asyncio.run(load())
    return settings.upload_dir


# Templates are built once per run and shared by the xdist workers (tests/databases.py); the
# controlling process drops them when the run ends.


@pytest.fixture(scope="session")
def sqlite_template() -> Backend:
    def build() -> dict[str, Any]:
        path = databases.shared_folder() / "template.db"
        migrations.upgrade(f"sqlite:///{path}")
        return {"template": str(path)}

    return Backend("sqlite", databases.shared("sqlite-template", build)["template"])


@pytest.fixture(scope="session")
def postgres_template() -> Backend:
    def build() -> dict[str, Any]:
        name = f"market_tpl_{databases.run_token()}"
        try:
            databases.create_database(name)
        except psycopg.OperationalError as exc:  # pragma: no cover - the Makefile provides a server
            pytest.fail(f"PostgreSQL is not reachable at {databases.pg_admin_url()}: {exc}. Run `make test`.")
        migrations.upgrade(databases.pg_url(name))
        return {"template": name}

    return Backend("postgresql", databases.shared("postgres-template", build)["template"])


@pytest.fixture(scope="session")
def sqlite_demo_template(sqlite_template: Backend) -> Backend:
    def build() -> dict[str, Any]:
        folder = databases.shared_folder() / "sqlite-demo"
        folder.mkdir()
        path = folder / "demo.db"
        shutil.copyfile(sqlite_template.template, path)
        return {"template": str(path), "uploads": str(_load_demo(_url_of("sqlite", str(path)), folder))}

    built = databases.shared("sqlite-demo", build)
    return Backend("sqlite", built["template"], Path(built["uploads"]))


@pytest.fixture(scope="session")
def postgres_demo_template(postgres_template: Backend) -> Backend:
    def build() -> dict[str, Any]:
        name = f"market_demo_{databases.run_token()}"
        databases.create_database(name, postgres_template.template)
        folder = databases.shared_folder() / "postgres-demo"
        folder.mkdir()
        return {"template": name, "uploads": str(_load_demo(_url_of("postgresql", name), folder))}

    built = databases.shared("postgres-demo", build)
    return Backend("postgresql", built["template"], Path(built["uploads"]))


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
    name = f"market_t_{databases.run_token()}_{os.getpid()}_{next(_counter)}"
    databases.create_database(name, template.template)
    yield databases.pg_url(name)
    databases.drop_database_later(name)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The test's settings (the app, the CLI and the services are given them)."""
    return Settings(
        database_url=database_url,
        var_dir=tmp_path,
        upload_dir=tmp_path / "uploads",
        run_worker_in_app=False,
        argon2_profile="fast",
    ).validate()


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = dbmod.create_engine(settings.database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return dbmod.session_factory(engine)


# Building the app (≈500 route handlers, their signatures, the templates' environment) costs about
# half a second; each test process builds it once per request-size limit and points it at each
# test's settings and database (``market.app.bind``; nothing else in the app depends on them). A
# test that adds routes to its app is marked ``own_app`` and gets one built for it alone.
_built: dict[int, Any] = {}


@pytest.fixture
def app(settings: Settings, engine: AsyncEngine, request: pytest.FixtureRequest) -> Any:
    from market.app import bind, create_app, wire

    if request.node.get_closest_marker("own_app"):
        return create_app(settings, engine=engine)
    built = _built.get(settings.max_json_bytes)
    if built is None:
        built = _built[settings.max_json_bytes] = create_app(settings, engine=engine)
    else:
        wire(settings)
        bind(built, settings, engine)
    return built


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
