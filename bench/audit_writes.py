"""Unrelated audited writes in parallel against the audit chain's head row lock (issue 12.9).

Creates a fresh PostgreSQL database (through ``--postgres``, dropped at the end), migrates it and
adds a scratch table ``bench_rows`` (one row per writer). Then, for each concurrency level, that
many writers (asyncio tasks spread over ``--processes`` processes, one connection each) commit
back to back for ``--seconds``: each transaction updates the writer's own row — rows no other
writer touches — and, in the *audited* variant, records one audit event through
``market.audit.record`` as every state change does (so each commit takes the chain's head row
lock in ``before_commit``, appends the hashed event and moves the head). The *plain* variant
commits the same update without an audit event. It prints commits per second per level and
variant, and checks at the end that the chain verifies.

    .venv/bin/python bench/audit_writes.py --postgres postgresql://postgres@localhost:5432/postgres
    .venv/bin/python bench/audit_writes.py --postgres ... --levels 1,4,16 --seconds 5 --processes 2

Only the local database is contacted; every loop is bounded by time.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from login_burst import MARKET, ROOT, database


async def _writers(url: str, first: int, count: int, seconds: float, audited: bool) -> int:
    from sqlalchemy import text

    from market import audit
    from market import db as dbmod
    from market.actor import SYSTEM

    engine = dbmod.create_engine(url)
    factory = dbmod.session_factory(engine)
    commits = 0
    start = time.perf_counter()
    deadline = start + seconds

    async def writer(me: int) -> None:
        nonlocal commits
        n = 0
        while time.perf_counter() < deadline:
            async with factory() as session:
                await session.execute(text("UPDATE bench_rows SET n = n + 1 WHERE id = :me"), {"me": me})
                if audited:
                    audit.record(session, SYSTEM, "bench.write", "bench", f"{me}", {"n": n})
                await session.commit()
            n += 1
            commits += 1

    try:
        await asyncio.gather(*(writer(first + i) for i in range(count)))
    finally:
        await engine.dispose()
    return commits


def _process(args: tuple[str, int, int, float, bool]) -> int:
    return asyncio.run(_writers(*args))


def level(url: str, writers: int, processes: int, seconds: float, audited: bool) -> float:
    procs = max(1, min(processes, writers))
    share = [writers // procs + (1 if i < writers % procs else 0) for i in range(procs)]
    firsts = [sum(share[:i]) for i in range(procs)]
    with multiprocessing.get_context("spawn").Pool(procs) as pool:
        started = time.perf_counter()
        commits = pool.map(_process, [(url, firsts[i], share[i], seconds, audited) for i in range(procs)])
        took = time.perf_counter() - started
    return sum(commits) / min(took, seconds) if took else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="ADMIN_URL", required=True)
    parser.add_argument("--levels", default="1,2,4,8,16,32")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    with tempfile.TemporaryDirectory(prefix="audit-writes-") as tmp, database(args.postgres, tmp) as url:
        env = {**os.environ, "MARKET_VAR_DIR": tmp, "MARKET_DATABASE_URL": url}
        os.environ.update(env)
        subprocess.run([*MARKET, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
        import psycopg

        with psycopg.connect(args.postgres.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1], autocommit=True) as conn:
            conn.execute("CREATE TABLE bench_rows (id integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0)")
            conn.execute(f"INSERT INTO bench_rows (id) SELECT g FROM generate_series(0, {max(levels)}) g")
            sync = conn.execute("SHOW synchronous_commit").fetchone()
            fsync = conn.execute("SHOW fsync").fetchone()
        print(f"PostgreSQL synchronous_commit={sync[0] if sync else '?'} fsync={fsync[0] if fsync else '?'}")
        print("| writers | plain commits/s | audited commits/s | audited / plain |")
        print("|---:|---:|---:|---:|")
        for n in levels:
            plain = level(url, n, args.processes, args.seconds, audited=False)
            audited = level(url, n, args.processes, args.seconds, audited=True)
            print(f"| {n} | {plain:,.0f} | {audited:,.0f} | {audited / plain:.0%} |", flush=True)
        verify = subprocess.run([*MARKET, "audit", "verify"], env=env, cwd=ROOT, capture_output=True, text=True)
        print("audit verify:", (verify.stdout or verify.stderr).strip().splitlines()[-1:])


if __name__ == "__main__":
    main()
