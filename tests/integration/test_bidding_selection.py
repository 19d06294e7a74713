"""Selection methods end to end, abnormally low prices, objections, the award event, the contract
link, and the public proof that anyone can recompute with hashlib alone."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from bidding import purchases, timeline
from bidding.events import PurchaseAwarded
from market import clock, events
from market.actor import SYSTEM
from market.audit.models import AuditEvent
from market.errors import Conflict, RuleViolation
from tests.integration.bidding_world import ACCELERATOR, make_world
from tests.integration.helpers import account, assert_problem


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


@pytest.fixture
def awards():
    seen: list[PurchaseAwarded] = []

    async def on_award(session, event: PurchaseAwarded) -> None:
        seen.append(event)

    with events.handlers.scoped():
        events.subscribe(PurchaseAwarded, on_award)
        yield seen


async def opened(w, prices: list[str], **terms) -> dict:
    p = await w.published(**terms)
    for i, price in enumerate(prices):
        r = await w.bid(p["id"], i, price)
        assert r.status_code == 201, r.text
    w.past_deadline(p)
    await w.tick()
    return (await w.client.get(f"/api/v1/purchases/{p['id']}")).json()


def recompute(result: dict) -> str:
    """Only hashlib: the winner's digest from the public result."""
    d = result["draw"]
    assert hashlib.sha256(bytes.fromhex(d["secret"])).hexdigest() == d["commitment"]
    seed = hashlib.sha256(f"{d['secret']}:{result['ref']}:{','.join(d['candidates'])}".encode()).hexdigest()
    assert seed == d["seed"] and sorted(d["candidates"]) == d["candidates"]
    return d["candidates"][int(seed, 16) % len(d["candidates"])]


async def bidder_of(w, bid_id: str) -> int:
    """Which of the world's providers made this bid."""
    for i, (headers, _org) in enumerate(w.providers):
        items = (await w.client.get("/api/v1/bids?history=true", headers=headers)).json()["items"]
        if any(b["id"] == bid_id for b in items):
            return i
    raise AssertionError(bid_id)


async def run_selection(w, p, **body):
    return await w.client.post(f"/api/v1/purchases/{p['id']}/select", headers=w.owner, json=body)


async def advance_and_tick(factory, settings, seconds: float = 5) -> int:
    clock.advance(timedelta(seconds=seconds))
    return await timeline.tick(factory, settings, clock.now())


async def test_lowest_price_tie_is_drawn(client, factory, settings):
    w = await make_world(client, factory, settings)
    p = await opened(w, ["40000", "39000", "39000.00"], method="lowest_price")
    assert p["status"] == "evaluating"
    assert_problem(await run_selection(w, p, bid_id=str(uuid.uuid4())), 422, "bid_id")
    assert_problem(await run_selection(w, p, quality_marks={str(uuid.uuid4()): 50}), 422, "quality_marks")
    r = await run_selection(w, p)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["price"] == "39000.00" and len(result["draw"]["candidates"]) == 2
    assert recompute(result) == result["winner_digest"]
    assert result["draw"]["commitment"] == p["draw_commitment"]
    public = (await client.get(f"/api/v1/purchases/{p['id']}/result")).json()
    assert public == result
    assert [b["price"] for b in public["bids"]] == ["39000.00", "39000.00", "40000.00"]
    # before the award only the winner is named
    assert [bool(b["provider_name"]) for b in public["bids"]] == [b["winner"] for b in public["bids"]]


async def test_direct_selection_needs_a_reason_and_is_visible(client, factory, settings):
    w = await make_world(client, factory, settings)
    p = await opened(w, ["40000", "45000"], method="direct")
    assert p["status"] == "evaluating" and p["min_bids"] == 1
    bids = (await client.get(f"/api/v1/purchases/{p['id']}/bids", headers=w.owner)).json()["items"]
    dearer = next(b for b in bids if b["price"] == "45000.00")
    assert_problem(await run_selection(w, p), 422, "bid_id")
    assert_problem(await run_selection(w, p, bid_id=dearer["id"]), 422, "reason")
    reason = "项目涉及抢险救灾，需在最短工期内完成。"
    result = (await run_selection(w, p, bid_id=dearer["id"], reason=reason)).json()
    assert result["reason"] == reason and result["draw"] is None and result["price"] == "45000.00"
    listed = (await client.get("/api/v1/purchases?method=direct")).json()
    assert [i["id"] for i in listed["items"]] == [p["id"]]


