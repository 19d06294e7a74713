"""What the bidding facts send, in the transaction of each fact: the new-purchase subscription,
clarification answers, bids ready, objections (filed and decided), cancellation requests and
their outcome; a refused request sends nothing."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from market import clock
from market.identity.models import User
from market.notify.models import Notification
from oversight.notifications import digest_tick
from tests.integration.bidding_world import ACCELERATOR, make_world
from tests.integration.helpers import account, assert_problem

REASON = "上级主管部门调整建设计划，本项目暂停实施。"


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


async def _sent(factory, org_id=None, kind: str | None = None) -> list[Notification]:
    async with factory() as session:
        query = select(Notification).join(User, User.id == Notification.user_id)
        if org_id is not None:
            query = query.where(User.org_id == org_id)
        if kind is not None:
            query = query.where(Notification.kind == kind)
        return list(await session.scalars(query.order_by(Notification.created_at)))


async def _org_of(client, headers):
    return (await client.get("/api/v1/auth/me", headers=headers)).json()["org_id"]


async def test_subscription_answers_and_objections(client, factory, settings):
    w = await make_world(client, factory, settings)
    admin = await account(client, factory, "admin", "ops")
    p = await w.published()
    # every qualified firm hears of the new purchase; the unqualified one does not
    told = {n.user_id for n in await _sent(factory, kind="bidding.new_purchase")}
    assert len(told) == 4
    assert not [n for n in await _sent(factory, kind="bidding.new_purchase") if n.params.find(p["ref"]) < 0]

    # a clarification answered: only the asker is told (the asker stays anonymous to others)
    q = await client.post(
        f"/api/v1/purchases/{p['id']}/questions", headers=w.providers[0][0], json={"question": "成果需要几份纸质版？"}
    )
    assert q.status_code == 201, q.text
    a = await client.post(f"/api/v1/questions/{q.json()['id']}/answer", headers=w.owner, json={"answer": "一式五份。"})
    assert a.status_code == 200, a.text
    [answered] = await _sent(factory, kind="bidding.clarification_answered")
    assert answered.user_id in {n.user_id for n in await _sent(factory, org_id=w.providers[0][1])}
    assert json.loads(answered.params)["answer"] == "一式五份。"

    for i, price in enumerate(["40000", "41000", "42000", "43000"]):
        assert (await w.bid(p["id"], i, price)).status_code == 201
    w.past_deadline(p)
    await w.tick()
    assert (await client.get(f"/api/v1/purchases/{p['id']}")).json()["status"] == "evaluating"
    [ready] = await _sent(factory, org_id=w.owner_id, kind="bidding.bids_ready")
    assert json.loads(ready.params)["valid"] == "4"

    result = (await client.post(f"/api/v1/purchases/{p['id']}/select", headers=w.owner, json={})).json()
    objector = next(h for h, org in w.providers if str(org) != result["winner_provider_id"])
    # every bidder hears of the result while it may still object (round 1, until the publicity ends)
    published = await _sent(factory, kind="bidding.result_published")
    bidder_orgs = {org for _h, org in w.providers[:4]}
    async with factory() as session:
        told = {(await session.get(User, n.user_id)).org_id for n in published}
    assert told == bidder_orgs
    assert all(json.loads(n.params)["round"] == "1" and json.loads(n.params)["until"] for n in published)
    theirs = (await client.get("/api/v1/notifications", headers=objector)).json()["items"]
    assert "书面提出质疑" in next(i for i in theirs if i["kind"] == "bidding.result_published")["body"]
    url = f"/api/v1/purchases/{p['id']}/objections"
    filed = await client.post(url, headers=objector, json={"reason": "中选单位拟派人员资格存疑，请核查。"})
    assert filed.status_code == 201, filed.text
    # a refused request (a second objection) sends nothing
    assert_problem(await client.post(url, headers=objector, json={"reason": "中选单位拟派人员资格存疑，请核查。"}), 409)
    assert len(await _sent(factory, org_id=w.owner_id, kind="bidding.objection_filed")) == 1
    assert len(await _sent(factory, kind="bidding.objection_to_review")) == 1  # the operator

    decide = f"/api/v1/objections/{filed.json()['id']}/decide"
    r = await client.post(
        decide, headers=admin, json={"upheld": False, "decision": "经核查，拟派人员资格符合要求，质疑不成立。"}
    )
    assert r.status_code == 200, r.text
    mine = (await client.get("/api/v1/notifications", headers=objector)).json()["items"]
    decided = next(i for i in mine if i["kind"] == "bidding.objection_decided")
    assert "驳回" in decided["body"] and "质疑不成立" in decided["body"]
    english = (await client.get("/api/v1/notifications", headers=objector, params={"lang": "en"})).json()["items"]
    assert "dismissed" in next(i for i in english if i["kind"] == "bidding.objection_decided")["body"]


async def test_cancellation_request_and_approval(client, factory, settings):
    w = await make_world(client, factory, settings)
    admin = await account(client, factory, "admin", "ops")
    p = await w.published()
    for i in range(3):
        assert (await w.bid(p["id"], i, f"{40000 + 1000 * i}")).status_code == 201
    w.past_deadline(p)
    await w.tick()
    assert (await client.get(f"/api/v1/purchases/{p['id']}")).json()["status"] == "evaluating"
    r = await client.post(
        f"/api/v1/purchases/{p['id']}/cancellation-requests", headers=w.owner, json={"reason": REASON}
    )
    assert r.status_code == 201, r.text
    ops = (await client.get("/api/v1/notifications", headers=admin)).json()["items"]
    assert [i["kind"] for i in ops] == ["bidding.cancellation_requested"] and REASON in ops[0]["body"]
    assert ops[0]["link"] == "/admin/cancellations"
    d = await client.post(
        f"/api/v1/cancellation-requests/{r.json()['id']}/decide",
        headers=admin,
        json={"approved": True, "decision": "同意取消，理由充分。"},
    )
    assert d.status_code == 200, d.text
    cancelled = await _sent(factory, kind="bidding.cancelled")
    bidders = Counter()
    for n in cancelled:
        async with factory() as session:
            bidders[(await session.get(User, n.user_id)).org_id] += 1
    assert set(bidders) == {org for _h, org in w.providers[:3]} and set(bidders.values()) == {1}

    # the finance bureau's daily digest names the new high red flag (cancelled after opening), once
    finance = await account(client, factory, "finance", "czj")
    assert await digest_tick(factory, settings, clock.now()) == 1
    assert await digest_tick(factory, settings, clock.now()) == 0  # once a day
    [digest] = (await client.get("/api/v1/notifications", headers=finance)).json()["items"]
    assert digest["kind"] == "oversight.high_flags" and digest["subject"] == "1 个新的高风险预警"
    assert p["ref"] in digest["body"] and digest["link"] == "/finance/flags?severity=high"
    clock.advance(timedelta(days=1))
    assert await digest_tick(factory, settings, clock.now()) == 0  # the next day: nothing new
    assert len(await _sent(factory, kind="oversight.high_flags")) == 1
