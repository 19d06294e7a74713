"""Deadlines, numbering and awards under parallel requests.

* Many bids fired across the deadline while a worker closes the purchase (the clock moved by the
  test, in an order of arrival drawn from a seed): every accepted bid was received before the
  deadline, none after; the close and the bids serialise on the purchase row.
* Purchases published in parallel get gap-free, distinct references.
* Several workers ticking at once apply each transition once (one award, one event), also when
  each claims its due purchases in batches (several per transaction).
* Documents queued for rendering are claimed by one worker each.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bidding import timeline
from bidding.events import PurchaseAwarded
from bidding.models import Bid, Purchase
from invoices import documents
from invoices.models import DocumentKind, DocumentQueue
from market import clock, events
from market.audit.models import AuditEvent
from tests.integration.bidding_world import ACCELERATOR, make_world


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


async def test_concurrent_bids_across_the_deadline(client, factory, backend, settings):
    w = await make_world(client, factory, settings, providers=20)
    p = await w.published(min_bids=1)
    deadline = datetime.fromisoformat(p["bid_deadline"])
    # the clock is frozen and moved by the test, never read from the machine: each bid moves it on
    # a millisecond; once some bids are in, the deadline comes while others are in flight
    clock.freeze(deadline - timedelta(seconds=1))
    outcomes: list[tuple[int, datetime, int, dict]] = []
    rng = random.Random(7)
    some_accepted = asyncio.Event()
    closed_at: list[datetime] = []

    async def bidder(who: int, attempt: int) -> None:
        for _ in range(rng.randint(0, 40)):  # an order of arrival drawn by the seed, not by the machine's timing
            await asyncio.sleep(0)
        sent = clock.advance(timedelta(milliseconds=1))
        r = await w.bid(p["id"], who, f"{40000 - who * 100 - attempt}.00")
        outcomes.append((who, sent, r.status_code, r.json()))
        if sum(1 for o in outcomes if o[2] == 201) >= 10:
            some_accepted.set()

    async def the_deadline_passes() -> None:
        await some_accepted.wait()
        clock.freeze(deadline)
        applied = 0
        while not applied:  # a bid may hold the purchase's row: the tick skips it and comes back
            closing = clock.now()
            applied = await timeline.tick(factory, settings, closing)
        closed_at.append(closing)

    await asyncio.gather(the_deadline_passes(), *(bidder(who, a) for who in range(20) for a in range(3)))
    accepted = [o for o in outcomes if o[2] == 201]
    refused = [o for o in outcomes if o[2] != 201]
    assert len(accepted) >= 10 and refused, (len(accepted), len(refused))
    assert all(o[2] == 422 and o[3]["type"].endswith("rule-violation") for o in refused), refused
    assert all(datetime.fromisoformat(o[3]["received_at"]) < deadline for o in accepted)
    assert not [o for o in accepted if o[1] >= deadline], "a bid sent after the deadline was accepted"
    async with factory() as session:
        rows = list(await session.scalars(select(Bid).where(Bid.purchase_id == uuid.UUID(p["id"]))))
        purchase = await session.get(Purchase, uuid.UUID(p["id"]))
    assert sorted(str(b.id) for b in rows) == sorted(o[3]["id"] for o in accepted)
    assert purchase.status == "evaluating" and [purchase.opened_at] == closed_at and closed_at[0] >= deadline
    # every stored bid was received before the opening, and each firm's active bid is its last
    assert all(b.received_at < purchase.opened_at for b in rows)
    for who in {b.provider_id for b in rows}:
        mine = [b for b in rows if b.provider_id == who]
        (active,) = [b for b in mine if b.status == "active"]
        assert active.received_at == max(b.received_at for b in mine)
        assert all(b.status == "replaced" for b in mine if b is not active)


async def test_parallel_publishing_gives_gap_free_references(client, factory, settings):
    w = await make_world(client, factory, settings, providers=0)
    drafts = [await w.draft(title=f"并发发布测试项目第{i:02d}号") for i in range(20)]
    results = await asyncio.gather(
        *(client.post(f"/api/v1/purchases/{d['id']}/publish", headers=w.owner) for d in drafts)
    )
    assert all(r.status_code == 200 for r in results), [r.text for r in results if r.status_code != 200]
    refs = sorted(r.json()["ref"] for r in results)
    assert refs == [f"CG-2026-{n:06d}" for n in range(1, 21)]


async def test_parallel_workers_award_once(client, factory, settings):
    w = await make_world(client, factory, settings)
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
    w = await make_world(client, factory, settings)

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


async def test_parallel_workers_close_batches_once(client, factory, settings, monkeypatch):
    """Three workers at once, each claiming due purchases three per transaction (FOR UPDATE SKIP
    LOCKED on PostgreSQL): every purchase is closed once, with one audited close each."""
    monkeypatch.setattr(timeline, "CLAIM_BATCH", 3)
    w = await make_world(client, factory, settings)
    ids = [uuid.UUID((await w.published(title=f"批量截止测试项目第{n:02d}号"))["id"]) for n in range(8)]
    async with factory() as session:
        last = max(p.bid_deadline for p in await session.scalars(select(Purchase).where(Purchase.id.in_(ids))))
    clock.freeze(clock.ensure_aware(last) + timedelta(seconds=1))
    results = await asyncio.gather(*(timeline.tick(factory, settings, clock.now()) for _ in range(3)))
    assert sum(results) >= len(ids)  # each closes (and, with no bids, fails) once
    async with factory() as session:
        closed = list(await session.scalars(select(AuditEvent.entity_id).where(AuditEvent.action == "purchase.closed")))
        statuses = set(await session.scalars(select(Purchase.status).where(Purchase.id.in_(ids))))
    assert sorted(closed) == sorted(map(str, ids)) and statuses == {"failed"}
    assert await timeline.tick(factory, settings, clock.now()) == 0  # nothing left, nothing twice


async def test_parallel_workers_claim_each_document_once(factory):
    """Queued documents are claimed by one worker each (the claims are disjoint and cover the queue)."""
    queued = [uuid.uuid4() for _ in range(7)]
    async with factory() as session:
        for entity_id in queued:
            documents.enqueue(session, DocumentKind.invoice, entity_id)
        await session.commit()
    claims = await asyncio.gather(*(documents.claim(factory, 3) for _ in range(3)))
    taken = [entity_id for claim in claims for _kind, entity_id in claim]
    assert sorted(taken, key=str) == sorted(queued, key=str)  # each once, none left out
    assert await documents.claim(factory, 3) == []  # all claimed; none expired yet
    async with factory() as session:
        assert len(list(await session.scalars(select(DocumentQueue)))) == len(queued)
