"""The ``market`` command: serve, worker, db upgrade, db grant, users create, audit verify (--anchors),
audit keygen, demo, verify-draw."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from market import db as dbmod
from market import migrations
from market.actor import SYSTEM
from market.app import cli_commands, demo_loaders, wire
from market.identity.models import Role
from market.settings import Settings, SettingsError
from oversight import bulk

T = TypeVar("T")


def _settings() -> Settings:
    """The environment's settings, with the packages wired to them."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    wire(settings)
    return settings


def run_with_session(settings: Settings, fn: Callable[[AsyncSession], Awaitable[T]], *, commit: bool) -> T:
    async def runner() -> T:
        engine = dbmod.create_engine(settings.database_url)
        try:
            async with dbmod.unit_of_work(dbmod.session_factory(engine)) as session:
                result = await fn(session)
                if commit:
                    await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(runner())


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
def main(verbose: bool) -> None:
    """Intermediary Service Supermarket (中介服务超市)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-worker", is_flag=True, help="Do not run the time-transition loop inside the server.")
def serve(host: str, port: int, no_worker: bool) -> None:
    """Serve the web application and the API."""
    import uvicorn

    from market.app import asgi

    settings = _settings()
    if no_worker:
        settings = settings.with_(run_worker_in_app=False)
    app = asgi(settings)
    # the app's ~430,000 long-lived objects (route handlers, templates, mappers) leave the cyclic
    # collector's view: a full collection walked them all, a ~250 ms pause of whichever request
    # was running (the slowest of every ~15 OCDS pages); garbage made later is collected as before
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False, server_header=False)


@main.command()
@click.option("--once", is_flag=True, help="Apply what is due now, then exit.")
def worker(once: bool) -> None:
    """Apply due time transitions (deadlines, end of publicity) until stopped."""
    from market.storage import storage_for
    from market.worker import run_loop, run_once

    settings = _settings()
    storage_for(settings)  # an unusable storage setting fails at start

    async def runner() -> None:
        engine = dbmod.create_engine(settings.database_url)
        factory = dbmod.session_factory(engine)
        try:
            if once:
                click.echo(json.dumps(await run_once(factory, settings)))
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await run_loop(factory, settings, name="worker", stop=stop)
        finally:
            await engine.dispose()

    asyncio.run(runner())


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply the migrations (the only way the schema is created)."""
    settings = _settings()
    migrations.upgrade(settings.database_url, revision)
    click.echo(f"database at {migrations.current(settings.database_url)}")


@db_group.command("grant")
@click.argument("role")
def db_grant(role: str) -> None:
    """Give ROLE exactly the app's privileges (PostgreSQL; run as the tables' owner after upgrading).

    SELECT, INSERT, UPDATE, DELETE on the tables (SELECT, INSERT on the append-only ones),
    USAGE on the sequences; never ownership, so ROLE cannot disable a trigger. Idempotent.
    """
    from market.migrations.grants import GrantRefused, grant_app_role

    settings = _settings()
    try:
        granted = grant_app_role(settings.database_url, role)
    except GrantRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"granted {role}: read-write {len(granted.read_write)} tables, append-only {len(granted.append_only)} "
        f"({', '.join(granted.append_only)}), read-only {len(granted.read_only)}, sequences {len(granted.sequences)}"
    )


@main.group("users")
def users_group() -> None:
    """User accounts."""


@users_group.command("create")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--org", "org_name", required=True, help="Organisation name; created (approved) if new.")
@click.option("--username", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True, confirmation_prompt=True)
def users_create(role: str, org_name: str, username: str, password: str) -> None:
    """Create a user (and its organisation when it does not exist yet)."""
    from market.errors import DomainError
    from market.identity.services import ensure_user

    settings = _settings()
    try:
        user = run_with_session(
            settings,
            lambda s: ensure_user(
                s, SYSTEM, settings, role=Role(role), org_name=org_name, username=username, password=password
            ),
            commit=True,
        )
    except DomainError as exc:
        details = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        raise click.ClickException(f"{exc.title} {details}".strip()) from exc
    click.echo(f"created user {user.username} ({role}) in {org_name}")


