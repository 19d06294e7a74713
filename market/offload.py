"""Heavy work in a process of its own, so that one request never stalls the others.

A province-size finance export (tens of seconds of CPU, about a gigabyte) or a verification of the
whole audit chain (half a million events) done in the server process holds its event loop and the
interpreter lock: ``/healthz`` and every other request wait. The server hands such work to a
separate process instead — one per server process, spawned on first use and kept for the next, at
a lower CPU priority; the jobs queue for it, one at a time.

:func:`run` calls a module-level function there with the clock stopped at the request's moment and
in the request's language; the function opens its own database connections (:func:`engine`: no
pool, nothing stays connected between jobs) and returns something small (a path, a count, a
result), never ORM rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from market import clock
from market import db as dbmod
from market.i18n import get_locale, reset_locale, set_locale

NICENESS = 10  # as the password hashers': the server's own requests come first
T = TypeVar("T")

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # not on every platform; then as it is
        os.nice(NICENESS)


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # spawn: a fork of a server with threads and open connections would inherit them
            _pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_lower_priority
            )
        return _pool


def worker_pids() -> list[int]:
    """The process ids of the offload process(es) started so far (tests check it is not ours)."""
    with _pool_lock:
        return list(getattr(_pool, "_processes", None) or {})


async def run(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in the offload process, as of now and in the request's language."""
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_executor(), _call, fn, clock.now(), str(get_locale()), args)
    except BrokenProcessPool:  # the process died (killed, out of memory): the next job starts another
        global _pool
        with _pool_lock:
            _pool = None
        raise


def _call(fn: Callable[..., T], now: datetime, lang: str, args: tuple[Any, ...]) -> T:
    clock.freeze(now)
    token = set_locale(lang)
    try:
        return fn(*args)
    finally:
        reset_locale(token)
        clock.freeze(None)


def engine(database_url: str) -> AsyncEngine:
    """An engine for one job: each session opens its own connection and closes it."""
    return dbmod.create_engine(database_url, pooled=False)
