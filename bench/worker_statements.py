"""SQL statements and transactions the worker spends per closed purchase (issue 12 point 2).

On a loaded shared machine the wall time of closing purchases says more about the other
processes than about the worker; the number of statements and commits per closure does not.
Builds a fresh database (PostgreSQL through ``--postgres``, dropped at the end; or SQLite),
loads the county demo, generates ``--purchases`` open purchases with their bids, moves the clock
past their deadlines and runs one tick of ``bidding.timeline.tick`` in this process, counting the
statements sent (``before_cursor_execute``) and the commits.

    .venv/bin/python bench/worker_statements.py --postgres postgresql://postgres@localhost:5432/postgres
    .venv/bin/python bench/worker_statements.py --postgres ... --root /path/to/older/checkout  # its tick

``--root`` runs the tick of another checkout (a version before a change); the data is generated
by this one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from login_burst import MARKET, ROOT, database


async def measure(url: str) -> tuple[int, float, int, int]:
    from sqlalchemy import event

    from bidding import timeline
    from market import clock
    from market import db as dbmod
    from market.app import wire
    from market.settings import Settings

    settings = Settings.from_env()
    wire(settings)
    engine = dbmod.create_engine(url)
    counts = {"statements": 0, "commits": 0}

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _statement(*_args: object, **_kw: object) -> None:
        counts["statements"] += 1

    @event.listens_for(engine.sync_engine, "commit")
    def _commit(*_args: object) -> None:
        counts["commits"] += 1

    clock.set_offset(timedelta(days=11))
    started = time.perf_counter()
    try:
        applied = await timeline.tick(dbmod.session_factory(engine), settings, clock.now())
    finally:
        await engine.dispose()
    return applied, time.perf_counter() - started, counts["statements"], counts["commits"]


async def generate(url: str, purchases: int) -> None:
    from market import db as dbmod
    from oversight import bulk

    engine = dbmod.create_engine(url)
    try:
        await bulk.generate(dbmod.session_factory(engine), purchases, all_open=True, seed=7)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="ADMIN_URL", help="a fresh PostgreSQL database; default: SQLite")
    parser.add_argument("--purchases", type=int, default=200)
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose tick runs")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        applied, took, statements, commits = asyncio.run(measure(args.child))
        print(
            f"closed {applied} in {took:.1f} s: {statements} statements ({statements / max(applied, 1):.1f} per "
            f"closure), {commits} commits ({commits / max(applied, 1):.2f} per closure)"
        )
        return
    with tempfile.TemporaryDirectory(prefix="worker-statements-") as tmp, database(args.postgres, tmp) as url:
        env = {**os.environ, "MARKET_VAR_DIR": tmp, "MARKET_DATABASE_URL": url, "MARKET_RUN_WORKER_IN_APP": "0"}
        os.environ.update(env)
        subprocess.run([*MARKET, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
        subprocess.run([*MARKET, "demo"], env=env, cwd=ROOT, check=True, capture_output=True)
        sys.path.insert(0, str(ROOT))
        asyncio.run(generate(url, args.purchases))
        child = {**env, "PYTHONPATH": args.root}
        script = str(Path(__file__).resolve())
        subprocess.run([sys.executable, script, "--child", url], env=child, cwd=args.root, check=True)


if __name__ == "__main__":
    main()
