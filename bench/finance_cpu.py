"""CPU seconds one finance summary costs, a figure the machine's load hardly moves (issue 12).

Runs :func:`oversight.services.summary` (whole period, grouped by owner) in this process against
``--database-url`` ``--runs`` times after one warm-up, each in its own read-only session whose
PostgreSQL backend may not start parallel workers (so that the backend does all of the
database's work), and prints the medians of this process's CPU time (the app's code), the
backend's CPU time (``/proc/<pid>/stat``: the database must run on this machine) and the wall
time. On an idle machine the summary takes about the sum of the two CPU times.

    .venv/bin/python bench/finance_cpu.py --database-url postgresql://postgres@localhost:5432/b_prov --runs 5

Only reads.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path

from sqlalchemy import text

from market.db import create_engine, read_session_factory
from market.settings import Settings
from oversight import services
from oversight.facts import Period


def backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def measure(url: str, runs: int) -> None:
    settings = Settings.from_env({"MARKET_DATABASE_URL": url})
    engine = create_engine(url)
    factory = read_session_factory(engine)
    rows = []
    for i in range(runs + 1):
        async with factory() as session:
            pid = int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)
            await session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
            db0, app0, wall0 = backend_cpu(pid), time.process_time(), time.perf_counter()
            await services.summary(session, settings, None, Period())
            db1, app1, wall1 = backend_cpu(pid), time.process_time(), time.perf_counter()
        if i:  # the first is a warm-up
            rows.append((app1 - app0, db1 - db0, wall1 - wall0))
    await engine.dispose()
    app, db, wall = (statistics.median(column) for column in zip(*rows, strict=True))
    print(f"median of {runs}: app CPU {app:.2f} s + database CPU {db:.2f} s = {app + db:.2f} s; wall {wall:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(measure(args.database_url, args.runs))


if __name__ == "__main__":
    main()