async def test_abnormally_low_price_needs_an_explanation_before_selection(client, factory, settings):
    w = await make_world(client, factory, settings)
    p = await opened(w, ["40000", "15000", "42000"], method="lowest_price")
    low = next(
        b
        for b in (await client.get(f"/api/v1/purchases/{p['id']}/bids", headers=w.owner)).json()["items"]
        if b["price"] == "15000.00"
    )
    assert low["abnormally_low"] is True
    mine = (await client.get(f"/api/v1/bids/{low['id']}", headers=w.providers[1][0])).json()
    assert mine["abnormally_low"] is True and mine["explanation_due_at"]
    assert_problem(await run_selection(w, p), 422)
    url = f"/api/v1/bids/{low['id']}/explanation"
    assert_problem(
        await client.post(url, headers=w.providers[0][0], json={"explanation": "我替别人解释一下价格的构成情况。"}), 404
    )
    assert_problem(
        await client.post(url, headers=w.providers[1][0], json={"explanation": "成本低"}), 422, "explanation"
    )
    text_ = "本单位已完成该区域地形测绘，基础资料可复用，人员常驻本县，成本显著降低。"
    assert (await client.post(url, headers=w.providers[1][0], json={"explanation": text_})).status_code == 200
    assert_problem(await client.post(url, headers=w.providers[1][0], json={"explanation": text_}), 422)
    result = (await run_selection(w, p)).json()
    assert result["price"] == "15000.00"
    assert next(b for b in result["bids"] if b["winner"])["abnormally_low"] is True


async def test_unexplained_abnormal_price_is_set_aside(client, factory, settings):
    w = await make_world(client, factory, settings)
    p = await opened(w, ["40000", "15000", "42000"], method="lowest_price")
    assert await advance_and_tick(factory, settings, 3) == 1
    failed = (await client.get(f"/api/v1/purchases/{p['id']}")).json()
    assert failed["status"] == "failed" and failed["valid_bid_count"] == 2
    # with a minimum of two the purchase goes on without the unexplained bid
    w2 = p  # noqa: F841 - the first purchase is done
    q = await opened(w, ["40000", "15000", "42000"], method="lowest_price", min_bids=2, title="第二个项目环境影响评价")
    assert await advance_and_tick(factory, settings, 3) == 1
    assert (await client.get(f"/api/v1/purchases/{q['id']}")).json()["status"] == "evaluating"
    result = (await run_selection(w, q)).json()
    assert result["price"] == "40000.00" and len(result["bids"]) == 2


async def test_dismissed_objection_lets_the_award_proceed(client, factory, awards, settings):
    w = await make_world(client, factory, settings, providers=5)
    admin = await account(client, factory, "admin", "ops")
    p = await opened(w, ["40000", "41000", "42000", "43000"])
    url = f"/api/v1/purchases/{p['id']}/objections"
    reason = {"reason": "中选单位拟派人员资格存疑，请核查。"}
    assert_problem(await client.post(url, headers=w.providers[0][0], json=reason), 422)  # no result yet
    result = (await run_selection(w, p)).json()
    winner = await bidder_of(w, result["winner_bid_id"])
    objector = (winner + 1) % 4
    assert_problem(await client.post(url, headers=w.providers[winner][0], json=reason), 422)
    assert_problem(await client.post(url, headers=w.providers[4][0], json=reason), 403)  # did not bid
    assert_problem(await client.post(url, headers=w.providers[objector][0], json={"reason": "不服"}), 422, "reason")
    filed = await client.post(url, headers=w.providers[objector][0], json=reason)
    assert filed.status_code == 201, filed.text
    assert_problem(await client.post(url, headers=w.providers[objector][0], json=reason), 409)
    objection = filed.json()
    # publicity ends, but the objection is pending: no award
    assert await advance_and_tick(factory, settings) == 0
    assert (await client.get(f"/api/v1/purchases/{p['id']}")).json()["status"] == "publicity"
    assert not awards
    decide = f"/api/v1/objections/{objection['id']}/decide"
    assert_problem(
        await client.post(decide, headers=w.owner, json={"upheld": False, "decision": "驳回，理由不成立。"}), 403
    )
    assert_problem(
        await client.post(decide, headers=admin, json={"upheld": False, "decision": "驳回"}), 422, "decision"
    )
    r = await client.post(
        decide, headers=admin, json={"upheld": False, "decision": "经核查，拟派人员资格符合要求，质疑不成立。"}
    )
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    assert_problem(
        await client.post(decide, headers=admin, json={"upheld": True, "decision": "改判，质疑成立理由充分。"}), 409
    )
    final = (await client.get(f"/api/v1/purchases/{p['id']}")).json()
    assert final["status"] == "awarded" and len(awards) == 1
    assert str(awards[0].bid_id) == result["winner_bid_id"]
    # the objector, the owner, the operator see the decision; another bidder does not see the objection
    for headers in (w.providers[objector][0], w.owner, admin):
        assert (await client.get(f"/api/v1/objections/{objection['id']}", headers=headers)).json()["decision"]
    other = next(i for i in range(4) if i not in (winner, objector))
    assert_problem(await client.get(f"/api/v1/objections/{objection['id']}", headers=w.providers[other][0]), 404)
    # after the award every valid bidder is named in the result
    named = (await client.get(f"/api/v1/purchases/{p['id']}/result")).json()
    assert all(b["provider_name"] for b in named["bids"])
    assert_problem(await client.post(url, headers=w.providers[other][0], json=reason), 422)  # publicity is over


