"""Change notices (变更公告, issue 11.7): the owner amends an open purchase before its deadline with
a written reason; a material change moves the deadline to leave the minimum bidding period and
asks every bidder to confirm or replace its bid, or the bid is not counted. API, on both
databases, with the database's own guarantees."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from bidding.models import ChangeNotice
from bidding.purchases import earliest_deadline
from market import clock
from market.notify.models import Notification
from tests.integration.bidding_world import ACCELERATOR, make_world
from tests.integration.helpers import assert_problem, owner
from tests.integration.ocds_schema import assert_valid_package

REASON = "根据上级批复，服务范围增加一份专项报告，限价相应调整。"


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_a_material_change_moves_the_deadline_and_unconfirmed_bids_do_not_count(client, factory, settings):
    w = await make_world(client, factory, settings)
    p = await w.published(price_floor="20000.00")
    pid = p["id"]
    for i in range(4):
        assert (await w.bid(pid, i, f"{40000 + 1000 * i}")).status_code == 201
    before = _at(p["bid_deadline"])
    clock.freeze(before - timedelta(seconds=0.5))
    url = f"/api/v1/purchases/{pid}/change-notices"
    # a written reason, a later deadline, a cap above the floor; the owner of the purchase only
    assert_problem(await client.post(url, headers=w.owner, json={"budget_cap": "45000.00"}), 422, "reason")
    assert_problem(await client.post(url, headers=w.owner, json={"reason": "改", "budget_cap": "45000"}), 422, "reason")
    assert_problem(
        await client.post(
            url, headers=w.owner, json={"reason": REASON, "bid_deadline": (before - timedelta(hours=1)).isoformat()}
        ),
        422,
        "bid_deadline",
    )
    assert_problem(
        await client.post(url, headers=w.owner, json={"reason": REASON, "budget_cap": "19000"}), 422, "budget_cap"
    )
    assert_problem(await client.post(url, headers=w.owner, json={"reason": REASON}), 422)
    other, _ = await owner(client, factory, "jtj", "云岭县交通运输局")
    assert_problem(await client.post(url, headers=other, json={"reason": REASON, "budget_cap": "45000"}), 404)
    assert_problem(
        await client.post(url, headers=w.providers[0][0], json={"reason": REASON, "budget_cap": "45000"}), 403
    )
    assert (await client.get(url)).json() == []
    # the notice: the cap and the scope change, the deadline moves to leave the minimum period
    r = await client.post(
        url,
        headers=w.owner,
        json={"reason": REASON, "budget_cap": "45000.00", "description": p["description"] + " 另附专项报告一份。"},
    )
    assert r.status_code == 201, r.text
    notice = r.json()
    assert notice["material"] is True and notice["seq"] == 1 and notice["reason"] == REASON
    fields = {c["field"]: c for c in notice["changes"]}
    assert set(fields) == {"description", "budget_cap", "bid_deadline"}
    assert fields["budget_cap"]["before"] == "50000.00" and fields["budget_cap"]["after"] == "45000.00"
    published = clock.now()
    moved = _at((await client.get(f"/api/v1/purchases/{pid}")).json()["bid_deadline"])
    assert moved >= earliest_deadline(settings, published) and moved > before
    assert _at(fields["bid_deadline"]["after"]) == moved and _at(fields["bid_deadline"]["before"]) == before
    # public, in order, and nothing about the bids (sealed: not their number)
    listed = (await client.get(url)).json()
    assert [n["id"] for n in listed] == [notice["id"]]
    assert "count" not in r.text and "bids" not in r.text
    purchase = (await client.get(f"/api/v1/purchases/{pid}")).json()
    assert purchase["budget_cap"] == "45000.00" and [n["id"] for n in purchase["change_notices"]] == [notice["id"]]
    # every bidder is told to confirm or replace its bid
    async with factory() as session:
        told = list(
            await session.scalars(select(Notification.kind).where(Notification.kind.startswith("bidding.change")))
        )
    assert told and set(told) == {"bidding.change_notice_confirm"}
    # the bidders: 0 confirms (its receipt stays valid), 1 replaces, 2 and 3 do nothing
    mine = (await client.get("/api/v1/bids", headers=w.providers[0][0])).json()["items"]
    assert [b["awaiting_confirmation"] for b in mine] == [True]
    confirmed = await client.post(f"/api/v1/bids/{mine[0]['id']}/confirm", headers=w.providers[0][0])
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["digest"] == mine[0]["digest"]
    assert_problem(await client.post(f"/api/v1/bids/{mine[0]['id']}/confirm", headers=w.providers[0][0]), 422)
    assert_problem(await client.post(f"/api/v1/bids/{mine[0]['id']}/confirm", headers=w.providers[1][0]), 404)
    assert (await client.get("/api/v1/bids", headers=w.providers[0][0])).json()["items"][0][
        "awaiting_confirmation"
    ] is False
    assert (await w.bid(pid, 1, "41500")).status_code == 201
    # the deadline: the unconfirmed bids are not counted
    w.past_deadline({"bid_deadline": moved.isoformat()})
    await w.tick()
    got = (await client.get(f"/api/v1/purchases/{pid}")).json()
    assert got["status"] in {"evaluating", "failed"} and got["valid_bid_count"] == 2
    opened = (await client.get(f"/api/v1/purchases/{pid}/bids", headers=w.owner)).json()
    by_reason = sorted((b["valid"], b["invalid_reason"]) for b in opened["items"])
    assert by_reason == [(False, "not_confirmed_after_change")] * 2 + [(True, None)] * 2
    # after the deadline no notice is accepted
    assert_problem(await client.post(url, headers=w.owner, json={"reason": REASON, "budget_cap": "44000"}), 422)


async def test_a_deadline_extension_alone_needs_no_confirmation(client, factory, settings):
    w = await make_world(client, factory, settings)
    p = await w.published()
    pid = p["id"]
    for i in range(3):
        assert (await w.bid(pid, i, f"{40000 + 1000 * i}")).status_code == 201
    later = _at(p["bid_deadline"]) + timedelta(hours=2)
    r = await client.post(
        f"/api/v1/purchases/{pid}/change-notices",
        headers=w.owner,
        json={"reason": "应投标人要求延长投标截止时间。", "bid_deadline": later.isoformat()},
    )
    assert r.status_code == 201, r.text
    assert r.json()["material"] is False and [c["field"] for c in r.json()["changes"]] == ["bid_deadline"]
    items = (await client.get("/api/v1/bids", headers=w.providers[0][0])).json()["items"]
    assert [b["awaiting_confirmation"] for b in items] == [False]
    # the notice is an amendment of the OCDS release, which validates against the schema
    package = (await client.get("/api/v1/ocds/releases")).json()
    assert_valid_package(package)
    (release,) = [x for x in package["releases"] if x["tender"]["id"] == p["ref"]]
    (amendment,) = release["tender"]["amendments"]
    assert amendment["id"] == f"{p['ref']}-BG1" and amendment["rationale"] == "应投标人要求延长投标截止时间。"
    (change,) = amendment["changes"]
    assert change["property"] == "tender/tenderPeriod/endDate" and _at(change["former_value"]) == _at(p["bid_deadline"])
    assert _at(release["tender"]["tenderPeriod"]["endDate"]) == later
    w.past_deadline({"bid_deadline": later.isoformat()})
    await w.tick()
    assert (await client.get(f"/api/v1/purchases/{pid}")).json()["valid_bid_count"] == 3
    # the database: a notice never changes, and an open purchase's other terms stay frozen
    async with factory() as session:
        notice = await session.scalar(select(ChangeNotice).where(ChangeNotice.purchase_id == uuid.UUID(p["id"])))
        assert notice is not None
    for statement in (
        "UPDATE purchase_change_notices SET reason = 'changed afterwards'",
        "DELETE FROM purchase_change_notices",
    ):
        async with factory() as session:
            with pytest.raises((IntegrityError, DBAPIError)):
                await session.execute(text(statement))
                await session.commit()


async def test_an_open_purchase_changes_only_its_amendable_terms(client, factory, settings):
    w = await make_world(client, factory, settings)
    p = await w.published()
    async with factory() as session:
        with pytest.raises((IntegrityError, DBAPIError)):
            await session.execute(
                text("UPDATE purchases SET title = 'another title' WHERE ref = :ref"), {"ref": p["ref"]}
            )
            await session.commit()
    async with factory() as session:
        await session.execute(text("UPDATE purchases SET service_days = 12 WHERE ref = :ref"), {"ref": p["ref"]})
        await session.commit()


async def test_the_pages_publish_a_notice_and_a_bidder_confirms_without_script(client, factory, settings):
    w = await make_world(client, factory, settings)
    p = await w.published()
    pid = p["id"]
    assert (await w.bid(pid, 0, "40000")).status_code == 201
    clock.freeze(clock.now() + timedelta(seconds=1))
    manage = (await client.get(f"/workspace/purchases/{pid}", headers=w.owner)).text
    assert f'action="/workspace/purchases/{pid}/change-notices"' in manage
    stored = (await client.get(f"/api/v1/purchases/{pid}")).json()
    form = {
        "reason": "",
        "description": stored["description"],
        "budget_cap": "48000",
        "bid_deadline": clock.to_local(_at(stored["bid_deadline"])).strftime("%Y-%m-%dT%H:%M"),
        "service_days": str(stored["service_days"]),
    }
    url = f"/workspace/purchases/{pid}/change-notices"
    # refused: the form again, the error next to the field, the values kept, nothing changed
    r = await client.post(url, headers=w.owner, data=form)
    assert r.status_code == 422 and 'id="err-reason"' in r.text and 'value="48000"' in r.text
    assert (await client.get(f"/api/v1/purchases/{pid}")).json()["change_notices"] == []
    r = await client.post(url, headers=w.owner, data={**form, "reason": REASON})
    assert r.status_code == 303, r.text
    announcement = (await client.get(r.headers["location"])).text
    assert 'id="change-notices"' in announcement and REASON in announcement
    notice = (await client.get(f"/api/v1/purchases/{pid}/change-notices")).json()[0]
    assert notice["material"] is True and notice["changes"][0]["field"] == "budget_cap"
    # the bidder: a confirm button on the announcement, a plain form
    page = (await client.get(f"/purchases/{pid}", headers=w.providers[0][0])).text
    bid_id = (await client.get("/api/v1/bids", headers=w.providers[0][0])).json()["items"][0]["id"]
    assert f'action="/workspace/bids/{bid_id}/confirm"' in page
    r = await client.post(f"/workspace/bids/{bid_id}/confirm", headers=w.providers[0][0], data={})
    assert r.status_code == 303, r.text
    page = (await client.get(f"/purchases/{pid}", headers=w.providers[0][0])).text
    assert f'action="/workspace/bids/{bid_id}/confirm"' not in page
    # a second confirmation is refused on the page, not a 500
    r = await client.post(f"/workspace/bids/{bid_id}/confirm", headers=w.providers[0][0], data={})
    assert r.status_code == 422 and "text/html" in r.headers["content-type"]
