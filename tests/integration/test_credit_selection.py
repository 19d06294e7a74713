"""Credit in selection (issue 13.3): a purchase's minimum grade refuses a firm below it at submission
and invalidates at the opening a bid whose bidder fell below it by the deadline; the scored method
counts each bidder's credit as of the deadline, snapshotted on the bid at the opening and published."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bidding.models import Bid
from listings import credit
from listings.credit import CreditFactKind
from market import clock
from tests.integration.bidding_world import ACCELERATOR, CODE, make_world
from tests.integration.helpers import account, assert_problem, purchase_body


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


async def violation(factory, firm, points: int, at: datetime | None = None) -> None:
    """The operator's violation points, pushed as the listings package does (counting at once)."""
    async with factory() as session:
        await credit.record_fact(
            session,
            provider_id=firm,
            kind=CreditFactKind.violation,
            occurred_at=at or clock.now(),
            value=Decimal(points),
            source_id=uuid.uuid4(),
            link=f"/providers/{firm}",
            note="违规记分",
        )
        await session.commit()


async def test_a_d_grade_firm_is_refused_and_a_bid_below_the_minimum_is_invalid(client, factory, settings):
    w = await make_world(client, factory, settings, providers=3)
    (_h0, low), (_h1, _fine), (_h2, falling) = w.providers
    await violation(factory, low, 40)  # 90 − 40 = 50: grade D
    bad = await client.post(
        "/api/v1/purchases", headers=w.owner, json=purchase_body(CODE, settings=w.settings, min_grade="E")
    )
    assert_problem(bad, 422, "min_grade")
    p = await w.published(method="random", min_bids=1, min_grade="C")
    assert p["min_grade"] == "C"
    # shown in the announcement, in both languages, and in the open data
    assert "最低信用等级" in (await client.get(f"/purchases/{p['id']}")).text
    assert "Minimum credit grade" in (await client.get(f"/purchases/{p['id']}?lang=en")).text
    releases = (await client.get("/api/v1/ocds/releases")).json()["releases"]
    (release,) = [r for r in releases if r["tender"]["id"] == p["ref"] or r["ocid"].endswith(p["ref"])]
    assert "不低于 C 级" in release["tender"]["eligibilityCriteria"]
    # the D-grade firm is refused with the reason, naming the field
    body = assert_problem(await w.bid(p["id"], 0, "30000.00"), 403, "min_grade")
    assert "D" in body["detail"] + str(body["errors"]) and "C" in str(body["errors"])
    mine = (await client.get(f"/purchases/{p['id']}?lang=zh", headers=w.providers[0][0])).text
    assert "信用等级 C 级及以上" in mine and "贵机构的等级为 D 级" in mine
    assert (await w.bid(p["id"], 1, "31000.00")).status_code == 201
    assert (await w.bid(p["id"], 2, "32000.00")).status_code == 201
    # the third firm falls to D before the deadline: its bid is invalid at the opening
    await violation(factory, falling, 40)
    w.past_deadline(p)
    # a fact after the deadline does not count in the snapshot
    await violation(factory, _fine, 60)
    await w.tick()
    async with factory() as session:
        bids = {
            b.provider_id: b for b in await session.scalars(select(Bid).where(Bid.purchase_id == uuid.UUID(p["id"])))
        }
    assert (bids[falling].valid, bids[falling].invalid_reason, bids[falling].credit_grade) == (
        False,
        "below_min_grade",
        "D",
    )
    assert (bids[_fine].valid, bids[_fine].credit_grade, bids[_fine].credit_score) == (True, "A", 90)
    opened = (await client.get(f"/api/v1/purchases/{p['id']}/bids", headers=w.owner)).json()["items"]
    assert {(b["invalid_reason"], b["credit_grade"]) for b in opened} == {(None, "A"), ("below_min_grade", "D")}
    # the random draw runs among the eligible bid only, and the result shows its grade
    result = (await client.post(f"/api/v1/purchases/{p['id']}/select", headers=w.owner, json={})).json()
    assert result["draw"]["candidates"] == [bids[_fine].digest]
    assert [b["credit_grade"] for b in result["bids"]] == ["A"]


