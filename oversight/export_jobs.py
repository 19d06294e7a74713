"""Finance exports built in the offload process (:mod:`market.offload`; issue 12: one report must
not stall everybody).

An export holds every published purchase of the period with its award, contract, payments and red
flags: at province size (50,000 purchases) tens of seconds of CPU and about a gigabyte. Built in
the server process it held the event loop (the facts become Python objects between two awaits) and
the interpreter lock, and every other request waited — ``/healthz`` took seconds. The offload
process reads the period through its own connection as of the request's moment and in the
request's language, writes the file into ``<var>/exports`` and answers with its path and the number
of purchases in it; the server streams the file and deletes it. Its own memory does not grow with
the data.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from market import db as dbmod
from market import offload
from market.settings import Settings
from oversight import exports
from oversight.facts import Period
from oversight.services import FlagFilter, red_flags

KINDS = ("csv", "xlsx")
STALE_AFTER = 3600.0  # seconds: files a finished or abandoned download left behind


@dataclass(frozen=True)
class Built:
    path: Path
    purchases: int


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
    """The export file of ``period``, built in the offload process as of now, in the request's
    language. The caller streams it and deletes it."""
    if kind not in KINDS:
        raise ValueError(kind)
    return await offload.run(_build, kind, settings, period)


def _build(kind: str, settings: Settings, period: Period) -> Built:
    return asyncio.run(_write(kind, settings, period))


async def _write(kind: str, settings: Settings, period: Period) -> Built:
    folder = directory(settings)
    folder.mkdir(parents=True, exist_ok=True)
    sweep(folder)
    engine = offload.engine(settings.database_url)
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
