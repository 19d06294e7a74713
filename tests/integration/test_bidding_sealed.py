"""Sealed bids: until the deadline nobody but the bidder can read a bid or learn how many there are.

Every route a viewer could use is fetched before any bid exists and again after several bids
were submitted, replaced and withdrawn: the answers must be byte-identical (API, pages, audit
trail, error messages). Reading a bid by id must answer exactly like an id that does not exist.
"""

from __future__ import annotations

import hashlib
import uuid

import pytest

from tests.integration.bidding_world import ACCELERATOR, make_world
from tests.integration.helpers import account, owner


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


def _routes(p: dict, ref: str) -> list[tuple[str, str]]:
    pid = p["id"]
    return [
        ("GET", f"/api/v1/purchases/{pid}"),
        ("GET", "/api/v1/purchases"),
        ("GET", "/api/v1/purchases?status=open"),
        ("GET", f"/api/v1/purchases?q={ref}"),
        ("GET", "/api/v1/purchases/mine"),
        ("GET", f"/api/v1/purchases/{pid}/bids"),
        ("GET", f"/api/v1/purchases/{pid}/evaluation"),
        ("GET", f"/api/v1/purchases/{pid}/result"),
        ("GET", f"/api/v1/purchases/{pid}/questions"),
        ("POST", f"/api/v1/purchases/{pid}/select"),
        ("GET", f"/api/v1/draws/{ref}/verify"),
        ("GET", "/api/v1/bids"),
        ("GET", "/api/v1/objections"),
        ("GET", "/api/v1/audit/events?limit=500"),
        ("GET", "/api/v1/audit/verify"),
        ("GET", "/purchases"),
        ("GET", "/purchases?status=open"),
        ("GET", f"/purchases/{pid}"),
        ("GET", f"/workspace/purchases/{pid}"),
        ("GET", f"/workspace/purchases/{pid}/evaluate"),
        ("GET", "/workspace/purchases"),
        ("GET", "/workspace/bidding/open"),
        ("GET", "/workspace/bids"),
        ("GET", f"/verify/draw/{ref}"),
        ("GET", "/admin/objections"),
        ("GET", "/finance/audit"),
        ("GET", "/workspace"),
    ]


async def _snapshot(client, viewers: dict, routes) -> dict:
    seen = {}
    for who, headers in viewers.items():
        for method, path in routes:
            if method == "POST":
                r = await client.post(path, headers=headers, json={})
            else:
                r = await client.get(path, headers=headers)
            seen[(who, method, path)] = (r.status_code, r.text)
    return seen


