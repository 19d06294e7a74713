"""The benchmark suite of issue 12.6 in one command: ``make bench``.

On a PostgreSQL server (``--postgres ADMIN_URL``; ``make bench`` finds or starts one as ``make
test`` does) it

1. builds two databases, ``bench_county`` (``market demo``) and ``bench_province`` (``market demo
   --size province``: 50,000 purchases, ~270,000 bids), timing the generation — or, with
   ``--reuse``, keeps those that exist (migrated to the head first);
2. times each read route one request at a time on both (``finance_bench.py``: median of ``--runs``
   after a warm-up; the public routes anonymously, the finance ones signed in) and prints county,
   province and the growth side by side, with the OCDS feed's first page and a page 45,000 deep;
3. loads the main routes with concurrent connections beside a bare Litestar hello-world served the
   same way (``serve_bench.py --database-url``), county and province;
4. probes ``/healthz`` while a province-size finance export runs (``export_healthz.py``);
5. times the worker closing 1,000 purchases that reach their deadline at once (``worker_close.py``);
6. times ``market audit verify`` over the province's audit chain;

and drops both databases at the end unless ``--keep``. Each step prints a Markdown table; run
``make bench | tee bench/last-run.md`` to keep them. Every request goes to 127.0.0.1 only.

    make bench
    .venv/bin/python bench/suite.py --postgres postgresql://postgres@localhost:5432/postgres --reuse --keep
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MARKET = ROOT / ".venv" / "bin" / "market"
PY = sys.executable

ROUTES = [
    "/",
    "/purchases",
    "/api/v1/purchases",
    "/api/v1/purchases?q=项目",
    "/api/v1/purchases?q=评估报告",
    "/api/v1/purchases?offset=20",
    "/api/v1/purchases?offset=40000",
    "/api/v1/purchases/{id}",
    "/api/v1/catalog",
    "/api/v1/providers",
    "/providers",
    "/api/v1/ocds/releases",
    "{ocds_deep}",
    "/api/v1/finance/summary",
    "/api/v1/finance/flags",
    "/finance/overview",
]
ROW = re.compile(r"^\| `(?P<route>[^`]*)` \| (?P<median>[\d,]+) \| (?P<slowest>[\d,]+) \| (?P<status>.*) \|$")


def url_of(admin: str, name: str) -> str:
    return admin.rsplit("/", 1)[0] + "/" + name


def exists(admin: str, name: str) -> bool:
    with psycopg.connect(admin, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def recreate(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def market(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MARKET_DATABASE_URL": url}
    return subprocess.run([str(MARKET), *args], env=env, cwd=ROOT, check=True, capture_output=True, text=True)


def prepare(admin: str, name: str, size: str | None, reuse: bool) -> str:
    url = url_of(admin, name)
    if reuse and exists(admin, name):
        market(url, "db", "upgrade")
        print(f"- `{name}`: reused (migrated to the head)")
        return url
    recreate(admin, name)
    market(url, "db", "upgrade")
    started = time.perf_counter()
    market(url, "demo", *(["--size", size] if size else []))
    print(f"- `{name}`: `market demo{' --size ' + size if size else ''}` took {time.perf_counter() - started:.0f} s")
    return url


def deep_cursor(url: str, depth: int = 45_000) -> str:
    """The feed's cursor after the ``depth``-th purchase in feed order (the encoding of
    ``oversight.ocds``), or the first page's when the feed is shorter."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT change_seq, id FROM purchases WHERE ref IS NOT NULL AND status <> 'draft' "
            "ORDER BY change_seq, id OFFSET %s LIMIT 1",
            (depth,),
        ).fetchone()
    if row is None:
        return "/api/v1/ocds/releases"
    token = base64.urlsafe_b64encode(f"{row[0]}:{row[1].hex}".encode("ascii")).decode("ascii").rstrip("=")
    return f"/api/v1/ocds/releases?cursor={token}"


def latencies(url: str, runs: int) -> tuple[dict[str, tuple[int, str]], str]:
    routes = [r.replace("{ocds_deep}", deep_cursor(url)) for r in ROUTES]
    out = subprocess.run(
        [PY, str(HERE / "finance_bench.py"), "--database-url", url, "--runs", str(runs), "--routes", ",".join(routes)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found: dict[str, tuple[int, str]] = {}
    for template, line in zip(ROUTES, (m for m in map(ROW.match, out.splitlines()) if m), strict=False):
        found[template] = (int(line["median"].replace(",", "")), line["status"])
    rss = [line for line in out.splitlines() if line.startswith("server RSS peak after")]
    return found, rss[0] if rss else ""


def step(title: str, cmd: list[str]) -> None:
    print(f"\n### {title}\n\n`{' '.join(Path(c).name if c == PY else c for c in cmd)}`\n", flush=True)
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    print(result.stdout.strip() or result.stderr.strip()[-2000:], flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get("MARKET_TEST_DATABASE_URL"), metavar="ADMIN_URL")
    parser.add_argument("--reuse", action="store_true", help="use the two databases if they exist (migrated first)")
    parser.add_argument("--keep", action="store_true", help="do not drop the databases at the end")
    parser.add_argument("--county-db", default="bench_county", help="the county database's name")
    parser.add_argument("--province-db", default="bench_province", help="the province database's name")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--seconds", type=float, default=5.0, help="per route under load")
    args = parser.parse_args()
    if not args.postgres:
        raise SystemExit("--postgres ADMIN_URL (or MARKET_TEST_DATABASE_URL) is needed")
    print(f"## Benchmark suite, {time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.1f}\n")
    county = prepare(args.postgres, args.county_db, None, args.reuse)
    province = prepare(args.postgres, args.province_db, "province", args.reuse)
    try:
        print(f"\n### One request at a time (median of {args.runs}, ms)\n")
        small, small_rss = latencies(county, args.runs)
        large, large_rss = latencies(province, args.runs)
        print("| route | county | province | growth |")
        print("|---|---:|---:|---:|")
        for route in ROUTES:
            a, b = small.get(route), large.get(route)
            name = "/api/v1/ocds/releases?cursor=… (45,000 deep)" if route == "{ocds_deep}" else route
            growth = f"{b[0] / a[0]:.1f}×" if a and b and a[0] else ""
            print(f"| `{name}` | {a[0] if a else ''} | {b[0] if b else ''} | {growth} |")
        print(f"\ncounty: {small_rss}; province: {large_rss}")
        for name, url in (("county", county), ("province", province)):
            step(
                f"Under load beside a hello-world ({name})",
                [PY, str(HERE / "serve_bench.py"), "--database-url", url, "--seconds", str(args.seconds), "--paired"],
            )
        step(
            "`/healthz` during a province-size export",
            [PY, str(HERE / "export_healthz.py"), "--database-url", province],
        )
        step(
            "The worker closing 1,000 purchases at once",
            [PY, str(HERE / "worker_close.py"), "--postgres", args.postgres, "--purchases", "1000"],
        )
        started = time.perf_counter()
        verified = market(province, "audit", "verify").stdout.strip()
        print(
            f"\n### `market audit verify` on the province chain\n\n{verified} in {time.perf_counter() - started:.1f} s"
        )
    finally:
        if not args.keep:
            drop(args.postgres, args.county_db)
            drop(args.postgres, args.province_db)


if __name__ == "__main__":
    main()
