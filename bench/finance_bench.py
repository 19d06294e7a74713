"""Latency and server memory of the finance reports on an existing database (issue 12.3).

Serves the app (``market serve --no-worker``, one uvicorn process) on a free port of 127.0.0.1
against ``--database-url`` (a database that holds the demo, e.g. one filled by ``market demo
--size province``), signs in as the demo's ``finance`` user and requests each route ``--runs``
times one after the other (after one warm-up request each), then prints the median and the
slowest latency per route and the server's peak resident memory (``VmHWM`` of its process) after
all of them, and before the first report.

    .venv/bin/python bench/finance_bench.py --database-url postgresql://postgres@localhost:5432/market_province
    .venv/bin/python bench/finance_bench.py --database-url ... --root /path/to/another/checkout  # its code

Routes may name ``{id}`` (the newest published purchase); routes under ``/finance`` and
``/api/v1/finance`` are requested signed in as ``finance``, the others anonymously, as the public
reads them; ``--anonymous`` does not sign in at all (no ``user.login`` event is written). Every
request says ``Cache-Control: no-cache``, so the application builds each answer (what a read costs;
``market serve``'s fast path would otherwise answer the repeats from memory); ``--cached`` lets it.

``--root`` serves another checkout of the code (to measure a version before a change) with this
interpreter. The database is only read (the routes are GETs), but for the sign-in's audit event.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from login_burst import ROOT
from serve_bench import market_server

ROUTES = [
    "/api/v1/finance/summary",
    "/api/v1/finance/summary?group_by=month",
    "/api/v1/finance/flags",
    "/api/v1/finance/flags?kind=firm",
    "/finance/overview",
    "/finance/flags",
]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose code is served")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--routes", default=",".join(ROUTES))
    parser.add_argument("--anonymous", action="store_true", help="request the routes signed out (public reads)")
    parser.add_argument(
        "--cached",
        action="store_true",
        help="let the fast path answer repeats from memory (no Cache-Control: no-cache)",
    )
    args = parser.parse_args()
    with (
        market_server(args.database_url, args.root, "finance-bench-") as (base, server),
        httpx.Client(base_url=base, timeout=args.timeout) as client,
    ):
        headers = {}
        if not args.anonymous:
            login = client.post("/api/v1/auth/login", json={"username": "finance", "password": "demo2026"})
            headers = {"Authorization": f"Bearer {login.json()['token']}"}
            client.cookies.clear()  # the token signs in, where it is sent; the rest is anonymous
        print(f"server RSS peak before the reports: {peak_rss_mb(server.pid):.0f} MB")
        print("| route | median ms | slowest ms | status |")
        print("|---|---:|---:|---|")
        first = client.get("/api/v1/purchases?limit=1").json()["items"]
        for template in args.routes.split(","):
            # {id}: the newest published purchase; only finance routes are asked signed in
            route = template.replace("{id}", first[0]["id"] if first else "none")
            signed_in = route.startswith(("/api/v1/finance", "/finance"))
            times = []
            status = set()
            for i in range(args.runs + 1):
                t0 = time.perf_counter()
                sent = dict(headers) if signed_in else {}
                if not args.cached:
                    sent["Cache-Control"] = "no-cache"
                r = client.get(route, headers=sent)
                took = (time.perf_counter() - t0) * 1000
                status.add(r.status_code)
                if i:  # the first is a warm-up
                    times.append(took)
            row = f"| `{route}` | {statistics.median(times):,.0f} | {max(times):,.0f} | {sorted(status)} |"
            print(row, flush=True)
        print(f"server RSS peak after the reports: {peak_rss_mb(server.pid):.0f} MB")


if __name__ == "__main__":
    main()
