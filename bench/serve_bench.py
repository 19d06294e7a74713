"""Requests per second and latency (p50, p99) of the main read routes, beside a bare Litestar
hello-world served the same way (issue 12.6).

Builds a fresh database (SQLite in a temporary folder, or a PostgreSQL database created and dropped
through ``--postgres``), loads the county demo (``market demo``) and, with ``--purchases N``, a
generated marketplace of N purchases on top (``market demo --purchases N``, timed); starts the real
server (``market serve --no-worker``: uvicorn, one process) and ``bench/hello_app.py`` under the same
uvicorn settings on free ports of 127.0.0.1 (``--database-url`` serves an existing database
instead, e.g. one filled by ``market demo --size province``); then, per route, ``--connections`` concurrent
keep-alive connections (httpx, one asyncio task each) send requests back to back for
``--seconds``, after a short warm-up, and it prints one Markdown table row per route.

    .venv/bin/python bench/serve_bench.py --postgres postgresql://postgres@localhost:5432/postgres
    .venv/bin/python bench/serve_bench.py --postgres postgresql://postgres@localhost:5432/postgres --purchases 5000
    .venv/bin/python bench/serve_bench.py                      # SQLite, county size
    .venv/bin/python bench/serve_bench.py --database-url postgresql://postgres@localhost:5432/b_prov  # as it is

Every request goes to 127.0.0.1 only; the loops are bounded by time; both servers are stopped at
the end. The load generator runs on the same machine as the servers, so it takes CPU from them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from login_burst import MARKET, ROOT, database, free_port


@dataclass
class Result:
    route: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        values = sorted(self.latencies)
        return values[min(len(values) - 1, max(0, round(len(values) * q) - 1))] * 1000 if values else float("nan")


async def load(
    base: str,
    path: str,
    headers: dict[str, str],
    connections: int,
    seconds: float,
    request_timeout: float = 60.0,
    conditional: bool = False,
) -> Result:
    """``conditional``: every request sends the ETag of the first answer back (``If-None-Match``),
    as a harvester or a browser revalidating its copy does; a 304 then counts as an answer."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, timeout=request_timeout, limits=limits, headers=headers) as client:
        warm_until = time.perf_counter() + min(1.0, seconds / 5)
        first: httpx.Response | None = None
        while time.perf_counter() < warm_until:
            with contextlib.suppress(httpx.HTTPError):  # a route slower than the timeout counts as errors below
                first = await client.get(path)
        if conditional:
            tag = first.headers.get("etag") if first is not None else None
            if not tag:
                raise SystemExit(f"{path} sent no ETag: no conditional requests to measure")
            client.headers["If-None-Match"] = tag
        expected = 304 if conditional else 200
        latencies: list[float] = []
        errors = 0
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    r = await client.get(path)
                    ok = r.status_code == expected
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - t0)
                errors += not ok

        await asyncio.gather(*(worker() for _ in range(connections)))
        label = f"{path} (If-None-Match → 304)" if conditional else path
        return Result(label, len(latencies), errors, time.perf_counter() - started, latencies)


@dataclass
class WrkResult(Result):
    p50: float = float("nan")
    p99: float = float("nan")
    measured_rate: float = 0.0

    @property
    def rate(self) -> float:
        return self.measured_rate

    def pct(self, q: float) -> float:
        return self.p50 if q <= 0.5 else self.p99


def _ms(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def wrk_load(
    base: str, path: str, headers: dict[str, str], connections: int, seconds: float, conditional: bool = False
) -> Result:
    """The same measure by ``wrk`` (Debian's package: a load generator in C). The Python client above
    spends the 2 cores' CPU itself and caps a hello-world near 900 req/s here, which flatters every
    ratio to it; wrk drives the same hello-world to ~7,500 req/s."""
    sent = dict(headers)
    first = httpx.get(base + path, headers=sent, timeout=120)
    if conditional:
        tag = first.headers.get("etag")
        if not tag:
            raise SystemExit(f"{path} sent no ETag: no conditional requests to measure")
        sent["If-None-Match"] = tag
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in sent.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, base + path], capture_output=True, text=True, check=True).stdout
    found = {m[0]: m[1] for m in re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M)}
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    total = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    label = f"{path} (If-None-Match → 304)" if conditional else path
    p50, p99 = (_ms(found[q]) if q in found else float("nan") for q in ("50", "99"))
    return WrkResult(label, total, int(bad[1]) if bad else 0, seconds, [], p50, p99, rate)


