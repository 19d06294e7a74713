"""The composition root: builds the Litestar application from every package.

Inside ``market`` only this module, ``cli.py`` and the migrations import the domain packages
(an import-linter contract in ``make lint`` holds this); it also wires the events by which an
earlier layer triggers a later one, the worker jobs and the rating source.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import click
from litestar import Litestar
from litestar.config.response_cache import ResponseCacheConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.pydantic import PydanticPlugin
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bidding import api as bidding_api
from bidding import demo as bidding_demo
from bidding import notifications as bidding_notifications
from bidding import pages as bidding_pages
from bidding import timeline as bidding_timeline
from bidding import todo as bidding_todo
from bidding.cli import verify_draw
from bidding.events import PurchaseAwarded
from invoices import api as invoices_api
from invoices import contracts as invoices_contracts
from invoices import demo as invoices_demo
from invoices import documents as invoices_documents
from invoices import notifications as invoices_notifications
from invoices import pages as invoices_pages
from invoices import ratings as invoices_ratings
from invoices import todo as invoices_todo
from listings import api as listings_api
from listings import credit as listings_credit
from listings import demo as listings_demo
from listings import notifications as listings_notifications
from listings import organizations as listings_orgs
from listings import pages as listings_pages
from listings import ratings as listings_ratings
from listings import sanctions as listings_sanctions
from listings import storage as listings_storage
from listings import todo as listings_todo
from market import db as dbmod
from market import demo as core_demo
from market import events, todo, worker
from market.audit import anchors as audit_anchors
from market.audit import api as audit_api
from market.audit import pages as audit_pages
from market.audit.headwatch import HeadWatch
from market.identity import api as identity_api
from market.identity import pages as identity_pages
from market.notify import api as notify_api
from market.notify import delivery as notify_delivery
from market.notify import pages as notify_pages
from market.settings import Settings
from market.storage import storage_for
from market.web import etag, pages, shell, templating
from market.web.apidocs import LocalSwaggerPlugin
from market.web.csrf import check_csrf
from market.web.deps import provide_actor, provide_db, provide_principal, provide_readers, provide_settings
from market.web.fastpath import FastPath
from market.web.headers import security_headers
from market.web.middleware import PlatformMiddleware
from market.web.openapi import document_responses
from market.web.problems import EXCEPTION_HANDLERS
from market.worker import run_loop
from oversight import api as oversight_api
from oversight import demo as oversight_demo
from oversight import notifications as oversight_notifications
from oversight import pages as oversight_pages

log = logging.getLogger("market")

_HERE = Path(__file__).resolve().parent
PACKAGE_ROOTS = [
    _HERE,
    _HERE.parent / "listings",
    _HERE.parent / "bidding",
    _HERE.parent / "invoices",
    _HERE.parent / "oversight",
]


def template_dirs() -> list[Path]:
    return [root / "templates" for root in PACKAGE_ROOTS if (root / "templates").is_dir()]


# Every web module exports ``routes(settings)``; page modules also export ``NOTICES`` (what a
# page says after a successful form) and ``WORKSPACE_TILES`` (links on each role's dashboard).
API_MODULES: list[Any] = [
    identity_api,
    audit_api,
    notify_api,
    listings_api,
    bidding_api,
    invoices_api,
    oversight_api,
]
PAGE_MODULES: list[Any] = [
    shell,
    identity_pages,
    audit_pages,
    notify_pages,
    listings_pages,
    bidding_pages,
    invoices_pages,
    oversight_pages,
]


def route_handlers(settings: Settings) -> list[Any]:
    return [
        *(route for module in (*API_MODULES, *PAGE_MODULES) for route in module.routes(settings)),
        create_static_files_router(path="/static", directories=[_HERE / "static"], include_in_schema=False),
    ]


def notices() -> dict[str, str]:
    return pages.merge_notices(getattr(module, "NOTICES", {}) for module in PAGE_MODULES)


def workspace_tiles() -> list[pages.Tile]:
    tiles: list[pages.Tile] = []
    for module in PAGE_MODULES:
        tiles.extend(tile for tile in getattr(module, "WORKSPACE_TILES", []) if tile not in tiles)
    return tiles


# each package's to-do lists (``todo.TODO``: (role, query)), shown on the role's dashboard
TODO_MODULES: list[Any] = [listings_todo, bidding_todo, invoices_todo]


def workspace_todo() -> list[todo.Todo]:
    return [entry for module in TODO_MODULES for entry in module.TODO]


def wire(settings: Settings) -> None:
    """Subscribe the event handlers, register the worker jobs and the rating source of every
    package (idempotent: wiring again replaces what was wired)."""
    events.subscribe(PurchaseAwarded, invoices_contracts.award_handler(settings))
    listings_ratings.register_rating_source(invoices_ratings.directory_ratings)
    worker.register("listings.suspensions", listings_orgs.suspension_tick)
    worker.register("listings.uploads", listings_storage.sweep)
    worker.register("listings.violations", listings_sanctions.violations_tick)
    worker.register("listings.credit", listings_credit.tick)
    worker.register("bidding", bidding_timeline.tick)
    etag.due_sources.register("bidding", bidding_timeline.due_moments)
    worker.register("invoices.documents", invoices_documents.render_pending, queue="documents")
    worker.register("audit.anchors", audit_anchors.anchor_tick)
    worker.register("listings.notifications", listings_notifications.overdue_tick)
    worker.register("bidding.notifications", bidding_notifications.reminders_tick)
    worker.register("invoices.notifications", invoices_notifications.reminders_tick)
    worker.register("oversight.notifications", oversight_notifications.digest_tick)
    worker.register("notify.deliver", notify_delivery.deliver_tick)


def demo_loaders() -> list[Callable[[AsyncSession, Settings], Awaitable[dict[str, Any]]]]:
    """Demo data loaders in dependency order; each is idempotent."""
    return [core_demo.load, listings_demo.load, bidding_demo.load, invoices_demo.load, oversight_demo.load]


def cli_commands() -> list[click.Command]:
    """Commands that domain packages add to ``market``."""
    return [verify_draw]


def create_app(settings: Settings | None = None, *, engine: AsyncEngine | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    wire(settings)
    storage_for(settings)  # an unusable storage setting fails at start, not at the first upload

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        own_engine = engine is None
        the_engine = engine or dbmod.create_engine(settings.database_url)
        app.state.engine = the_engine
        app.state.session_factory = dbmod.session_factory(the_engine)
        app.state.read_session_factory = dbmod.read_session_factory(the_engine)
        task = None
        app.state.head_watch = None
        if settings.fast_reads and the_engine.dialect.name == "postgresql":
            app.state.head_watch = HeadWatch(settings.database_url)
            await app.state.head_watch.start()
        if settings.run_worker_in_app:
            task = asyncio.create_task(run_loop(app.state.session_factory, settings, name="in-app"))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if app.state.head_watch is not None:
                await app.state.head_watch.stop()
                app.state.head_watch = None
            if own_engine:
                await the_engine.dispose()

    app = Litestar(
        route_handlers=route_handlers(settings),
        lifespan=[lifespan],
        dependencies={
            "db": Provide(provide_db),
            "settings": Provide(provide_settings, sync_to_thread=False),
            "readers": Provide(provide_readers, sync_to_thread=False),
            "actor": Provide(provide_actor, sync_to_thread=False),
            "principal": Provide(provide_principal, sync_to_thread=False),
        },
        middleware=[PlatformMiddleware],
        before_request=check_csrf,
        before_send=[security_headers],
        exception_handlers=EXCEPTION_HANDLERS,
        template_config=TemplateConfig(
            directory=[*template_dirs()], engine=JinjaTemplateEngine, engine_callback=_configure_jinja
        ),
        plugins=[PydanticPlugin(prefer_alias=True)],
        openapi_config=OpenAPIConfig(
            title="Intermediary Service Supermarket API",
            version="1",
            description="中介服务超市 — public and authenticated JSON API (SPEC §6).",
            path="/schema",
            components=Components(security_schemes={"BearerToken": SecurityScheme(type="http", scheme="bearer")}),
            security=[{"BearerToken": []}],
            # Swagger UI from /static (no CDN, no inline script: the Content-Security-Policy holds)
            render_plugins=[LocalSwaggerPlugin()],
        ),
        request_max_body_size=settings.max_json_bytes,
        response_cache_config=ResponseCacheConfig(),
        debug=False,
    )
    document_responses(app)
    app.state.notices = notices()
    app.state.workspace_tiles = workspace_tiles()
    app.state.workspace_todo = workspace_todo()
    app.state.settings = settings
    app.state.head_watch = None  # the lifespan starts it (PostgreSQL, fast_reads)
    if engine is not None:
        bind(app, settings, engine)
    return app


def asgi(settings: Settings | None = None) -> FastPath:
    """What ``market serve`` serves: the application behind the fast path for repeated anonymous
    reads (:mod:`market.web.fastpath`; it answers only while the lifespan's head watch listens)."""
    return FastPath(create_app(settings))


def bind(app: Litestar, settings: Settings, engine: AsyncEngine) -> None:
    """Point a built app at these settings and this engine (what the lifespan does when it owns the
    engine): every handler, middleware and hook reads them from ``app.state`` per request, so one
    built app serves any database. The routes themselves do not depend on the settings; only the
    request body limit (``max_json_bytes``) is fixed when the app is built."""
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = dbmod.session_factory(engine)
    app.state.read_session_factory = dbmod.read_session_factory(engine)
    app.state.head_watch = None


def _configure_jinja(engine: JinjaTemplateEngine) -> None:
    templating.configure(engine.engine)
