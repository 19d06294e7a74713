"""The `market` command against a real database."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from market.cli import main
from market.db import sync_url


def _count_events(database_url: str) -> int:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one())
    finally:
        engine.dispose()


def _run(database_url: str, tmp_path, *args: str):
    env = {"MARKET_DATABASE_URL": database_url, "MARKET_VAR_DIR": str(tmp_path), "MARKET_ARGON2_PROFILE": "fast"}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_users_create_demo_and_audit_verify(database_url, tmp_path):
    r = _run(database_url, tmp_path, "db", "upgrade")
    assert r.exit_code == 0 and "database at" in r.output
    r = _run(
        database_url,
        tmp_path,
        "users",
        "create",
        "--role",
        "owner",
        "--org",
        "云岭县住房和城乡建设局",
        "--username",
        "zjj",
        "--password",
        "Secret-2026-pass",
    )
    assert r.exit_code == 0, r.output
    again = _run(
        database_url,
        tmp_path,
        "users",
        "create",
        "--role",
        "owner",
        "--org",
        "云岭县住房和城乡建设局",
        "--username",
        "zjj",
        "--password",
        "Secret-2026-pass",
    )
    assert again.exit_code == 1 and "username" in again.output
    weak = _run(
        database_url,
        tmp_path,
        "users",
        "create",
        "--role",
        "admin",
        "--org",
        "x",
        "--username",
        "aaa",
        "--password",
        "short",
    )
    assert weak.exit_code == 1 and "password" in weak.output
    first = _run(database_url, tmp_path, "demo")
    assert first.exit_code == 0, first.output
    second = _run(database_url, tmp_path, "demo")
    assert second.exit_code == 0 and "core accounts created: 0" in second.output
    r = _run(database_url, tmp_path, "audit", "verify")
    assert r.exit_code == 0
    result = json.loads(r.output.strip().splitlines()[-1])
    assert result == {"ok": True, "events": _count_events(database_url), "first_bad_seq": None}
    assert result["events"] > 0


def test_worker_once_runs(database_url, tmp_path):
    from listings.ratings import sources
    from market import events, worker
    from market.app import wire
    from market.settings import Settings

    with worker.jobs.scoped(empty=True), events.handlers.scoped(), sources.scoped():
        wire(Settings())  # what the command wires
        ticks = [name for name, _tick in worker.jobs.items()]
    r = _run(database_url, tmp_path, "worker", "--once")
    assert r.exit_code == 0, r.output
    # every wired tick ran, and on an empty database none had anything to do
    assert json.loads(r.output.strip().splitlines()[-1]) == dict.fromkeys(ticks, 0)
    assert ticks