async def test_upheld_objection_excludes_the_winner_and_draws_again(client, factory, awards, settings):
    w = await make_world(client, factory, settings)
    admin = await account(client, factory, "admin", "ops")
    p = await opened(w, ["40000", "41000", "42000", "43000"])
    first = (await run_selection(w, p)).json()
    assert first["next_draw_commitment"] and first["next_draw_commitment"] != first["draw"]["commitment"]
    objector = w.providers[(await bidder_of(w, first["winner_bid_id"]) + 1) % 4][0]
    o = (
        await client.post(
            f"/api/v1/purchases/{p['id']}/objections",
            headers=objector,
            json={"reason": "中选单位与采购人存在关联关系。"},
        )
    ).json()
    clock.advance(timedelta(seconds=1))
    r = await client.post(
        f"/api/v1/objections/{o['id']}/decide",
        headers=admin,
        json={"upheld": True, "decision": "经核查关联关系属实，质疑成立，排除该投标后重新抽取。"},
    )
    assert r.status_code == 200 and r.json()["status"] == "upheld"
    second = (await client.get(f"/api/v1/purchases/{p['id']}/result")).json()
    assert second["round"] == 2 and second["status"] == "publicity"
    assert second["draw"]["commitment"] == first["next_draw_commitment"]  # committed before the decision
    assert first["winner_digest"] not in second["draw"]["candidates"] and len(second["draw"]["candidates"]) == 3
    assert recompute(second) == second["winner_digest"] != first["winner_digest"]
    assert [r_["status"] for r_ in second["rounds"]] == ["overturned", "current"]
    assert next(b for b in second["bids"] if b["digest"] == first["winner_digest"])["excluded"] is True
    assert datetime.fromisoformat(second["publicity_ends_at"]) > datetime.fromisoformat(first["publicity_ends_at"])
    verify = (await client.get(f"/api/v1/draws/{p['ref']}/verify")).json()
    assert verify["ok"] and [d["round"] for d in verify["draws"]] == [1, 2]
    assert await advance_and_tick(factory, settings) == 1
    assert len(awards) == 1 and str(awards[0].bid_id) == second["winner_bid_id"]


async def test_upheld_objection_with_too_few_bids_left_fails(client, factory, settings):
    w = await make_world(client, factory, settings)
    admin = await account(client, factory, "admin", "ops")
    p = await opened(w, ["40000", "41000", "42000"])
    first = (await run_selection(w, p)).json()
    objector = w.providers[(await bidder_of(w, first["winner_bid_id"]) + 1) % 3][0]
    o = (
        await client.post(
            f"/api/v1/purchases/{p['id']}/objections", headers=objector, json={"reason": "中选单位业绩材料造假。"}
        )
    ).json()
    await client.post(
        f"/api/v1/objections/{o['id']}/decide",
        headers=admin,
        json={"upheld": True, "decision": "业绩材料经核实为虚假，质疑成立。"},
    )
    final = (await client.get(f"/api/v1/purchases/{p['id']}")).json()
    assert final["status"] == "failed" and final["fail_reason"] == "objection_upheld"


async def test_direct_selection_upheld_goes_back_to_the_owner(client, factory, settings):
    w = await make_world(client, factory, settings)
    admin = await account(client, factory, "admin", "ops")
    p = await opened(w, ["40000", "45000"], method="direct")
    bids = (await client.get(f"/api/v1/purchases/{p['id']}/bids", headers=w.owner)).json()["items"]
    chosen, other = bids[0], bids[1]
    reason = "该单位近三年在本县完成同类项目最多。"
    assert (await run_selection(w, p, bid_id=chosen["id"], reason=reason)).status_code == 200
    objector = next(h for h, org in w.providers if str(org) == other["provider_id"])
    o = (
        await client.post(
            f"/api/v1/purchases/{p['id']}/objections",
            headers=objector,
            json={"reason": "直接选取理由不充分，且中选价格更高。"},
        )
    ).json()
    await client.post(
        f"/api/v1/objections/{o['id']}/decide",
        headers=admin,
        json={"upheld": True, "decision": "选取理由不足以说明必要性，质疑成立，由采购人重新选取。"},
    )
    assert (await client.get(f"/api/v1/purchases/{p['id']}")).json()["status"] == "evaluating"
    assert_problem(await run_selection(w, p, bid_id=chosen["id"], reason=reason), 422, "bid_id")
    result = (await run_selection(w, p, bid_id=other["id"], reason="报价更低且满足全部要求，予以选取。")).json()
    assert result["round"] == 2 and result["winner_bid_id"] == other["id"]