async def test_scored_counts_the_credit_at_the_deadline(client, factory, settings):
    w = await make_world(client, factory, settings, providers=3)
    p = await w.published(method="scored", weights={"price": 50, "quality": 40, "credit": 10})
    for i, price in enumerate(["40000.00", "41000.00", "42000.00"]):
        assert (await w.bid(p["id"], i, price)).status_code == 201
    deadline = datetime.fromisoformat(p["bid_deadline"])
    firm0, firm1 = w.providers[0][1], w.providers[1][1]
    async with factory() as session:  # a refusal to sign a day before the deadline: 90 − 15
        await credit.record_fact(
            session,
            provider_id=firm0,
            kind=CreditFactKind.refused_to_sign,
            occurred_at=deadline - timedelta(days=1),
            value=1,
            source_id=uuid.uuid4(),
            link="/purchases/x",
        )
        await session.commit()
    w.past_deadline(p, seconds=30)
    await violation(factory, firm1, 30)  # after the deadline: not in the snapshot
    await w.tick()
    async with factory() as session:
        bids = {
            b.provider_id: b for b in await session.scalars(select(Bid).where(Bid.purchase_id == uuid.UUID(p["id"])))
        }
        now = await credit.standing(session, firm1, clock.now())
    assert (bids[firm0].credit_score, bids[firm0].credit_grade) == (75, "B")
    assert (bids[firm1].credit_score, bids[firm1].credit_grade) == (90, "A")
    assert now.score == Decimal("60.00")  # counted now, not at the deadline


async def test_an_upheld_objection_is_a_fact_against_the_winner(client, factory, settings):
    w = await make_world(client, factory, settings, providers=3)
    admin = await account(client, factory, "admin", "ops")
    p = await w.published(method="random")
    for i, price in enumerate(["40000", "41000", "42000"]):
        assert (await w.bid(p["id"], i, price)).status_code == 201
    w.past_deadline(p)
    await w.tick()
    result = (await client.post(f"/api/v1/purchases/{p['id']}/select", headers=w.owner, json={})).json()
    winner = result["winner_provider_id"]
    objector = next(h for h, org in w.providers if str(org) != winner)
    o = await client.post(
        f"/api/v1/purchases/{p['id']}/objections", headers=objector, json={"reason": "中选单位业绩材料存在问题。"}
    )
    assert o.status_code == 201, o.text
    clock.advance(timedelta(seconds=1))
    r = await client.post(
        f"/api/v1/objections/{o.json()['id']}/decide",
        headers=admin,
        json={"upheld": True, "decision": "质疑成立，排除该投标后在其余有效投标中重新抽取。"},
    )
    assert r.status_code == 200, r.text
    got = (await client.get(f"/api/v1/providers/{winner}/credit")).json()
    assert [(f["kind"], f["effect"], f["link"]) for f in got["facts"]] == [
        ("objection_upheld", "-10.00", f"/purchases/{p['id']}#round-1")
    ]
    assert Decimal(got["score"]) == Decimal("80.00")
    events = (await client.get("/api/v1/audit/events?action=credit.fact_recorded", headers=admin)).json()["items"]
    assert [e["entity_id"] for e in events] == [winner]


async def test_the_purchase_form_sets_and_clears_the_minimum_grade(client, factory, settings):
    w = await make_world(client, factory, settings, providers=1)
    draft = await w.draft()
    stored = (await client.get(f"/api/v1/purchases/{draft['id']}", headers=w.owner)).json()
    edit = f"/workspace/purchases/{draft['id']}/edit"
    page = (await client.get(edit, headers=w.owner)).text
    assert 'name="min_grade"' in page and "最低信用等级" in page and "85 分及以上" in page
    form = {
        "title": stored["title"],
        "catalog_code": CODE,
        "description": stored["description"],
        "budget_cap": stored["budget_cap"],
        "funding": "fiscal",
        "method": "random",
        "bid_deadline": datetime.fromisoformat(stored["bid_deadline"])
        .astimezone(clock.LOCAL_TZ)
        .strftime("%Y-%m-%dT%H:%M"),
        "service_days": str(stored["service_days"]),
    }
    # the same refusal as the API's, at the field
    r = await client.post(edit, headers=w.owner, data={**form, "min_grade": "E"})
    assert r.status_code == 422 and 'id="err-min_grade"' in r.text
    assert (await client.post(edit, headers=w.owner, data={**form, "min_grade": "B"})).status_code == 303
    assert (await client.get(f"/api/v1/purchases/{draft['id']}", headers=w.owner)).json()["min_grade"] == "B"
    assert 'value="B" selected' in (await client.get(edit, headers=w.owner)).text
    assert (await client.post(edit, headers=w.owner, data={**form, "min_grade": ""})).status_code == 303
    assert (await client.get(f"/api/v1/purchases/{draft['id']}", headers=w.owner)).json()["min_grade"] is None
