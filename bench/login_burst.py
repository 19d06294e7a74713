"""/healthz latency while 40 people sign in at once, against idle (issue 10, point 3).

Starts the real server (``market serve``: uvicorn, the standard Argon2id profile as in
production, SQLite in a temporary folder) on a free port of 127.0.0.1, creates one account, then:

1. idle: ``--probes`` sequential GET /healthz, latencies recorded;
2. burst: ``--logins`` concurrent POST /api/v1/auth/login (right password, so that each one
   verifies a real hash and none is throttled) while the same sequential probes of /healthz run;

and prints the median and worst /healthz latency of both and their ratio. Every request goes to
127.0.0.1 only; the loops are bounded and the server is stopped at the end.

    .venv/bin/python bench/login_burst.py                 # --logins 40 --probes 40
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
MARKET = [sys.executable, "-m", "market.cli"]
PASSWORD = "bench-pass-2026"


@contextlib.contextmanager
def database(admin_url: str | None, tmp: str) -> Iterator[str]:
    if admin_url is None:
        yield f"sqlite:///{tmp}/market.db"
        return
    import psycopg

    name = f"market_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def probe(client: httpx.AsyncClient, count: int, stop: asyncio.Event | None = None) -> list[float]:
    latencies: list[float] = []
    for _ in range(count):
        if stop is not None and stop.is_set() and len(latencies) >= 5:
            break
        started = time.perf_counter()
        r = await client.get("/healthz")
        latencies.append(time.perf_counter() - started)
        if os.environ.get("BENCH_TRACE"):
            print(f"  probe at {started % 1000:8.2f}: {latencies[-1] * 1000:7.1f} ms", file=sys.stderr)
        assert r.status_code == 200, r.text
        await asyncio.sleep(0.01)
    return latencies


async def measure(base: str, logins: int, probes: int) -> tuple[list[float], list[float], float, list[int]]:
    # each probe on a new connection (as a load balancer's health check): connecting is measured
    # too, and no kept-alive connection can be closed under it by the server's keep-alive timeout
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        await probe(client, 5)  # warm up
        idle = await probe(client, probes)
        stop = asyncio.Event()

        async def one_login() -> int:
            async with httpx.AsyncClient(base_url=base, timeout=120) as own:
                r = await own.post("/api/v1/auth/login", json={"username": "bench", "password": PASSWORD})
                if os.environ.get("BENCH_TRACE"):
                    print(f"  login done at {time.perf_counter() % 1000:8.2f}", file=sys.stderr)
                return r.status_code

        async def burst() -> tuple[list[int], float]:
            started = time.perf_counter()
            statuses = await asyncio.gather(*(one_login() for _ in range(logins)))
            stop.set()
            return list(statuses), time.perf_counter() - started

        (statuses, took), during = await asyncio.gather(burst(), probe(client, probes * 10, stop))
    return idle, during, took, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logins", type=int, default=40)
    parser.add_argument("--probes", type=int, default=40)
    parser.add_argument(
        "--postgres",
        metavar="ADMIN_URL",
        help="use a fresh PostgreSQL database created (and dropped) through this server, "
        "e.g. postgresql://postgres@localhost:5432/postgres; default: SQLite",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="login-burst-") as tmp, database(args.postgres, tmp) as url:
        env = {
            **os.environ,
            "MARKET_VAR_DIR": tmp,
            "MARKET_DATABASE_URL": url,
            "MARKET_ARGON2_PROFILE": "standard",
            "MARKET_RUN_WORKER_IN_APP": "0",
        }
        subprocess.run([*MARKET, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
        subprocess.run(
            [*MARKET, "users", "create", "--role", "owner", "--org", "压测单位", "--username", "bench"],
            input=f"{PASSWORD}\n{PASSWORD}\n",
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        port = free_port()
        log = open(Path(tmp) / "server.log", "w")  # noqa: SIM115 - closed with the server
        server = subprocess.Popen(
            [*MARKET, "serve", "--port", str(port), "--no-worker"], env=env, cwd=ROOT, stdout=log, stderr=log
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            else:
                raise SystemExit("the server did not start")
            try:
                idle, during, took, statuses = asyncio.run(measure(base, args.logins, args.probes))
            except Exception:
                lines = (Path(tmp) / "server.log").read_text().splitlines()
                print("\n".join(line for line in lines if "disconnected" not in line)[-5000:], file=sys.stderr)
                raise
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()

    def p95(values: list[float]) -> float:
        return sorted(values)[max(0, round(len(values) * 0.95) - 1)]

    def ms(values: list[float]) -> str:
        return (
            f"median {statistics.median(values) * 1000:7.1f} ms, p95 {p95(values) * 1000:7.1f} ms, "
            f"worst {max(values) * 1000:7.1f} ms"
        )

    ok = sum(s == 200 for s in statuses)
    concurrency = os.environ.get("MARKET_PASSWORD_HASH_CONCURRENCY") or "default (2 x cores)"
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}, cores: {os.cpu_count()}, hashes: {concurrency}")
    print(f"/healthz idle        ({len(idle):3d} probes): {ms(idle)}")
    print(f"/healthz during burst ({len(during):3d} probes): {ms(during)}")
    print(f"{args.logins} logins: {ok} answered 200 in {took:.2f} s")
    print(
        f"ratio during/idle: median {statistics.median(during) / statistics.median(idle):.1f}x, "
        f"p95 {p95(during) / p95(idle):.1f}x, worst {max(during) / max(idle):.1f}x"
    )


if __name__ == "__main__":
    main()
