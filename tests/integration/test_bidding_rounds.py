"""Every round of a result, what an upheld objection will do, commitments that stay what they were
when published (issue 9 §5, §6), the draw secret encrypted at rest (issue 10 §13) and the draw
page's script as a static file (issue 10 §6)."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import text

from bidding import sealing
from market import clock
from tests.integration.bidding_world import ACCELERATOR, make_world
from tests.integration.helpers import account

HEX64 = re.compile(r"[0-9a-f]{64}")


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


async def opened(w, prices: list[str], **terms) -> dict:
    p = await w.published(**terms)
    for i, price in enumerate(prices):
        r = await w.bid(p["id"], i, price)
        assert r.status_code == 201, r.text
    w.past_deadline(p)
    await w.tick()
    return (await w.client.get(f"/api/v1/purchases/{p['id']}")).json()


async def bidder_of(w, bid_id: str) -> int:
    for i, (headers, _org) in enumerate(w.providers):
        items = (await w.client.get("/api/v1/bids?history=true", headers=headers)).json()["items"]
        if any(b["id"] == bid_id for b in items):
            return i
    raise AssertionError(bid_id)


async def object_to(w, p: dict, result: dict, n: int) -> dict:
    objector = w.providers[(await bidder_of(w, result["winner_bid_id"]) + 1) % n][0]
    r = await w.client.post(
        f"/api/v1/purchases/{p['id']}/objections", headers=objector, json={"reason": "中选单位业绩材料存在问题。"}
    )
    assert r.status_code == 201, r.text
    return r.json()


async def stored_secret(factory, commitment: str) -> str:
    """The purchases row's draw secret, read straight from the table (the purchase of that commitment)."""
    async with factory() as session:
        value = await session.scalar(
            text("SELECT draw_secret FROM purchases WHERE draw_commitment = :c"), {"c": commitment}
        )
    return str(value)


async def test_the_draw_secret_is_encrypted_until_published(client, factory, settings):
    w = await make_world(client, factory, settings)
    p = await w.published(method="random")
    # read the row as anyone with database access could, before the deadline
    stored = await stored_secret(factory, p["draw_commitment"])
    assert not HEX64.fullmatch(stored), "the secret is stored in clear"
    assert hashlib.sha256(stored.encode()).hexdigest() != p["draw_commitment"]
    # only the key derived from MARKET_SECRET_KEY opens it, and only for this purchase
    secret = sealing.unseal(settings.secret_key, uuid.UUID(p["id"]), stored, p["draw_commitment"])
    assert hashlib.sha256(bytes.fromhex(secret)).hexdigest() == p["draw_commitment"]
    with pytest.raises(ValueError):
        sealing.unseal(settings.secret_key + "x", uuid.UUID(p["id"]), stored, p["draw_commitment"])
    with pytest.raises(ValueError):
        sealing.unseal(settings.secret_key, uuid.uuid4(), stored, p["draw_commitment"])
    for i in range(3):
        assert (await w.bid(p["id"], i, str(40000 + i * 1000))).status_code == 201
    w.past_deadline(p)
    await w.tick()
    result = (await client.post(f"/api/v1/purchases/{p['id']}/select", headers=w.owner, json={})).json()
    # published as before, and it is the secret the commitment promised; the stored one is not it
    assert result["draw"]["secret"] == secret and result["draw"]["secret"] != stored
    assert hashlib.sha256(bytes.fromhex(result["draw"]["secret"])).hexdigest() == p["draw_commitment"]
    verify = (await client.get(f"/api/v1/draws/{p['ref']}/verify")).json()
    assert verify["ok"] is True
    # the next draw's secret is sealed too
    renewed = await stored_secret(factory, result["next_draw_commitment"])
    assert not HEX64.fullmatch(renewed) and renewed != stored


