"""The `market` command against a real database."""

from __future__ import annotations

import json

from click.testing import CliRunner

from market.cli import main


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
        "secret123",
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
        "secret123",
    )
    assert again.exit_code != 0 and "username" in again.output
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
    assert weak.exit_code != 0 and "password" in weak.output
    first = _run(database_url, tmp_path, "demo")
    assert first.exit_code == 0, first.output
    second = _run(database_url, tmp_path, "demo")
    assert second.exit_code == 0 and "core accounts created: 0" in second.output
    r = _run(database_url, tmp_path, "audit", "verify")
    assert r.exit_code == 0
    result = json.loads(r.output.strip().splitlines()[-1])
    assert result["ok"] is True and result["events"] >= 6


def test_worker_once_runs(database_url, tmp_path):
    r = _run(database_url, tmp_path, "worker", "--once")
    assert r.exit_code == 0, r.output
    assert isinstance(json.loads(r.output.strip().splitlines()[-1]), dict)
