"""The time-transition loop: registered ticks run in `market worker` and inside the server."""

from __future__ import annotations

import asyncio

from litestar.testing import AsyncTestClient

from market import worker


async def test_server_runs_registered_ticks_in_the_background(settings, engine):
    from market.app import create_app

    calls: list[str] = []

    async def tick(factory, settings, now):
        calls.append(now.isoformat())
        return 0

    with worker.jobs.scoped():
        worker.register("test-tick", tick)
        app = create_app(settings.with_(run_worker_in_app=True, worker_interval_seconds=0.05), engine=engine)
        async with AsyncTestClient(app=app) as client:
            assert (await client.get("/healthz")).status_code == 200
            for _ in range(100):
                if len(calls) >= 2:
                    break
                await asyncio.sleep(0.02)
        assert len(calls) >= 2
        count = len(calls)
        await asyncio.sleep(0.15)
        assert len(calls) == count  # the loop stopped with the server
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