async def test_upheld_objection_rerun_shows_every_round_and_keeps_the_commitments(client, factory, settings):
    w = await make_world(client, factory, settings)
    admin = await account(client, factory, "admin", "ops")
    p = await opened(w, ["40000", "41000", "42000", "43000"])
    announced = p["draw_commitment"]
    first = (await client.post(f"/api/v1/purchases/{p['id']}/select", headers=w.owner, json={})).json()
    rerun_commitment = first["next_draw_commitment"]
    assert [(c["round"], c["commitment"], c["published_with_round"]) for c in first["commitments"]] == [
        (1, announced, None),
        (2, rerun_commitment, 1),
    ]
    # the page keeps the announcement's commitment as it was, and names the rerun's for what it is
    page = (await client.get(f"/purchases/{p['id']}")).text
    assert announced in page and rerun_commitment in page
    assert page.index(announced) < page.index(rerun_commitment)
    o = await object_to(w, p, first, 4)
    # the operator's form says what upholding will do before it is submitted
    listed = (await client.get("/api/v1/objections?status=pending", headers=admin)).json()["items"]
    assert listed[0]["if_upheld"] == {"action": "rerun", "remaining": 3, "min_bids": 3}
    form = (await client.get("/admin/objections", headers=admin)).text
    assert 'class="notice if-upheld"' in form and "3" in form
    clock.advance(timedelta(seconds=1))
    r = await client.post(
        f"/api/v1/objections/{o['id']}/decide",
        headers=admin,
        json={"upheld": True, "decision": "质疑成立，排除该投标后在其余有效投标中重新抽取。"},
    )
    assert r.status_code == 200 and r.json()["if_upheld"] is None
    second = (await client.get(f"/api/v1/purchases/{p['id']}/result")).json()
    assert second["round"] == 2 and second["draw"]["commitment"] == rerun_commitment
    # every round: round 1's result, its objection and decision, round 2's result
    r1, r2 = second["rounds"]
    assert (r1["status"], r1["winner_digest"]) == ("overturned", first["winner_digest"])
    assert [(x["status"], x["decision"]) for x in r1["objections"]] == [
        ("upheld", "质疑成立，排除该投标后在其余有效投标中重新抽取。")
    ]
    assert r2["status"] == "current" and r2["objections"] == [] and r2["winner_digest"] == second["winner_digest"]
    excluded = next(b for b in second["bids"] if b["digest"] == first["winner_digest"])
    assert excluded["excluded"] is True and excluded["winner"] is False
    assert [c["commitment"] for c in second["commitments"]][:2] == [announced, rerun_commitment]
    assert second["commitments"][1]["published_with_round"] == 1 and second["commitments"][1]["drawn"] is True
    page = (await client.get(f"/purchases/{p['id']}")).text
    assert 'id="round-1"' in page and 'id="round-2"' in page and "质疑成立，排除该投标后" in page
    assert announced in page and page.index(announced) < page.index(rerun_commitment)
    # each round's result is announced to the bidders while they may object to it
    async with factory() as session:
        rounds = await session.scalars(text("SELECT params FROM notifications WHERE kind = 'bidding.result_published'"))
        told = Counter(json.loads(params)["round"] for params in rounds)
    assert told == {"1": 4, "2": 4}, told


async def test_upheld_objection_that_fails_the_purchase_shows_no_winner(client, factory, settings):
    w = await make_world(client, factory, settings)
    admin = await account(client, factory, "admin", "ops")
    p = await opened(w, ["40000", "41000", "42000"])
    first = (await client.post(f"/api/v1/purchases/{p['id']}/select", headers=w.owner, json={})).json()
    o = await object_to(w, p, first, 3)
    listed = (await client.get("/api/v1/objections?status=pending", headers=admin)).json()["items"]
    assert listed[0]["if_upheld"] == {"action": "fail", "remaining": 2, "min_bids": 3}
    form = (await client.get("/admin/objections", headers=admin)).text
    assert 'class="notice if-upheld"' in form
    r = await client.post(
        f"/api/v1/objections/{o['id']}/decide",
        headers=admin,
        json={"upheld": True, "decision": "业绩材料经核实为虚假，质疑成立。"},
    )
    assert r.status_code == 200
    final = (await client.get(f"/api/v1/purchases/{p['id']}/result")).json()
    assert final["status"] == "failed" and final["winner_bid_id"] is None and final["winner_digest"] is None
    assert not any(b["winner"] for b in final["bids"])
    assert [x["status"] for x in final["rounds"]] == ["overturned"]
    assert final["rounds"][0]["objections"][0]["decision"] == "业绩材料经核实为虚假，质疑成立。"
    for path in (f"/purchases/{p['id']}", f"/workspace/purchases/{p['id']}"):
        page = (await client.get(path, headers=w.owner)).text
        assert 'class="winner"' not in page and "status-awarded" not in page, path
    public = (await client.get(f"/purchases/{p['id']}")).text
    assert "no-winner" in public and 'id="round-1"' in public


async def test_the_draw_page_has_no_inline_script(client, factory, settings):
    w = await make_world(client, factory, settings)
    p = await opened(w, ["40000", "41000", "42000"])
    await client.post(f"/api/v1/purchases/{p['id']}/select", headers=w.owner, json={})
    for path in (f"/verify/draw/{p['ref']}", f"/purchases/{p['id']}"):
        page = (await client.get(path)).text
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
        assert scripts and all('src="/static/draw-verify.js"' in attrs and not body.strip() for attrs, body in scripts)
        assert "data-text-ok=" in page and "data-text-bad=" in page
    js = await client.get("/static/draw-verify.js")
    assert js.status_code == 200 and "crypto.subtle" in js.text and "javascript" in js.headers["content-type"]
