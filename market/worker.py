"""The worker loop that applies due time transitions (SPEC §5: "time moves states too").

The composition root registers each package's *tick* in :data:`jobs`; each tick claims the work
that is due (on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so that several workers can run at
once), applies it in its own transactions and returns how many transitions it applied. Ticks are idempotent: applying a
transition twice is impossible because each one re-checks the state under its row lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from market import clock
from market.registry import Registry
from market.settings import Settings

log = logging.getLogger("market.worker")

Tick = Callable[[async_sessionmaker[AsyncSession], Settings, datetime], Awaitable[int]]

# name → tick, run in registration order; tests scope theirs with ``jobs.scoped()``
jobs: Registry[str, Tick] = Registry("worker jobs")


def register(name: str, tick: Tick) -> None:
    jobs.register(name, tick)


async def run_once(factory: async_sessionmaker[AsyncSession], settings: Settings) -> dict[str, int]:
    """Apply everything that is due now; returns the number of transitions per tick."""
    done: dict[str, int] = {}
    for name, tick in jobs.items():
        try:
            done[name] = await tick(factory, settings, clock.now())
        except Exception:
            log.exception("worker tick %s failed; it will be retried", name)
            done[name] = 0
    return done


async def run_loop(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    name: str = "worker",
    stop: asyncio.Event | None = None,
) -> None:
    log.info(
        "%s: applying due time transitions every %.1fs (%d ticks)", name, settings.worker_interval_seconds, len(jobs)
    )
    while stop is None or not stop.is_set():
        applied = await run_once(factory, settings)
        if any(applied.values()):
            log.info("%s: applied %s", name, applied)
        try:
            if stop is None:
                await asyncio.sleep(settings.worker_interval_seconds)
            else:
                await asyncio.wait_for(stop.wait(), timeout=settings.worker_interval_seconds)
        except TimeoutError:
            pass