async def test_award_event_contract_link_and_the_audit_trail(client, factory, awards, settings):
    w = await make_world(client, factory, settings)
    p = await opened(w, ["40000", "41000", "42000"])
    result = (await run_selection(w, p)).json()
    # the end of publicity: the worker awards (reads never apply due transitions)
    clock.advance(timedelta(seconds=5))
    await w.tick()
    assert (await client.get(f"/api/v1/purchases/{p['id']}")).json()["status"] == "awarded"
    (event,) = awards
    assert {f.name for f in dataclasses.fields(event)} == {
        "purchase_id",
        "purchase_ref",
        "title",
        "scope",
        "catalog_code",
        "catalog_name",
        "owner_id",
        "provider_id",
        "bid_id",
        "amount",
        "service_days",
        "method",
        "draw_seed",
        "awarded_at",
    }
    assert event.amount == Decimal(result["price"]) and isinstance(event.service_days, int)
    assert event.draw_seed == result["draw"]["seed"] and event.catalog_name == "环境影响评价文件编制"
    assert str(event.provider_id) == result["winner_provider_id"] and event.method == "random"
    # the contracts package drafted the contract inside the awarding transaction and linked it
    from invoices.models import Contract

    pid = uuid.UUID(p["id"])
    async with factory() as session:
        contract_id = await session.scalar(select(Contract.id).where(Contract.purchase_id == pid))
    assert contract_id is not None
    assert (await client.get(f"/api/v1/purchases/{p['id']}")).json()["contract_id"] == str(contract_id)
    # the announcement links the contract's public summary only once it exists (both parties signed)
    link = f'href="/contracts/{contract_id}"'
    assert link not in (await client.get(f"/purchases/{p['id']}")).text
    async with factory() as session:
        with pytest.raises(Conflict):
            await purchases.mark_contract(session, SYSTEM, pid, uuid.uuid4(), signed=True)
        await session.rollback()
        await purchases.mark_contract(session, SYSTEM, pid, contract_id, signed=True)
        await session.commit()
    assert (await client.get(f"/api/v1/purchases/{p['id']}")).json()["status"] == "contracted"
    assert link in (await client.get(f"/purchases/{p['id']}")).text
    other = await w.published(title="另一个尚在招标中的项目")
    async with factory() as session:
        with pytest.raises(RuleViolation):
            await purchases.mark_contract(session, SYSTEM, uuid.UUID(other["id"]), uuid.uuid4(), signed=False)
    async with factory() as session:
        actions = list(
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.entity_id == p["id"]).order_by(AuditEvent.seq)
            )
        )
    assert actions == [
        "purchase.drafted",
        "purchase.published",
        "purchase.closed",
        "purchase.selected",
        "purchase.awarded",
        "purchase.contract_linked",
        "purchase.contracted",
    ]


async def test_market_verify_draw(client, factory, database_url, tmp_path, backend, settings):
    from market.cli import main

    w = await make_world(client, factory, settings)
    p = await opened(w, ["40000", "41000", "42000"])
    await run_selection(w, p)
    env = {
        "MARKET_DATABASE_URL": database_url,
        "MARKET_VAR_DIR": str(tmp_path),
        "MARKET_ARGON2_PROFILE": "fast",
        "MARKET_ACCELERATOR": str(ACCELERATOR),
    }

    def cli(*args: str):  # the command runs its own event loop: give it a thread
        return asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)

    ok = await cli("verify-draw", p["ref"])
    assert ok.exit_code == 0 and "verified" in ok.output, ok.output
    as_json = await cli("verify-draw", p["ref"].lower(), "--json")
    assert json.loads(as_json.output.strip().splitlines()[-1])["ok"] is True
    unknown = await cli("verify-draw", "CG-2026-999999")
    assert unknown.exit_code == 1 and "CG-2026-999999" in unknown.output, unknown.output
    # forge the published secret (switching off the guard first, as an operator with SQL access could)
    async with factory() as session:
        if backend == "postgresql":
            await session.execute(text("ALTER TABLE selections DISABLE TRIGGER USER"))
        else:
            await session.execute(text("DROP TRIGGER selections_frozen_update"))
        forged = await session.execute(text("UPDATE selections SET draw_secret = :s"), {"s": "ab" * 32})
        assert forged.rowcount == 1  # the purchase's one selection
        await session.commit()
    bad = await cli("verify-draw", p["ref"])
    assert bad.exit_code == 1 and "FAIL commitment" in bad.output and "NOT VERIFIED" in bad.output
    page = await client.get(f"/verify/draw/{p['ref']}")
    assert page.status_code == 200 and 'class="error"' in page.text