async def test_nothing_about_bids_leaks_before_the_deadline(client, factory, settings):
    w = await make_world(client, factory, settings, providers=5)
    admin = await account(client, factory, "admin", "ops")
    finance = await account(client, factory, "finance", "czj")
    other_owner, _ = await owner(client, factory, "jtj", "云岭县交通运输局")
    p = await w.published()
    bidder_a, bidder_c, bidder_d = w.providers[0][0], w.providers[2][0], w.providers[3][0]
    viewers = {
        "public": {},
        "owner": w.owner,
        "other-owner": other_owner,
        "admin": admin,
        "finance": finance,
        "other-provider": w.providers[1][0],  # qualified, does not bid
        "outsider": w.outsider,
    }
    routes = _routes(p, p["ref"])
    before = await _snapshot(client, viewers, routes)

    # bids arrive: one replaced, one withdrawn
    first = await w.bid(p["id"], 0, "42000.00")
    second = await w.bid(p["id"], 0, "41000.00")
    assert first.status_code == second.status_code == 201, second.text
    c = await w.bid(p["id"], 2, "39000.00")
    d = await w.bid(p["id"], 3, "40500.00")
    assert (await client.delete(f"/api/v1/bids/{d.json()['id']}", headers=bidder_d)).status_code == 204
    after = await _snapshot(client, viewers, routes)
    changed = [k for k in before if before[k] != after[k]]
    assert not changed, changed

    # a bid id answers like an unknown id, for every route and every viewer but its bidder
    bid_ids = [first.json()["id"], second.json()["id"], c.json()["id"], d.json()["id"]]
    unknown = str(uuid.uuid4())
    for who, headers in viewers.items():
        for bid_id in bid_ids:
            for method, suffix, body in (
                ("GET", "", None),
                ("GET", "/document", None),
                ("DELETE", "", None),
                ("POST", "/explanation", {"explanation": "成本说明" * 10}),
            ):
                real = await client.request(method, f"/api/v1/bids/{bid_id}{suffix}", headers=headers, json=body)
                fake = await client.request(method, f"/api/v1/bids/{unknown}{suffix}", headers=headers, json=body)
                assert real.status_code == fake.status_code, (who, method, suffix, real.text)
                assert real.text.replace(bid_id, unknown) == fake.text, (who, method, suffix)
    # the bidder reads its own bid and its document, whose SHA-256 is the receipt digest
    mine = await client.get(f"/api/v1/bids/{second.json()['id']}", headers=bidder_a)
    assert mine.status_code == 200 and mine.json()["price"] == "41000.00" and mine.json()["status"] == "active"
    doc = await client.get(f"/api/v1/bids/{second.json()['id']}/document", headers=bidder_a)
    assert hashlib.sha256(doc.content).hexdigest() == second.json()["digest"]
    listed = (await client.get("/api/v1/bids?history=true", headers=bidder_a)).json()
    assert {b["status"] for b in listed["items"]} == {"active", "replaced"}
    # another bidder's own view shows only its own bid
    assert [b["id"] for b in (await client.get("/api/v1/bids", headers=bidder_c)).json()["items"]] == [c.json()["id"]]

    # after the deadline the owner, the operator and finance see the opened bids; others still do not
    w.past_deadline(p)
    await w.tick()
    for headers in (w.owner, admin, finance):
        opened = await client.get(f"/api/v1/purchases/{p['id']}/bids", headers=headers)
        assert opened.status_code == 200 and opened.json()["total"] == 2, opened.text
        assert (await client.get(f"/api/v1/bids/{c.json()['id']}", headers=headers)).status_code == 200
    # another owner: no such bid, no such purchase of theirs; a firm: not a role that opens bids;
    # the public: sign in first
    for headers, bid_status, bids_status in ((other_owner, 404, 404), (w.providers[1][0], 404, 403), ({}, 401, 401)):
        assert (await client.get(f"/api/v1/bids/{c.json()['id']}", headers=headers)).status_code == bid_status
        assert (await client.get(f"/api/v1/purchases/{p['id']}/bids", headers=headers)).status_code == bids_status
    detail = (await client.get(f"/api/v1/purchases/{p['id']}")).json()
    # two valid bids, fewer than the minimum of three: the purchase failed at the opening
    assert detail["status"] == "failed" and detail["bid_count"] == 2 and detail["valid_bid_count"] == 2
    assert detail["fail_reason"] == "too_few_valid_bids"
    # the opening wrote every bid into the audit trail, replaced and withdrawn ones included
    events = (await client.get("/api/v1/audit/events?action=bid.opened", headers=admin)).json()
    assert sorted(e["entity_id"] for e in events["items"]) == sorted(bid_ids)


async def test_a_cancelled_purchase_keeps_its_bids_sealed(client, factory, settings):
    w = await make_world(client, factory, settings)
    admin = await account(client, factory, "admin", "ops")
    p = await w.published()
    b = await w.bid(p["id"], 0, "42000.00")
    r = await client.post(f"/api/v1/purchases/{p['id']}/cancel", headers=w.owner, json={"reason": "项目取消，不再采购"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    w.past_deadline(p)
    await w.tick()
    for headers in (w.owner, admin):
        assert (await client.get(f"/api/v1/purchases/{p['id']}/bids", headers=headers)).status_code == 403
        assert (await client.get(f"/api/v1/bids/{b.json()['id']}", headers=headers)).status_code == 404
    assert (await client.get(f"/api/v1/purchases/{p['id']}")).json()["bid_count"] is None
    # the bidder still has its receipt
    assert (await client.get(f"/api/v1/bids/{b.json()['id']}", headers=w.providers[0][0])).status_code == 200
