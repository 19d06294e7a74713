"""Where the audit chain stands, known in this process without asking the database per request.

Every commit that changes state advances the chain head (:mod:`market.audit.service`), and on
PostgreSQL a trigger on the head row (migration ``0028_audit_head_notify``) sends its new number on
the channel :data:`CHANNEL` when that commit lands (``NOTIFY`` is delivered at commit, in commit
order). :class:`HeadWatch` listens on a connection of its own and keeps the highest number heard.
What may use it (:mod:`market.web.fastpath`) then knows whether anything changed since it built
an answer, for the price of reading an attribute.

It claims nothing it cannot stand behind: :attr:`HeadWatch.seq` is ``None`` until it listens and
has read the head once (after ``LISTEN``, so no commit falls between the two), and again as soon
as its connection fails, until it is back; it reads the head itself once a second as well, so a
notification lost in any way costs at most that second. A request of this process that changed
something reads the head at once (:meth:`HeadWatch.catch_up`), so its own next read never waits
for the notification. SQLite has no notifications: there the watch stays unknown and nothing
relies on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from market.audit.models import AuditHead

CHANNEL = "market_audit_head"
RECHECK_SECONDS = 1.0

log = logging.getLogger(__name__)


def _conninfo(database_url: str) -> str:
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class HeadWatch:
    """The chain head's number as last heard (``None``: not known now; do not rely on it)."""

    def __init__(self, database_url: str, *, recheck_seconds: float = RECHECK_SECONDS) -> None:
        self._database_url = database_url
        self._recheck = recheck_seconds
        self._seq: int | None = None
        self._highest = 0  # never forget a number heard, even while unknown
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    @property
    def seq(self) -> int | None:
        return self._seq

    def _heard(self, seq: int) -> None:
        self._highest = max(self._highest, seq)
        self._seq = self._highest

    async def start(self, *, wait: float = 5.0) -> None:
        """Start listening (and wait up to ``wait`` seconds for the first head; it keeps trying)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-head-watch")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), wait)

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._seq = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def catch_up(self, engine: AsyncEngine) -> None:
        """Read the head now (after a commit of this process), if the watch is listening."""
        if self._seq is None:
            return
        async with engine.connect() as conn:
            seq = (await conn.execute(select(col(AuditHead.seq)).where(col(AuditHead.id) == 1))).scalar()
        if self._seq is not None:  # still listening: what was read is at least as new as what was heard
            self._heard(int(seq or 0))

    async def _run(self) -> None:
        import psycopg

        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    _conninfo(self._database_url), autocommit=True, application_name="market-head-watch"
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    await self._read(conn)  # after LISTEN: no commit falls between the two
                    self._ready.set()
                    while True:
                        async for note in conn.notifies(timeout=self._recheck):
                            with contextlib.suppress(ValueError):
                                self._heard(int(note.payload))
                        await self._read(conn)
            except asyncio.CancelledError:
                self._seq = None
                raise
            except Exception as error:  # a lost connection, a restarted server: unknown until back
                self._seq = None
                log.warning("audit head watch: %s; listening again in 1 s", error)
                await asyncio.sleep(1.0)

    async def _read(self, conn: Any) -> None:
        cursor = await conn.execute("SELECT seq FROM audit_head WHERE id = 1")
        row = await cursor.fetchone()
        self._heard(int(row[0]) if row and row[0] is not None else 0)
