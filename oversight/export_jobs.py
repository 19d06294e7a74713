"""Finance exports built in a process of their own (issue 12: one report must not stall everybody).

An export holds every published purchase of the period with its award, contract, payments and red
flags: at province size (50,000 purchases) tens of seconds of CPU and hundreds of megabytes. Built
in the server process it held the event loop (the facts become Python objects between two awaits)
and the interpreter lock, and every other request waited — ``/healthz`` took seconds.

So the server hands each export to a separate process: one per server process, started on the first
export and kept for the next, at a lower CPU priority (exports queue for it, one at a time). The
process opens its own database connection (no pool: nothing stays connected between exports), reads
the period as of the request's moment and in the request's language, writes the file into
``<var>/exports`` and answers with its path and the number of purchases in it. The server streams
the file to the client and deletes it afterwards; its own memory does not grow with the data.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from market import clock
from market import db as dbmod
from market.i18n import get_locale, reset_locale, set_locale
from market.settings import Settings
from oversight import exports
from oversight.facts import Period
from oversight.services import FlagFilter, red_flags

KINDS = ("csv", "xlsx")
NICENESS = 10  # as the password hashers': the server's requests come first
STALE_AFTER = 3600.0  # seconds: files a finished or abandoned download left behind

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


@dataclass(frozen=True)
class Built:
    path: Path
    purchases: int


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


def _forget_pool() -> None:
    global _pool
    with _pool_lock:
        _pool = None


def directory(settings: Settings) -> Path:
    return settings.var_dir / "exports"


def sweep(folder: Path, now: float | None = None) -> None:
    """Delete export files older than :data:`STALE_AFTER` (a download cut off before its end)."""
    limit = (now if now is not None else time.time()) - STALE_AFTER
    for path in folder.glob("export-*"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < limit:
                path.unlink()


async def build(kind: str, settings: Settings, period: Period) -> Built:
    """The export file of ``period``, built in the export process as of now, in the request's
    language. The caller streams it and deletes it."""
    if kind not in KINDS:
        raise ValueError(kind)
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_executor(), _build, kind, settings, period, clock.now(), str(get_locale()))
    except BrokenProcessPool:  # the process died (killed, out of memory): the next export starts another
        _forget_pool()
        raise


def _build(kind: str, settings: Settings, period: Period, now: datetime, lang: str) -> Built:
    """In the export process: the clock stopped at the request's moment, the request's language."""
    clock.freeze(now)
    token = set_locale(lang)
    try:
        return asyncio.run(_write(kind, settings, period))
    finally:
        reset_locale(token)
        clock.freeze(None)


async def _write(kind: str, settings: Settings, period: Period) -> Built:
    folder = directory(settings)
    folder.mkdir(parents=True, exist_ok=True)
    sweep(folder)
    engine = dbmod.create_engine(settings.database_url, pooled=False)
    fd, name = tempfile.mkstemp(prefix="export-", suffix=f".{kind}", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            # written inside the read transaction: the snapshot's organisations are rows of it
            async with dbmod.unit_of_work(dbmod.read_session_factory(engine)) as session:
                report = await red_flags(session, settings, period, FlagFilter(), whole_period=True)
                if kind == "csv":
                    headers, rows = exports.table(report.snapshot, report.flags)
                    for chunk in exports.csv_chunks(headers, rows):
                        out.write(chunk)
                else:
                    exports.write_xlsx(report.snapshot, report.flags, settings.ocds_publisher, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    finally:
        await engine.dispose()
    return Built(Path(name), len(report.snapshot.purchases))
