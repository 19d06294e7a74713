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
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.integration.conftest import sqlite_demo_template, sqlite_template  # noqa: F401  (fixtures)

CHROMIUM = os.environ.get("MARKET_TEST_CHROMIUM", "/usr/bin/chromium")
DEMO_PASSWORD = "demo2026"
PHONE = {"width": 390, "height": 844}
SHOTS = Path(os.environ.get("MARKET_TEST_SHOTS", "/tmp/market-browser-shots"))


# every test module here starts with this (the browser lives on the session's event loop)
BROWSER_TESTS = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium(sqlite_demo_template: Any) -> AsyncIterator[Any]:  # noqa: F811
    """One headless Chromium for the session (skipped, with the reason, where it cannot start).

    Playwright's async API on the session's event loop: its sync API would leave a running loop
    behind in the process, and the integration tests sharing an xdist worker need their own."""
    try:
        from playwright.async_api import Error, async_playwright
    except ImportError as exc:  # pragma: no cover - a dev extra
        pytest.skip(f"browser tests: Playwright is not installed ({exc}); `make install` adds it")
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"browser tests: no Chromium at {CHROMIUM}; scripts/system-deps.sh installs Debian's chromium"
        print(reason, file=sys.stderr)
        pytest.skip(reason)
    manager = await async_playwright().start()
    try:
        browser = await manager.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    except Error as exc:
        await manager.stop()
        reason = f"browser tests: Chromium at {CHROMIUM} cannot start: {str(exc).splitlines()[0]}"
        print(reason, file=sys.stderr)
        pytest.skip(reason)
    try:
        yield browser
    finally:
        await browser.close()
        await manager.stop()


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
def server_env() -> dict[str, str]:
    """More settings for the module's app (a module overrides this fixture to shorten a period)."""
    return {}


@pytest.fixture(scope="module")
def server(
    sqlite_demo_template: Any,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
    server_env: dict[str, str],
) -> Iterator[Server]:
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
        **server_env,
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


@pytest_asyncio.fixture(loop_scope="session")
async def context(chromium: Any, server: Server) -> AsyncIterator[Any]:
    """A fresh browser context (no cookies) in Chinese, the platform's first language."""
    ctx = await new_context(chromium, server)
    try:
        yield ctx
    finally:
        await ctx.close()


async def new_context(chromium: Any, server: Server, viewport: dict[str, int] | None = None) -> Any:
    ctx = await chromium.new_context(
        base_url=server.url, locale="zh-CN", viewport=viewport or {"width": 1280, "height": 900}
    )
    ctx.set_default_timeout(10_000)
    return ctx


async def sign_in(page: Any, username: str, password: str = DEMO_PASSWORD) -> None:
    await page.goto("/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("main form[action='/login'] button")
    await page.wait_for_load_state()
    assert "/login" not in page.url, await page.locator("main").inner_text()


async def shot(page: Any, name: str) -> Path:
    """A full-page screenshot, kept for people to look at (MARKET_TEST_SHOTS)."""
    SHOTS.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - a local folder, once
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