@main.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@click.option(
    "--anchors",
    "anchors_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also check anchors saved earlier from GET /api/v1/audit/anchors (a JSON file).",
)
@click.option(
    "--public-key",
    "public_key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The key to check the anchors with (PEM or base64); default: the one saved with them.",
)
def audit_verify(anchors_file: Path | None, public_key_file: Path | None) -> None:
    """Recompute the hash chain; with --anchors, also check that every saved anchor's signature
    verifies and that the chain's event at its seq still has the anchored hash (which shows a
    rewritten history even when every later hash was recomputed). Exit 1 if anything fails."""
    from market.audit import anchors, signing
    from market.audit.service import verify

    key = None
    saved: list[anchors.SavedAnchor] = []
    if anchors_file is not None:
        try:
            key_text, saved = anchors.read_saved(json.loads(anchors_file.read_text(encoding="utf-8")))
            if public_key_file is not None:
                key_text = public_key_file.read_text(encoding="utf-8")
            if key_text is None:
                raise ValueError("the file carries no public_key: pass --public-key")
            key = signing.public_key_from_text(key_text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"{anchors_file}: {exc}") from exc

    async def check(session: AsyncSession) -> dict[str, Any]:
        result = await verify(session)
        out: dict[str, Any] = {"ok": result.ok, "events": result.events, "first_bad_seq": result.first_bad_seq}
        if key is not None:
            held = await anchors.check_saved(session, key, saved)
            out["anchors"] = {"ok": held.ok, "checked": len(saved), "held": held.anchors, "first_bad": held.first_bad}
            out["ok"] = result.ok and held.ok
        return out

    outcome = run_with_session(_settings(), check, commit=False)
    click.echo(json.dumps(outcome, ensure_ascii=False))
    if not outcome["ok"]:
        sys.exit(1)


@audit_group.command("keygen")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def audit_keygen(path: Path) -> None:
    """Write a new Ed25519 key for signing the audit anchors to PATH (never overwrites one);
    name it with MARKET_SIGNING_KEY_FILE."""
    from market.audit import signing

    if path.exists():
        click.echo(f"{path} exists; kept")
        return
    signing.generate(path)
    click.echo(f"wrote {path}")


@main.command()
@click.option(
    "--size",
    type=click.Choice(["county", "town", "province"]),
    default="county",
    show_default=True,
    help="county: the hand-made demo only; town (2,000 purchases) and province (50,000) add a generated "
    "marketplace on top of it, written by bulk inserts.",
)
@click.option("--purchases", type=click.IntRange(min=1), default=None, help="Generate this many purchases instead.")
@click.option("--seed", type=int, default=2026, show_default=True, help="Seed of the generated data.")
def demo(size: str, purchases: int | None, seed: int) -> None:
    """Load the demo marketplace (idempotent: run it as often as you like); with --size or
    --purchases, add a generated one of that size (each run adds another)."""
    settings = _settings()

    async def load(session: AsyncSession) -> dict[str, Any]:
        summary: dict[str, Any] = {}
        for loader in demo_loaders():
            summary.update(await loader(session, settings))
        return summary

    for key, value in run_with_session(settings, load, commit=True).items():
        click.echo(f"{key}: {value}")
    count = purchases if purchases is not None else bulk.SIZES.get(size)
    if count is None:
        return

    async def generate() -> dict[str, int]:
        engine = dbmod.create_engine(settings.database_url)
        try:
            generated = await bulk.generate(dbmod.session_factory(engine), count, seed=seed, progress=click.echo)
            await dbmod.refresh_statistics(engine)
            return generated
        finally:
            await engine.dispose()

    for key, value in asyncio.run(generate()).items():
        click.echo(f"generated {key}: {value}")


for extra in cli_commands():
    main.add_command(extra)


if __name__ == "__main__":  # pragma: no cover
    main()
