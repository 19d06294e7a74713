"""Browser tests: Debian's Chromium, driven by Playwright, against the real app serving a copy of
the demo county (``market serve`` in a subprocess on a free port, ``MARKET_ACCELERATOR=86400``).

One browser for the whole session; each test gets a fresh context (its own cookies) and the
server of its module a fresh copy of the demo database. Playwright never downloads a browser:
it launches ``/usr/bin/chromium`` (``scripts/system-deps.sh`` installs it). Where Chromium truly
cannot start the tests are skipped, with the reason printed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import sqlite_demo_template, sqlite_template  # noqa: F401  (fixtures)

CHROMIUM = os.environ.get("MARKET_TEST_CHROMIUM", "/usr/bin/chromium")
DEMO_PASSWORD = "demo2026"
PHONE = {"width": 390, "height": 844}
SHOTS = Path(os.environ.get("MARKET_TEST_SHOTS", "/tmp/market-browser-shots"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/browser/" in item.nodeid.replace("\\", "/") or item.nodeid.startswith("tests/browser"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium(sqlite_demo_template: Any) -> Iterator[Any]:  # noqa: F811
    """One headless Chromium for the session (skipped, with the reason, where it cannot start).
    The demo template is built first: Playwright's event loop runs from here on."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as exc:  # pragma: no cover - a dev extra
        pytest.skip(f"browser tests: Playwright is not installed ({exc}); `make install` adds it")
    if not Path(CHROMIUM).exists():
        reason = f"browser tests: no Chromium at {CHROMIUM}; scripts/system-deps.sh installs Debian's chromium"
        print(reason, file=sys.stderr)
        pytest.skip(reason)
    manager = sync_playwright().start()
    try:
        browser = manager.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    except Error as exc:
        manager.stop()
        reason = f"browser tests: Chromium at {CHROMIUM} cannot start: {str(exc).splitlines()[0]}"
        print(reason, file=sys.stderr)
        pytest.skip(reason)
    try:
        yield browser
    finally:
        browser.close()
        manager.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    database_url: str
    var_dir: Path


@pytest.fixture(scope="module")
def server(sqlite_demo_template: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:  # noqa: F811
    """The real app (``market serve``) on a copy of the demo database, a day passing per second."""
    var_dir = tmp_path_factory.mktemp("browser-app")
    database = var_dir / "market.db"
    shutil.copyfile(sqlite_demo_template.template, database)
    shutil.copytree(sqlite_demo_template.uploads, var_dir / "uploads")
    port = _free_port()
    env = {
        **os.environ,
        "MARKET_DATABASE_URL": f"sqlite:///{database}",
        "MARKET_VAR_DIR": str(var_dir),
        "MARKET_UPLOAD_DIR": str(var_dir / "uploads"),
        "MARKET_ACCELERATOR": "86400",
        "MARKET_ARGON2_PROFILE": "fast",
        "MARKET_BASE_URL": f"http://127.0.0.1:{port}",
    }
    log = (var_dir / "server.log").open("w")
    market = Path(sys.executable).with_name("market")
    proc = subprocess.Popen(  # noqa: S603 - our own command line
        [str(market), "serve", "--host", "127.0.0.1", "--port", str(port), "--no-worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                raise RuntimeError(f"the app did not start: {(var_dir / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the app did not answer within 30 s")
        yield Server(url, f"sqlite:///{database}", var_dir)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def context(chromium: Any, server: Server) -> Iterator[Any]:
    """A fresh browser context (no cookies) in Chinese, the platform's first language."""
    ctx = chromium.new_context(base_url=server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(10_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


def sign_in(page: Any, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit], main form button")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.locator("main").inner_text()


def shot(page: Any, name: str) -> Path:
    """A full-page screenshot, kept for people to look at (MARKET_TEST_SHOTS)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
