"""The worker loop that applies due time transitions (SPEC §5: "time moves states too").

The composition root registers each package's *tick* in :data:`jobs`; each tick claims the work
that is due (on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so that several workers can run at
once), applies it in its own transactions and returns how many transitions it applied. Each job
belongs to a queue, and each queue has its own loop (:func:`run_queue`): the deadlines are never
held up by rendering PDFs (the ``documents`` queue), and a loop runs its busy ticks again at once,
without sleeping, while they find work. Ticks are idempotent: applying a
transition twice is impossible because each one re-checks the state under its row lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from market import clock
from market.registry import Registry
from market.settings import Settings

log = logging.getLogger("market.worker")

Tick = Callable[[async_sessionmaker[AsyncSession], Settings, datetime], Awaitable[int]]

# name → tick, run in registration order; tests scope theirs with ``jobs.scoped()``
jobs: Registry[str, Tick] = Registry("worker jobs")
# name → the queue (loop) it runs in; a job not named here runs in MAIN
job_queues: Registry[str, str] = Registry("worker job queues")
MAIN = "main"


def register(name: str, tick: Tick, *, queue: str = MAIN) -> None:
    """Register a tick; ``queue`` names the loop that runs it (slow work such as rendering PDFs
    gets its own, so that the deadlines' loop never waits for it)."""
    jobs.register(name, tick)
    job_queues.register(name, queue)


def queue_of(name: str) -> str:
    return job_queues.get(name) or MAIN


async def run_once(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    queue: str | None = None,
    only: Collection[str] | None = None,
) -> dict[str, int]:
    """Apply everything that is due now (of one queue's jobs, or of ``only`` these jobs);
    returns the number of transitions per tick."""
    done: dict[str, int] = {}
    for name, tick in jobs.items():
        if (queue is not None and queue_of(name) != queue) or (only is not None and name not in only):
            continue
        try:
            done[name] = await tick(factory, settings, clock.now())
        except Exception:
            log.exception("worker tick %s failed; it will be retried", name)
            done[name] = 0
    return done


async def _wait(stop: asyncio.Event | None, seconds: float) -> None:
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def run_queue(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    queue: str,
    *,
    name: str = "worker",
    stop: asyncio.Event | None = None,
) -> None:
    """One queue's loop: run its ticks; while some found work, run those again at once (no
    sleep while work remains); when none did, wait ``worker_interval_seconds``."""
    while stop is None or not stop.is_set():
        applied = await run_once(factory, settings, queue=queue)
        while busy := [job for job, n in applied.items() if n]:
            log.info("%s/%s: applied %s", name, queue, {job: applied[job] for job in busy})
            if stop is not None and stop.is_set():
                return
            await asyncio.sleep(0)  # let the other queues and the server run
            applied = await run_once(factory, settings, queue=queue, only=busy)
        await _wait(stop, settings.worker_interval_seconds)


async def run_loop(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    name: str = "worker",
    stop: asyncio.Event | None = None,
) -> None:
    """Every queue's loop at once (the deadlines in MAIN, rendering in its own), until ``stop``."""
    queues = sorted({queue_of(job) for job, _tick in jobs.items()} or {MAIN})
    log.info(
        "%s: applying due time transitions every %.1fs (%d ticks, queues %s)",
        name,
        settings.worker_interval_seconds,
        len(jobs),
        ", ".join(queues),
    )
    async with asyncio.TaskGroup() as group:
        for queue in queues:
            group.create_task(run_queue(factory, settings, queue, name=name, stop=stop))
