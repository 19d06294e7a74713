"""Deadlines, numbering and awards under parallel requests.

* Many bids fired across the deadline while a worker closes the purchase: every accepted bid was
  received before the deadline, none after; the close and the bids serialise on the purchase row.
* Purchases published in parallel get gap-free, distinct references.
* Several workers ticking at once apply each transition once (one award, one event).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bidding import timeline
from bidding.events import PurchaseAwarded
from bidding.models import Bid, Purchase
from market import clock, events
from tests.integration.bidding_world import ACCELERATOR, make_world


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


async def test_concurrent_bids_across_the_deadline(client, factory, backend, settings):
    w = await make_world(client, factory, providers=20)
    p = await w.published(min_bids=1)
    deadline = datetime.fromisoformat(p["bid_deadline"])
    # let the clock run for real, from 1.5 s before the deadline (wide enough for a loaded machine)
    clock.freeze(None)
    clock.set_offset(deadline - datetime.now(UTC) - timedelta(milliseconds=1500))
    outcomes: list[tuple[int, datetime, datetime, int, dict]] = []
    rng = random.Random(7)

    async def bidder(who: int, attempt: int) -> None:
        await asyncio.sleep(rng.uniform(0, 3.0))
        sent = clock.now()
        r = await w.bid(p["id"], who, f"{40000 - who * 100 - attempt}.00")
        outcomes.append((who, sent, clock.now(), r.status_code, r.json()))

    closed_at: list[datetime] = []

    async def worker() -> None:
        while not closed_at:
            await asyncio.sleep(0.02)
            if await timeline.tick(factory, settings, clock.now()):
                closed_at.append(clock.now())

    await asyncio.gather(worker(), *(bidder(who, a) for who in range(20) for a in range(3)))
    accepted = [o for o in outcomes if o[3] == 201]
    refused = [o for o in outcomes if o[3] != 201]
    assert accepted and refused, (len(accepted), len(refused))
    print(f"[{backend}] {len(accepted)} bids accepted before the deadline, {len(refused)} refused after it")
    assert all(o[3] == 422 and o[4]["type"].endswith("rule-violation") for o in refused), refused
    for _who, _sent, _done, _status, body in accepted:
        assert datetime.fromisoformat(body["received_at"]) < deadline
    for _who, sent, _done, _status, _body in outcomes:
        if sent >= deadline:
            assert _status != 201
    async with factory() as session:
        rows = list(await session.scalars(select(Bid).where(Bid.purchase_id == uuid.UUID(p["id"]))))
        purchase = await session.get(Purchase, uuid.UUID(p["id"]))
    assert len(rows) == len(accepted)
    assert all(b.received_at < deadline for b in rows)
    assert purchase.status == "evaluating" and purchase.opened_at >= deadline
    # every bid stored was received before the opening, and the active one is each firm's last
    assert all(b.received_at < purchase.opened_at for b in rows)
    last: dict = {}
    for b in rows:
        if b.provider_id not in last or b.received_at > last[b.provider_id].received_at:
            last[b.provider_id] = b
    assert {b.id for b in rows if b.status == "active"} == {b.id for b in last.values()}


async def test_parallel_publishing_gives_gap_free_references(client, factory):
    w = await make_world(client, factory, providers=0)
    drafts = [await w.draft(title=f"并发发布测试项目第{i:02d}号") for i in range(20)]
    results = await asyncio.gather(
        *(client.post(f"/api/v1/purchases/{d['id']}/publish", headers=w.owner) for d in drafts)
    )
    assert all(r.status_code == 200 for r in results), [r.text for r in results if r.status_code != 200]
    refs = sorted(r.json()["ref"] for r in results)
    assert refs == [f"CG-2026-{n:06d}" for n in range(1, 21)]


async def test_parallel_workers_award_once(client, factory, settings):
    w = await make_world(client, factory)
    awarded: list = []

    async def on_award(session, event: PurchaseAwarded) -> None:
        awarded.append(event.purchase_id)

    with events.handlers.scoped():
        events.subscribe(PurchaseAwarded, on_award)
        ids = []
        for n in range(3):
            p = await w.published(title=f"并行工作进程测试项目{n}")
            for i, price in enumerate(["41000", "40000", "42000"]):
                assert (await w.bid(p["id"], i, price)).status_code == 201
            ids.append(p)
        w.past_deadline(ids[-1])
        results = await asyncio.gather(*(timeline.tick(factory, settings, clock.now()) for _ in range(4)))
        assert sum(results) == 3
        for p in ids:
            r = await client.post(f"/api/v1/purchases/{p['id']}/select", headers=w.owner, json={})
            assert r.status_code == 200, r.text
        clock.advance(timedelta(seconds=5))
        results = await asyncio.gather(*(timeline.tick(factory, settings, clock.now()) for _ in range(4)))
        assert sum(results) == 3
        assert sorted(map(str, awarded)) == sorted(p["id"] for p in ids)


async def test_a_failing_award_does_not_block_other_transitions(client, factory, settings):
    w = await make_world(client, factory)

    async def broken(session, event: PurchaseAwarded) -> None:
        raise RuntimeError("the contracts package is broken")

    first = await w.published(title="第一个项目：颁发时出错")
    second = await w.published(title="第二个项目：正常开标")
    for i, price in enumerate(["41000", "40000", "42000"]):
        assert (await w.bid(first["id"], i, price)).status_code == 201
    w.past_deadline(first)
    assert await timeline.tick(factory, settings, clock.now()) == 2  # both close (the second fails: no bids)
    assert (await client.post(f"/api/v1/purchases/{first['id']}/select", headers=w.owner, json={})).status_code == 200
    third = await w.published(title="第三个项目：稍后截止")
    w.past_deadline(third)  # the first's publicity is over too
    with events.handlers.scoped():
        events.subscribe(PurchaseAwarded, broken)
        # the award of the first fails and is rolled back; the third still closes in the same tick
        assert await timeline.tick(factory, settings, clock.now()) == 1
        async with factory() as session:
            statuses = {
                str(p.id): p.status for p in await session.scalars(select(Purchase).where(Purchase.title.like("第%")))
            }
        assert statuses[first["id"]] == "publicity" and statuses[third["id"]] == "failed"
        assert statuses[second["id"]] == "failed"
    assert await timeline.tick(factory, settings, clock.now()) == 1  # retried and awarded once the handler is fixed
