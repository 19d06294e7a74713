"""The time-transition loop: registered ticks run in `market worker` and inside the server."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from litestar.testing import AsyncTestClient

from market import worker


async def test_server_runs_registered_ticks_in_the_background(settings, engine):
    from market.app import create_app

    calls: list[str] = []
    loops: set[asyncio.Task[Any]] = set()
    ticked_twice = threading.Event()  # the server runs in its own thread (the test client's portal)

    async def tick(factory, settings, now):
        calls.append(now.isoformat())
        task = asyncio.current_task()
        assert task is not None
        loops.add(task)
        if len(calls) >= 2:
            ticked_twice.set()
        return 0

    with worker.jobs.scoped():
        worker.register("test-tick", tick)
        app = create_app(settings.with_(run_worker_in_app=True, worker_interval_seconds=0.01), engine=engine)
        async with AsyncTestClient(app=app) as client:
            assert (await client.get("/healthz")).status_code == 200
            assert await asyncio.to_thread(ticked_twice.wait, 30), calls
        # one loop ran the ticks, and the server's shutdown stopped it
        assert len(loops) == 1
        (loop,) = loops
        assert loop.done() and loop.cancelled()
    assert "test-tick" not in worker.jobs


async def test_a_failing_tick_does_not_stop_the_others(factory, settings):
    seen: list[str] = []

    async def broken(factory, settings, now):
        raise RuntimeError("boom")

    async def fine(factory, settings, now):
        seen.append("fine")
        return 1

    with worker.jobs.scoped(empty=True):
        worker.register("a-broken", broken)
        worker.register("b-fine", fine)
        result = await worker.run_once(factory, settings)
    assert result["a-broken"] == 0 and result["b-fine"] == 1 and seen == ["fine"]