def wait_up(base: str, path: str = "/") -> None:
    for _ in range(300):
        try:
            if httpx.get(base + path, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{base} did not start")


@contextlib.contextmanager
def serving(cmd: list[str], env: dict[str, str], log: IO[str], cwd: Path = ROOT) -> Iterator[None]:
    server = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=log)
    try:
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextlib.contextmanager
def market_server(
    database_url: str, root: str | Path = ROOT, prefix: str = "bench-"
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``market serve --no-worker`` of the checkout ``root`` (this interpreter) on a free port of
    127.0.0.1 against ``database_url``, its log in a temporary folder, until the block ends:
    (its base URL, its process)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp, open(Path(tmp) / "server.log", "w") as log:
        env = {
            **os.environ,
            "MARKET_VAR_DIR": tmp,
            "MARKET_DATABASE_URL": database_url,
            "MARKET_RUN_WORKER_IN_APP": "0",
            "PYTHONPATH": str(root),
        }
        cmd = [sys.executable, "-m", "market.cli", "serve", "--no-worker", "--port", str(port)]
        server = subprocess.Popen(cmd, env=env, cwd=root, stdout=log, stderr=log, text=True)
        try:
            wait_up(base, "/healthz")
            yield base, server
        finally:
            server.terminate()
            server.wait(timeout=30)


async def targets(base: str) -> tuple[list[str], dict[str, str]]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        first = (await client.get("/api/v1/purchases?limit=1")).json()
        items = first.get("items") or first.get("data") or []
        one = f"/api/v1/purchases/{items[0]['id']}" if items else "/api/v1/purchases"
        login = await client.post("/api/v1/auth/login", json={"username": "finance", "password": "demo2026"})
        token = login.json()["token"]
    routes = [
        "/",
        "/purchases",
        "/api/v1/purchases",
        "IF /api/v1/purchases",
        "BUILD /api/v1/purchases",
        "/api/v1/purchases?q=项目",
        one,
        "/api/v1/catalog",
        "/api/v1/providers",
        "/api/v1/ocds/releases",
        "IF /api/v1/ocds/releases",
        "FINANCE /api/v1/finance/summary",
    ]
    return routes, {"Authorization": f"Bearer {token}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="ADMIN_URL", help="a fresh PostgreSQL database through this server")
    parser.add_argument("--purchases", type=int, default=0, help="generate this many purchases (default: county)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a request counts as an error")
    parser.add_argument(
        "--database-url",
        help="serve this existing database (it must hold the demo; only read: the routes are GETs) "
        "instead of building one",
    )
    parser.add_argument(
        "--routes",
        help="comma-separated routes instead of the default set; 'BUILD /path' sends Cache-Control: no-cache "
        "(the application builds every answer; the fast path keeps none for it); "
        "'IF /path' sends the first answer's ETag back (If-None-Match), 'FINANCE /path' signs in as finance",
    )
    parser.add_argument("--root", help="serve the app from this checkout (a version before a change), this interpreter")
    parser.add_argument(
        "--client",
        choices=["auto", "wrk", "httpx"],
        default="auto",
        help="the load generator: wrk (Debian's package) when installed, else the Python client",
    )
    parser.add_argument(
        "--paired",
        action="store_true",
        help="measure the hello-world again right before each route and compare the route with that figure",
    )
    args = parser.parse_args()
    existing = contextlib.nullcontext(args.database_url) if args.database_url else None
    with (
        tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp,
        existing or database(args.postgres, tmp) as url,
    ):
        env = {
            **os.environ,
            "MARKET_VAR_DIR": tmp,
            "MARKET_DATABASE_URL": url,
            "MARKET_RUN_WORKER_IN_APP": "0",
        }
        if existing is None:
            subprocess.run([*MARKET, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
            started = time.perf_counter()
            demo = [*MARKET, "demo"] + (["--purchases", str(args.purchases)] if args.purchases else [])
            out = subprocess.run(demo, env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
            loaded = time.perf_counter() - started
            for line in out.splitlines():
                if line.startswith("generated "):
                    print(line)
            size = f"{args.purchases} generated purchases + county demo" if args.purchases else "county demo"
            print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}, {size}, loaded in {loaded:.0f} s")
        else:
            print(f"database: {url.rsplit('/', 1)[-1]} (existing)")
        print(
            f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}, "
            f"{args.connections} connections x {args.seconds:.0f} s per route"
        )
        app_port, hello_port = free_port(), free_port()
        with open(Path(tmp) / "server.log", "w") as log:
            hello_cmd = [
                sys.executable,
                "-m",
                "uvicorn",
                "hello_app:app",
                "--app-dir",
                str(ROOT / "bench"),
                "--port",
                str(hello_port),
                "--log-level",
                "info",
                "--no-server-header",
            ]
            app_cmd = [*MARKET, "serve", "--port", str(app_port), "--no-worker"]
            results: list[tuple[str, Result]] = []
            hello_base = f"http://127.0.0.1:{hello_port}"
            # both servers stay up (an idle one costs nothing); with --paired the hello-world is
            # measured again right before each route, and each route is compared with that figure:
            # on a shared machine the CPU left to us drifts within minutes
            app_env = {**env, "PYTHONPATH": args.root} if args.root else env
            app_root = Path(args.root) if args.root else ROOT
            use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk") is not None)
            print(f"load generator: {'wrk' if use_wrk else 'httpx (Python, on the same cores: flatters the ratios)'}")

            def measure(server: str, path: str, headers: dict[str, str], conditional: bool = False) -> Result:
                if use_wrk:
                    return wrk_load(server, path, headers, args.connections, args.seconds, conditional)
                return asyncio.run(
                    load(server, path, headers, args.connections, args.seconds, args.timeout, conditional)
                )

            with serving(hello_cmd, env, log), serving(app_cmd, app_env, log, app_root):
                wait_up(hello_base)
                base = f"http://127.0.0.1:{app_port}"
                wait_up(base, "/healthz")
                results.append(("hello", measure(hello_base, "/", {})))
                routes, finance = asyncio.run(targets(base))
                if args.routes:
                    routes = args.routes.split(",")
                for route in routes:
                    headers = dict(finance) if route.startswith("FINANCE ") else {}
                    if route.startswith("BUILD "):  # past the fast path's memory: the application builds it
                        headers["Cache-Control"] = "no-cache"
                    path = route.removeprefix("FINANCE ").removeprefix("IF ").removeprefix("BUILD ")
                    conditional = route.startswith("IF ")
                    if args.paired and len(results) > 1:
                        results.append(("hello", measure(hello_base, "/", {})))
                    results.append(("app", measure(base, path, headers, conditional)))
                    r = results[-1][1]
                    if route.startswith("BUILD "):
                        r.route += " (no-cache: built each time)"
                    print(f"  {r.route}: {r.rate:.1f} req/s, p50 {r.pct(0.5):.0f} ms, errors {r.errors}", flush=True)
    print("| server | route | req/s | % of hello | p50 ms | p99 ms | errors |")
    print("|---|---|---:|---:|---:|---:|---:|")
    hello = results[0][1].rate
    for server, r in results:
        if server == "hello":
            hello = r.rate  # the latest hello-world figure is the one the next route is compared with
            if args.paired and r is not results[0][1]:
                continue
        print(
            f"| {server} | `{r.route}` | {r.rate:,.1f} | {100 * r.rate / hello:.1f}%"
            f"{f' (of {hello:,.0f})' if args.paired and server == 'app' else ''} | {r.pct(0.5):,.1f} | "
            f"{r.pct(0.99):,.1f} | {r.errors} |"
        )
    overall = [x for _, r in results for x in r.latencies]
    median = f"; median latency overall {statistics.median(overall) * 1000:.1f} ms" if overall else ""
    print(f"load average at the end: {os.getloadavg()[0]:.1f}{median}")


if __name__ == "__main__":
    main()
