"""One request at a time to several servers at once, interleaved: the latency of the same routes on
different code or data, measured under the same (shared, drifting) load.

Each ``--serve LABEL=DATABASE_URL[::ROOT]`` starts ``market serve --no-worker`` (one uvicorn process)
of the checkout ``ROOT`` (default: this one; served with this interpreter) against the database, on
a free port of 127.0.0.1. Then, per route, each round sends the route once to every server in turn
(after one warm-up request each), ``--runs`` rounds, and it prints the median and the slowest
latency per server — so a burst of load elsewhere on the machine hits every column alike, which
running one server after the other (``finance_bench.py``) cannot promise. Requests are anonymous
GETs (public reads); the databases are only read.

    .venv/bin/python bench/read_compare.py --runs 21 \\
        --serve county=postgresql://postgres@localhost:5432/b_county \\
        --serve province=postgresql://postgres@localhost:5432/b_prov \\
        --serve "province, main=postgresql://postgres@localhost:5432/b_prov::/work/main" \\
        --routes "/api/v1/purchases,/api/v1/purchases?q=项目,/api/v1/ocds/releases"
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from login_burst import ROOT, free_port
from serve_bench import wait_up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", action="append", required=True, metavar="LABEL=DATABASE_URL[::ROOT]")
    parser.add_argument("--routes", required=True, help="comma-separated paths")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    servers: list[tuple[str, str, subprocess.Popen[bytes]]] = []
    with tempfile.TemporaryDirectory(prefix="read-compare-") as tmp, contextlib.ExitStack() as stack:
        log = stack.enter_context(open(Path(tmp) / "server.log", "w"))
        for spec in args.serve:
            label, _, target = spec.partition("=")
            url, _, root = target.partition("::")
            root = root or str(ROOT)
            port = free_port()
            env = {
                **os.environ,
                "MARKET_VAR_DIR": tmp,
                "MARKET_DATABASE_URL": url,
                "MARKET_RUN_WORKER_IN_APP": "0",
                "PYTHONPATH": root,
            }
            cmd = [sys.executable, "-m", "market.cli", "serve", "--no-worker", "--port", str(port)]
            server = subprocess.Popen(cmd, env=env, cwd=root, stdout=log, stderr=log)
            stack.callback(server.wait, 30)
            stack.callback(server.terminate)
            servers.append((label, f"http://127.0.0.1:{port}", server))
        for _label, base, _server in servers:
            wait_up(base, "/healthz")
        clients = [stack.enter_context(httpx.Client(base_url=base, timeout=args.timeout)) for _l, base, _s in servers]
        print(f"cores: {os.cpu_count()}, load average at the start: {os.getloadavg()[0]:.1f}; median of {args.runs}")
        print("| route | " + " | ".join(f"{label} ms (slowest)" for label, _b, _s in servers) + " |")
        print("|---|" + "---:|" * len(servers))
        for route in args.routes.split(","):
            times: list[list[float]] = [[] for _ in servers]
            statuses: set[int] = set()
            for i in range(args.runs + 1):
                for k, client in enumerate(clients):
                    t0 = time.perf_counter()
                    r = client.get(route)
                    took = (time.perf_counter() - t0) * 1000
                    statuses.add(r.status_code)
                    if i:  # the first round is a warm-up
                        times[k].append(took)
            cells = " | ".join(f"{statistics.median(t):,.0f} ({max(t):,.0f})" for t in times)
            note = "" if statuses == {200} else f" status {sorted(statuses)}"
            print(f"| `{route}`{note} | {cells} |", flush=True)
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
