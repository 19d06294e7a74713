"""Screenshot a page of a running server as a signed-in user (or anonymously).

    .venv/bin/python scripts/screenshot.py --base http://127.0.0.1:8123 --path /workspace \
        --user admin --password demo2026 --out ws.png [--lang en] [--width 1280] [--height 1600]

Signs in through the API, fetches the HTML with the session, writes it with a <base href> so the
stylesheet loads, and lets headless Chromium take the picture.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import httpx


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--path", default="/")
    ap.add_argument("--user")
    ap.add_argument("--password", default="demo2026")
    ap.add_argument("--lang", default="zh")
    ap.add_argument("--out", required=True)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=1600)
    args = ap.parse_args()
    with httpx.Client(base_url=args.base, follow_redirects=True, timeout=30) as client:
        if args.user:
            r = client.post("/api/v1/auth/login", json={"username": args.user, "password": args.password})
            r.raise_for_status()
        sep = "&" if "?" in args.path else "?"
        page = client.get(f"{args.path}{sep}lang={args.lang}")
        html = page.text.replace("<head>", f'<head><base href="{args.base}/">', 1)
    tmp = Path(tempfile.mkdtemp())
    src = tmp / "page.html"
    src.write_text(html, encoding="utf-8")
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            f"--user-data-dir={tmp / 'profile'}",
            f"--window-size={args.width},{args.height}",
            f"--screenshot={args.out}",
            src.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    print(f"{args.out} ({page.status_code} {args.path})")


if __name__ == "__main__":
    main()
