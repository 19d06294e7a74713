"""A purchase from draft to award through the API, on both databases."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from bidding.events import PurchaseAwarded
from market import clock, events
from tests.integration.bidding_world import ACCELERATOR, make_world
from tests.integration.helpers import assert_problem


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


async def test_random_purchase_from_draft_to_award(client, factory, settings):
    w = await make_world(client, factory, settings)
    awarded: list[PurchaseAwarded] = []

    async def on_award(session, event: PurchaseAwarded) -> None:
        awarded.append(event)

    with events.handlers.scoped():
        events.subscribe(PurchaseAwarded, on_award)
        p = await w.published()
        assert p["status"] == "open" and p["ref"].startswith("CG-2026-") and len(p["draw_commitment"]) == 64
        receipts = []
        for i, price in enumerate(["42000.00", "39800.00", "45000"]):
            r = await w.bid(p["id"], i, price)
            assert r.status_code == 201, r.text
            receipts.append(r.json())
        # the receipt digest is the SHA-256 of the bid's canonical document
        doc = await client.get(f"/api/v1/bids/{receipts[0]['id']}/document", headers=w.providers[0][0])
        assert doc.status_code == 200 and hashlib.sha256(doc.content).hexdigest() == receipts[0]["digest"]
        w.past_deadline(p)
        await w.tick()
        opened = await client.get(f"/api/v1/purchases/{p['id']}/bids", headers=w.owner)
        assert opened.status_code == 200, opened.text
        assert opened.json()["total"] == 3
        r = await client.post(f"/api/v1/purchases/{p['id']}/select", headers=w.owner, json={})
        assert r.status_code == 200, r.text
        result = r.json()
        assert result["status"] == "publicity" and result["method"] == "random"
        proof = result["draw"]
        assert sorted(x["digest"] for x in receipts) == proof["candidates"]
        # recompute with hashlib only
        assert hashlib.sha256(bytes.fromhex(proof["secret"])).hexdigest() == proof["commitment"] == p["draw_commitment"]
        seed = hashlib.sha256(f"{proof['secret']}:{p['ref']}:{','.join(proof['candidates'])}".encode()).hexdigest()
        assert seed == proof["seed"] and int(seed, 16) % 3 == proof["index"]
        assert proof["candidates"][proof["index"]] == result["winner_digest"]
        # publicity ends: the worker awards
        clock.advance(timedelta(seconds=4))
        from bidding.timeline import tick

        assert await tick(factory, settings, clock.now()) == 1
        assert await tick(factory, settings, clock.now()) == 0
        final = (await client.get(f"/api/v1/purchases/{p['id']}")).json()
        assert final["status"] == "awarded"
        assert len(awarded) == 1 and awarded[0].purchase_ref == p["ref"]
        assert str(awarded[0].bid_id) == result["winner_bid_id"]
    verify = await client.get(f"/api/v1/draws/{p['ref']}/verify")
    assert verify.status_code == 200 and verify.json()["ok"] is True


async def test_draft_validation_names_fields(client, factory, settings):
    w = await make_world(client, factory, settings)
    r = await client.post(
        "/api/v1/purchases",
        headers=w.owner,
        json={
            "title": "某建设项目环评",
            "catalog_code": "ZJ-HP-01",
            "description": "编制环境影响报告书。。。。",
            "budget_cap": "100.00",
            "price_floor": "200.00",
            "funding": "fiscal",
            "method": "scored",
            "bid_deadline": clock.now().isoformat(),
            "service_days": 99,
        },
    )
    body = assert_problem(r, 422)
    fields = {e["field"] for e in body["errors"]}
    assert {"price_floor", "weights", "bid_deadline", "service_days"} <= fields, body
