"""How long the worker takes to close purchases that all reach their deadline at once (issue 12.6).

Builds a fresh database (a PostgreSQL database created and dropped through ``--postgres``, or
SQLite in a temporary folder), loads the county demo (``market demo``) and generates
``--purchases`` open purchases with their bids (``oversight.bulk.generate(..., all_open=True)``:
deadlines 1 to 10 days ahead). Then it starts ``--workers`` worker processes (this script in its
``--child`` mode: the real ``market.worker.run_loop`` with every registered job, the clock set
11 days ahead, so every deadline has passed) and times, from their start, until no purchase is
still open past its deadline; it checks that every purchase was closed exactly once (one
``purchase.closed`` audit event each) and that the audit chain verifies. Workers are stopped at
the end.

    .venv/bin/python bench/worker_close.py --postgres postgresql://postgres@localhost:5432/postgres
    .venv/bin/python bench/worker_close.py --postgres postgresql://postgres@localhost:5432/postgres --workers 3
    .venv/bin/python bench/worker_close.py                       # SQLite
    .venv/bin/python bench/worker_close.py --postgres ... --root /path/to/older/checkout  # its worker

Only the local database is contacted; the wait is bounded by ``--timeout``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the workers run the code of --root (another checkout: a version before a change), the rest this one's
sys.path.insert(0, os.environ.get("BENCH_ROOT") or str(Path(__file__).resolve().parent.parent))
from login_burst import MARKET, ROOT, database

OFFSET = timedelta(days=11)


def child() -> None:
    """One worker process: the real loop, the clock ``OFFSET`` ahead, until SIGTERM."""
    from market import clock
    from market import db as dbmod
    from market.app import wire
    from market.settings import Settings
    from market.worker import run_loop

    settings = Settings.from_env()
    wire(settings)
    clock.set_offset(OFFSET)

    async def run() -> None:
        engine = dbmod.create_engine(settings.database_url)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await run_loop(dbmod.session_factory(engine), settings, name=f"worker-{os.getpid()}", stop=stop)
        finally:
            await engine.dispose()

    asyncio.run(run())


async def generate(url: str, purchases: int) -> dict[str, int]:
    from market import db as dbmod
    from oversight import bulk

    engine = dbmod.create_engine(url)
    try:
        return await bulk.generate(dbmod.session_factory(engine), purchases, all_open=True)
    finally:
        await engine.dispose()


async def still_open(url: str) -> tuple[int, int]:
    """(open purchases past the moved deadline, purchase.closed events)."""
    from sqlalchemy import text

    from market import db as dbmod

    engine = dbmod.create_engine(url)
    try:
        async with engine.connect() as conn:
            moment = (await conn.execute(text("SELECT 1"))).scalar()  # warm the connection
            assert moment == 1
            from market import clock

            target = clock.now() + OFFSET - timedelta(minutes=1)
            open_ = (
                await conn.execute(
                    text("SELECT count(*) FROM purchases WHERE status = 'open' AND bid_deadline <= :t"), {"t": target}
                )
            ).scalar_one()
            closed = (
                await conn.execute(text("SELECT count(*) FROM audit_events WHERE action = 'purchase.closed'"))
            ).scalar_one()
            return int(open_), int(closed)
    finally:
        await engine.dispose()


async def counts(url: str) -> tuple[int, int, int]:
    """(purchase.closed events, distinct purchases closed, purchases opened)."""
    from sqlalchemy import text

    from market import db as dbmod

    engine = dbmod.create_engine(url)
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT count(*), count(DISTINCT entity_id) FROM audit_events WHERE action = 'purchase.closed'"
                    )
                )
            ).one()
            opened = (await conn.execute(text("SELECT count(*) FROM purchases WHERE opened_at IS NOT NULL"))).scalar()
            return int(row[0]), int(row[1]), int(opened or 0)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="ADMIN_URL", help="a fresh PostgreSQL database; default: SQLite")
    parser.add_argument("--purchases", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose worker runs")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return
    with tempfile.TemporaryDirectory(prefix="worker-close-") as tmp, database(args.postgres, tmp) as url:
        env = {**os.environ, "MARKET_VAR_DIR": tmp, "MARKET_DATABASE_URL": url, "MARKET_RUN_WORKER_IN_APP": "0"}
        os.environ.update(env)
        subprocess.run([*MARKET, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
        subprocess.run([*MARKET, "demo"], env=env, cwd=ROOT, check=True, capture_output=True)
        t0 = time.monotonic()
        made = asyncio.run(generate(url, args.purchases))
        took = time.monotonic() - t0
        print(f"generated {made.get('purchases')} open purchases, {made.get('bids')} bids in {took:.1f} s")
        due, closed_before = asyncio.run(still_open(url))
        print(f"{due} purchases will be past their deadline; {args.workers} worker process(es) of {args.root}")
        started = time.monotonic()
        child_env = {**env, "BENCH_ROOT": args.root, "PYTHONPATH": args.root}
        workers = [
            subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--child"],
                env=child_env,
                cwd=args.root,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(args.workers)
        ]
        try:
            remaining = due
            while remaining and time.monotonic() - started < args.timeout:
                time.sleep(0.2)
                remaining, _closed = asyncio.run(still_open(url))
            took = time.monotonic() - started
        finally:
            for w in workers:
                w.send_signal(signal.SIGTERM)
            for w in workers:
                try:
                    w.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    w.kill()
        events, distinct, _opened = asyncio.run(counts(url))
        print(
            f"closed {due - remaining} of {due} in {took:.1f} s ({(due - remaining) / took:.0f} per second); "
            f"purchase.closed events: {events - closed_before} new, {distinct} distinct purchases of {events} events"
        )
        verify = subprocess.run([*MARKET, "audit", "verify"], env=env, cwd=ROOT, capture_output=True, text=True)
        print("audit verify:", (verify.stdout or verify.stderr).strip().splitlines()[-1:])
        if remaining or events != distinct:
            sys.exit(1)


if __name__ == "__main__":
    main()
