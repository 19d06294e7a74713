"""``/healthz`` while a finance export runs, and the memory it takes (issue 12.3, 12.6).

Serves the app (``market serve --no-worker``, one uvicorn process) on a free port of 127.0.0.1
against ``--database-url`` (a database holding the demo, e.g. filled by ``market demo --size
province``), signs in as the demo's ``finance`` user, then:

1. probes ``/healthz`` ``--probes`` times idle, one request every ``--interval`` seconds;
2. starts ``GET /api/v1/finance/export.<kind>`` (the whole period) and probes ``/healthz`` the same
   way until the export has arrived;

and prints the probes' median, p99 and worst latency idle and during the export, their ratio, the
export's time and size, and the peak resident memory (``VmHWM``) of the server process and of the
export process it started (exports are built in a process of their own, ``oversight.export_jobs``).

    .venv/bin/python bench/export_healthz.py --database-url postgresql://postgres@localhost:5432/market_province
    .venv/bin/python bench/export_healthz.py --database-url ... --kind csv --root /path/to/another/checkout

``--root`` serves another checkout of the code with this interpreter (to measure a version before a
change). The export is audited: each run adds one ``finance.exported`` event to the database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

from finance_bench import peak_rss_mb
from login_burst import ROOT
from serve_bench import market_server


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(x) for x in text]
    return found


def descendants(pid: int) -> list[int]:
    out = []
    for child in children(pid):
        out += [child, *descendants(child)]
    return out


def probe(client: httpx.Client, count: int | None, interval: float, until: threading.Event | None) -> list[float]:
    times = []
    while (count is None or len(times) < count) and not (until is not None and until.is_set()):
        t0 = time.perf_counter()
        r = client.get("/healthz")
        times.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"/healthz answered {r.status_code}")
        time.sleep(interval)
    return times


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--kind", choices=["xlsx", "csv"], default="xlsx")
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose code is served")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    with (
        market_server(args.database_url, args.root, "export-bench-") as (base, server),
        httpx.Client(base_url=base, timeout=args.timeout) as client,
    ):
        login = client.post("/api/v1/auth/login", json={"username": "finance", "password": "demo2026"})
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        print(
            f"load average before: {os.getloadavg()[0]:.1f}; server RSS peak at start: {peak_rss_mb(server.pid):.0f} MB"
        )
        idle = probe(client, args.probes, args.interval, None)
        done = threading.Event()
        result: dict[str, object] = {}
        peaks: dict[int, float] = {}

        def export() -> None:
            t0 = time.perf_counter()
            with httpx.Client(base_url=base, timeout=args.timeout) as other:
                r = other.get(f"/api/v1/finance/export.{args.kind}", headers=headers)
            result.update(status=r.status_code, size=len(r.content), seconds=time.perf_counter() - t0)
            done.set()

        def watch() -> None:  # the export process's peak, read while it lives
            while not done.is_set():
                for pid in descendants(server.pid):
                    with contextlib.suppress(OSError, ValueError):
                        peaks[pid] = max(peaks.get(pid, 0.0), peak_rss_mb(pid))
                time.sleep(0.2)

        worker = threading.Thread(target=export)
        watcher = threading.Thread(target=watch)
        worker.start()
        watcher.start()
        during = probe(client, None, args.interval, done)
        worker.join()
        watcher.join()
        print(
            f"export: {result['status']}, {int(result['size']) / 1e6:.1f} MB in {result['seconds']:.1f} s "  # type: ignore[call-overload]
            f"(load average after: {os.getloadavg()[0]:.1f})"
        )
        print("| /healthz | probes | median ms | p99 ms | worst ms |")
        print("|---|---:|---:|---:|---:|")
        for name, times in (("idle", idle), ("during the export", during)):
            print(f"| {name} | {len(times)} | {statistics.median(times):.1f} | {p99(times):.1f} | {max(times):.1f} |")
        print(
            f"ratio during / idle: median {statistics.median(during) / statistics.median(idle):.1f}×, "
            f"p99 {p99(during) / p99(idle):.1f}×"
        )
        print(f"server process peak RSS: {peak_rss_mb(server.pid):.0f} MB")
        for pid, mb in peaks.items():
            print(f"export process {pid} peak RSS: {mb:.0f} MB")


if __name__ == "__main__":
    main()
