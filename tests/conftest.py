"""Shared test set-up: a controlled clock, test settings and Hypothesis's profile."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings as hypothesis_settings

os.environ.setdefault("MARKET_ARGON2_PROFILE", "fast")

from market import clock
from tests import databases

# Hypothesis runs the "ci" profile unless HYPOTHESIS_PROFILE names another: every run draws the
# same examples (derandomize, and no example database carried between runs), so a failure
# reproduces and a green run stays green; a bounded number of examples per test (a test that
# needs more asks with @settings(max_examples=...)); no deadline, because timing on a shared
# machine is not what the properties are about. HYPOTHESIS_PROFILE=explore draws many random
# examples instead, to look for new failures on purpose.
hypothesis_settings.register_profile("ci", max_examples=100, derandomize=True, database=None, deadline=None)
hypothesis_settings.register_profile("explore", max_examples=2000, derandomize=False, database=None, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    clock.reset()
    yield
    clock.reset()


def pytest_configure(config: pytest.Config) -> None:
    """The controlling process names the run (xdist workers inherit the token)."""
    if not hasattr(config, "workerinput") and not os.environ.get(databases.RUN_ENV):
        databases.start_run()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Each process waits for the test databases it handed to the background dropper; once every
    worker has finished, the controlling process drops whatever of the run's databases is left."""
    databases.finish_drops()
    if not hasattr(session.config, "workerinput"):
        databases.end_run()


def pytest_collection_finish(session: pytest.Session) -> None:
    """A run that collects nothing, or integration tests for only one database, is a failure."""
    if not session.items and not session.config.option.collectonly:
        raise pytest.UsageError("no tests were collected: check the paths and the -k/-m filters")
    ids = [
        item.nodeid
        for item in session.items
        if "/integration/" in item.nodeid.replace("\\", "/") and not item.get_closest_marker("one_database")
    ]
    if ids and os.environ.get("MARKET_TEST_ONE_BACKEND") != "1":
        backends = {b for b in ("[sqlite", "[postgresql") if any(b in i for i in ids)}
        if len(backends) != 2 and len(ids) > 1:
            raise pytest.UsageError(
                "integration tests must run on both SQLite and PostgreSQL "
                "(set MARKET_TEST_ONE_BACKEND=1 to run one on purpose)"
            )
