"""Drafting, editing, publishing, cancelling and republishing purchases; clarifications; the
database guarantees behind them; request-time deadlines; every transition audited."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from market import clock
from market.audit.models import AuditEvent
from tests.integration.bidding_world import ACCELERATOR, CODE, make_world
from tests.integration.helpers import (
    account,
    assert_problem,
    login,
    make_catalog_item,
    make_user,
    owner,
    purchase_body,
)


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


async def test_field_rules_of_a_draft(client, factory, settings):
    w = await make_world(client, factory, settings)
    await make_catalog_item(factory, "ZJ-OLD-01", name="已取消事项", status="cancelled")
    await make_catalog_item(factory, "ZJ-CH-01", name="房产测绘", fee_type="government_priced", fee_cap="30000.00")

    async def refused(field: str, **changes):
        r = await client.post("/api/v1/purchases", headers=w.owner, json=purchase_body(CODE, **changes))
        return assert_problem(r, 422, field)

    await refused("catalog_code", catalog_code="ZJ-OLD-01")
    await refused("catalog_code", catalog_code="ZJ-NONE")
    await refused("service_days", service_days=21)  # the item's limit is 20 working days
    await refused("price_floor", price_floor="50000.00")
    await refused("budget_cap", catalog_code="ZJ-CH-01", budget_cap="30000.01")
    await refused("bid_deadline", bid_deadline=(clock.now() + timedelta(seconds=2)).isoformat())
    await refused("weights", method="scored")
    await refused("weights", method="scored", weights={"price": 60, "quality": 30, "credit": 20})
    await refused("weights", method="random", weights={"price": 60, "quality": 30, "credit": 10})
    await refused("investment_code", investment_code="12345")
    await refused("avoid_provider_ids", avoid_provider_ids=[str(w.owner_id)])
    await refused("min_bids", min_bids=0)
    await refused("extra", extra="x")
    # a government-priced item at its cap is fine; a pure-market item has no cap rule
    r = await client.post("/api/v1/purchases", headers=w.owner, json=purchase_body("ZJ-CH-01", budget_cap="30000.00"))
    assert r.status_code == 201 and r.json()["ref"] is None and r.json()["status"] == "draft"
    # direct selection defaults to one valid bid, others to three
    d = await w.draft(method="direct")
    assert (await client.get(f"/api/v1/purchases/{d['id']}", headers=w.owner)).json()["min_bids"] == 1


async def test_who_may_draft(client, factory, settings):
    w = await make_world(client, factory, settings)
    assert_problem(await client.post("/api/v1/purchases", json=purchase_body(CODE)), 401)
    assert_problem(await client.post("/api/v1/purchases", headers=w.providers[0][0], json=purchase_body(CODE)), 403)
    admin = await account(client, factory, "admin", "ops")
    assert_problem(await client.post("/api/v1/purchases", headers=admin, json=purchase_body(CODE)), 403)
    # an owner organisation that is not approved can do nothing
    user = await make_user(factory, "owner", "待审核业主单位", "pendingowner")
    async with factory() as session:
        from market.identity.models import Organization

        org = await session.get(Organization, user.org_id)
        org.status = "pending"
        await session.commit()
    pending = await login(client, "pendingowner")
    assert_problem(await client.post("/api/v1/purchases", headers=pending, json=purchase_body(CODE)), 403)


async def test_edit_publish_freeze_and_cancel(client, factory, backend, settings):
    w = await make_world(client, factory, settings)
    d = await w.draft()
    # a draft is private to its owner
    assert_problem(await client.get(f"/api/v1/purchases/{d['id']}"), 404)
    assert_problem(await client.get(f"/api/v1/purchases/{d['id']}", headers=w.providers[0][0]), 404)
    r = await client.patch(
        f"/api/v1/purchases/{d['id']}",
        headers=w.owner,
        json={
            "title": "云岭县城南污水处理厂扩建工程环评（调整）",
            "budget_cap": "48000",
            "method": "scored",
            "weights": {"price": 60, "quality": 30, "credit": 10},
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["budget_cap"] == "48000.00" and r.json()["weights"] == {"price": 60, "quality": 30, "credit": 10}
    assert_problem(
        await client.patch(f"/api/v1/purchases/{d['id']}", headers=w.owner, json={"service_days": 99}),
        422,
        "service_days",
    )
    other, _ = await owner(client, factory, "jtj")
    assert_problem(await client.post(f"/api/v1/purchases/{d['id']}/publish", headers=other), 404)
    pub = await client.post(f"/api/v1/purchases/{d['id']}/publish", headers=w.owner)
    assert pub.status_code == 200, pub.text
    body = pub.json()
    assert body["status"] == "open" and body["ref"] == "CG-2026-000001" and len(body["draw_commitment"]) == 64
    assert_problem(await client.post(f"/api/v1/purchases/{d['id']}/publish", headers=w.owner), 422)
    assert_problem(
        await client.patch(f"/api/v1/purchases/{d['id']}", headers=w.owner, json={"title": "改标题试试"}), 422
    )
    # the database refuses to change a published purchase's terms, even by SQL (while it is open,
    # only the four a change notice amends may change: tests/integration/test_bidding_change_notices.py)
    async with factory() as session:
        with pytest.raises((IntegrityError, DBAPIError)):
            await session.execute(
                text("UPDATE purchases SET title = 'another title', min_bids = 1 WHERE id = :id"),
                {"id": uuid.UUID(d["id"]) if backend == "postgresql" else uuid.UUID(d["id"]).hex},
            )
            await session.commit()
    # cancel needs a reason
    assert_problem(
        await client.post(f"/api/v1/purchases/{d['id']}/cancel", headers=w.owner, json={"reason": "不"}), 422, "reason"
    )
    c = await client.post(f"/api/v1/purchases/{d['id']}/cancel", headers=w.owner, json={"reason": "项目暂缓实施"})
    assert c.status_code == 200 and c.json()["status"] == "cancelled"
    assert_problem(
        await client.post(f"/api/v1/purchases/{d['id']}/cancel", headers=w.owner, json={"reason": "再次取消"}), 422
    )
    final = (await client.get(f"/api/v1/purchases/{d['id']}")).json()
    assert final["cancel_reason"] == "项目暂缓实施"
    # every change is in the audit trail
    async with factory() as session:
        actions = list(
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.entity_id == d["id"]).order_by(AuditEvent.seq)
            )
        )
    assert actions == ["purchase.drafted", "purchase.edited", "purchase.published", "purchase.cancelled"]


async def test_public_list_filters_and_request_time_deadline(client, factory, settings):
    w = await make_world(client, factory, settings)
    first = await w.published(title="云岭县第一中学宿舍楼环境影响评价")
    second = await w.published(title="云岭县人民医院门诊楼环境影响评价", method="lowest_price")
    await w.draft(title="尚未发布的草稿项目")
    listed = (await client.get("/api/v1/purchases")).json()
    assert listed["total"] == 2 and {i["ref"] for i in listed["items"]} == {first["ref"], second["ref"]}
    assert (await client.get("/api/v1/purchases?q=人民医院")).json()["total"] == 1
    assert (await client.get(f"/api/v1/purchases?q={first['ref']}")).json()["items"][0]["id"] == first["id"]
    # letters match in either case (ILIKE); Chinese takes the caseless path (LIKE)
    by_ref = (await client.get(f"/api/v1/purchases?q={first['ref'].lower()}")).json()
    assert by_ref["total"] == 1 and by_ref["items"][0]["id"] == first["id"]
    assert (await client.get(f"/api/v1/purchases?q={CODE.lower()}")).json()["total"] == 2
    assert (await client.get("/api/v1/purchases?q=环境影响评价")).json()["total"] == 2
    # the total is right whether the page tells it (short) or it is counted (a full page, past the end)
    for query, total, shown in (
        ("limit=1", 2, 1),
        ("limit=1&offset=1", 2, 1),
        ("limit=2", 2, 2),
        ("limit=5&offset=1", 2, 1),
        ("limit=5&offset=7", 2, 0),
        ("q=环境影响评价&limit=1", 2, 1),
        ("q=环境影响评价&limit=1&offset=1", 2, 1),
        ("q=环境影响评价&offset=5", 2, 0),
        ("q=评价&limit=1", 2, 1),
        ("q=人民医院&limit=1", 1, 1),
        ("q=不存在的项目", 0, 0),
    ):
        page = (await client.get(f"/api/v1/purchases?{query}")).json()
        assert (page["total"], len(page["items"])) == (total, shown), query
    assert (await client.get("/api/v1/purchases?method=lowest_price")).json()["total"] == 1
    assert (await client.get(f"/api/v1/purchases?owner_id={w.owner_id}&catalog_code={CODE}")).json()["total"] == 2
    mine = (await client.get("/api/v1/purchases/mine", headers=w.owner)).json()
    assert mine["total"] == 3
    # reads never apply due transitions: the worker (here one tick) opens the bids
    for i, price in enumerate(["40000", "41000", "42000"]):
        assert (await w.bid(first["id"], i, price)).status_code == 201
    w.past_deadline(first)
    await w.tick()
    assert (await client.get("/api/v1/purchases?status=evaluating")).json()["total"] == 1
    assert (await client.get(f"/api/v1/purchases/{first['id']}")).json()["status"] == "evaluating"
    # the other one had no bids at all: it failed at its deadline
    assert (await client.get(f"/api/v1/purchases/{second['id']}")).json()["status"] == "failed"


async def test_failed_purchase_is_republished_as_a_linked_round(client, factory, settings):
    w = await make_world(client, factory, settings)
    p = await w.published()
    assert (await w.bid(p["id"], 0, "40000")).status_code == 201
    assert (await w.bid(p["id"], 1, "41000")).status_code == 201
    w.past_deadline(p)
    await w.tick()
    failed = (await client.get(f"/api/v1/purchases/{p['id']}")).json()
    assert failed["status"] == "failed" and failed["fail_reason"] == "too_few_valid_bids"
    assert failed["valid_bid_count"] == 2
    assert_problem(await client.post(f"/api/v1/purchases/{p['id']}/select", headers=w.owner, json={}), 422)
    deadline = (clock.now() + timedelta(seconds=10)).isoformat()
    r = await client.post(f"/api/v1/purchases/{p['id']}/republish", headers=w.owner, json={"bid_deadline": deadline})
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["status"] == "draft" and new["ref"] is None
    assert_problem(await client.post(f"/api/v1/purchases/{p['id']}/republish", headers=w.owner, json={}), 409)
    pub = await client.post(f"/api/v1/purchases/{new['id']}/publish", headers=w.owner)
    assert pub.status_code == 200 and pub.json()["ref"] == "CG-2026-000002"
    round2 = (await client.get(f"/api/v1/purchases/{new['id']}")).json()
    assert round2["round"] == 2 and round2["previous_id"] == p["id"] and round2["title"] == p["title"]
    assert (await client.get(f"/api/v1/purchases/{p['id']}")).json()["next_round_id"] == new["id"]
    # the same terms, including the firms to avoid, carried over
    assert round2["budget_cap"] == p["budget_cap"] and round2["avoid_provider_ids"] == p["avoid_provider_ids"]
    # an open purchase cannot be republished
    assert_problem(await client.post(f"/api/v1/purchases/{new['id']}/republish", headers=w.owner, json={}), 422)


async def test_clarifications_keep_the_asker_anonymous(client, factory, settings):
    w = await make_world(client, factory, settings)
    p = await w.published()
    asker = w.providers[0]
    r = await client.post(
        f"/api/v1/purchases/{p['id']}/questions", headers=asker[0], json={"question": "是否需要驻场？"}
    )
    assert r.status_code == 201, r.text
    q = r.json()
    assert set(q) == {"id", "purchase_id", "question", "asked_at", "answer", "answered_at"}
    assert_problem(
        await client.post(f"/api/v1/purchases/{p['id']}/questions", headers=w.owner, json={"question": "自问自答测试"}),
        403,
    )
    assert_problem(
        await client.post(f"/api/v1/purchases/{p['id']}/questions", headers=asker[0], json={"question": "?"}),
        422,
        "question",
    )
    other, _ = await owner(client, factory, "jtj")
    assert_problem(
        await client.post(f"/api/v1/questions/{q['id']}/answer", headers=other, json={"answer": "不需要"}), 404
    )
    a = await client.post(f"/api/v1/questions/{q['id']}/answer", headers=w.owner, json={"answer": "不需要驻场。"})
    assert a.status_code == 200 and a.json()["answer"] == "不需要驻场。"
    assert_problem(
        await client.post(f"/api/v1/questions/{q['id']}/answer", headers=w.owner, json={"answer": "再答"}), 409
    )
    public = (await client.get(f"/api/v1/purchases/{p['id']}/questions")).json()
    assert [x["answer"] for x in public] == ["不需要驻场。"]
    # neither the owner's page nor the public page names the asker
    page = await client.get(f"/workspace/purchases/{p['id']}", headers=w.owner)
    public_page = await client.get(f"/purchases/{p['id']}")
    for html in (page.text, public_page.text):
        assert "是否需要驻场？" in html and "云南第1环境咨询有限公司" not in html
    # questions close with the bidding
    w.past_deadline(p)
    await w.tick()
    assert_problem(
        await client.post(
            f"/api/v1/purchases/{p['id']}/questions", headers=asker[0], json={"question": "截止后还能问吗？"}
        ),
        422,
    )


async def test_the_services_keep_every_bound_without_the_schemas(client, factory, settings):
    """The schemas refuse these first; the services refuse them again when called without one
    (a CLI, a demo, a future route): amounts beyond NUMERIC(14,2), day counts, lengths, NUL."""
    from decimal import Decimal

    from bidding import bids, clarifications, purchases
    from bidding.schemas import PurchaseCreate
    from market.actor import Actor
    from market.errors import InvalidInput

    w = await make_world(client, factory, settings, providers=1)
    owner_actor = Actor(user_id=None, org_id=w.owner_id, role="owner")
    firm = Actor(user_id=None, org_id=w.providers[0][1], role="provider")
    valid = PurchaseCreate.model_validate(purchase_body(CODE))
    unchecked = valid.model_copy(
        update={
            "title": "ab",
            "description": "编制环境影响报告书\x00并配合审批部门完成技术评审",
            "budget_cap": Decimal("1000000000000000"),
            "service_days": 5000,
            "avoid_provider_ids": [uuid.uuid4() for _ in range(201)],
        }
    )

    async def refused(call) -> set[str]:
        async with factory() as session:
            with pytest.raises(InvalidInput) as error:
                await call(session)
            await session.rollback()
        return {e.field for e in error.value.errors}

    fields = await refused(lambda s: purchases.create_draft(s, owner_actor, settings, unchecked))
    assert fields == {"title", "description", "budget_cap", "service_days", "avoid_provider_ids"}
    p = await w.published()
    pid = uuid.UUID(p["id"])
    for price, days, note, field in (
        (Decimal("1000000000000000"), 10, "", "price"),
        (Decimal("40000"), 5000, "", "service_days"),
        (Decimal("40000"), 10, "含专家评审\x00费用", "note"),
        (Decimal("40000"), 10, "长" * 2001, "note"),
    ):
        assert await refused(
            lambda s, price=price, days=days, note=note: bids.submit(
                s, firm, settings, pid, price=price, service_days=days, note=note
            )
        ) == {field}
    for text_ in ("问" * 4001, "需要驻场\x00吗？"):
        assert await refused(lambda s, t=text_: clarifications.ask(s, firm, settings, pid, t)) == {"question"}
    assert await refused(lambda s: purchases.cancel(s, owner_actor, settings, pid, "理" * 4001)) == {"reason"}
    # nothing of it was stored
    assert (await client.get("/api/v1/bids", headers=w.providers[0][0])).json()["total"] == 0
    assert (await client.get(f"/api/v1/purchases/{pid}/questions")).json() == []
    assert (await client.get(f"/api/v1/purchases/{pid}")).json()["status"] == "open"
