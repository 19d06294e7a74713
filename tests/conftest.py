"""Shared test set-up: a controlled clock and test settings."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("MARKET_ARGON2_PROFILE", "fast")

from market import clock


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    clock.reset()
    yield
    clock.reset()


def pytest_collection_finish(session: pytest.Session) -> None:
    """A run that collects nothing, or integration tests for only one database, is a failure."""
    if not session.items and not session.config.option.collectonly:
        raise pytest.UsageError("no tests were collected: check the paths and the -k/-m filters")
    ids = [item.nodeid for item in session.items if "/integration/" in item.nodeid.replace("\\", "/")]
    if ids and os.environ.get("MARKET_TEST_ONE_BACKEND") != "1":
        backends = {b for b in ("[sqlite", "[postgresql") if any(b in i for i in ids)}
        if len(backends) != 2 and len(ids) > 1:
            raise pytest.UsageError(
                "integration tests must run on both SQLite and PostgreSQL "
                "(set MARKET_TEST_ONE_BACKEND=1 to run one on purpose)"
            )
