"""Who may bid, on what terms, until when; replacing and withdrawing; the database's own guard."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from market import clock
from market.identity.models import Organization
from tests.integration.bidding_world import ACCELERATOR, CODE, make_world
from tests.integration.helpers import assert_problem, login, make_user, provider, qualify


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


async def test_eligibility(client, factory, settings):
    w = await make_world(client, factory, settings)
    avoided_headers, avoided_id = await provider(client, factory, "avoided", [CODE], "回避测试咨询有限公司")
    p = await w.published(avoid_provider_ids=[str(avoided_id)])
    url = f"/api/v1/purchases/{p['id']}/bids"
    ok = {"price": "40000", "service_days": 10}
    assert_problem(await client.post(url, json=ok), 401)
    assert_problem(await client.post(url, headers=w.owner, json=ok), 403)
    assert_problem(await client.post(url, headers=w.outsider, json=ok), 403)  # no qualification
    assert_problem(await client.post(url, headers=avoided_headers, json=ok), 403)  # on the avoid list
    # an expired qualification does not count
    user = await make_user(factory, "provider", "资质过期咨询有限公司", "expired")
    await qualify(factory, user.org_id, [CODE], valid_until=date(2025, 12, 31))
    expired = await login(client, "expired")
    assert_problem(await client.post(url, headers=expired, json=ok), 403)
    # a suspended or blacklisted firm cannot bid
    suspended_headers, suspended_id = await provider(client, factory, "suspended", [CODE], "暂停测试咨询有限公司")
    async with factory() as session:
        org = await session.get(Organization, suspended_id)
        org.status = "suspended"
        await session.commit()
    assert_problem(await client.post(url, headers=suspended_headers, json=ok), 403)
    # price and days within the terms
    bidder = w.providers[0][0]
    assert_problem(await client.post(url, headers=bidder, json={"price": "50000.01", "service_days": 10}), 422, "price")
    assert_problem(await client.post(url, headers=bidder, json={"price": "0", "service_days": 10}), 422, "price")
    assert_problem(await client.post(url, headers=bidder, json={"price": "12.345", "service_days": 10}), 422, "price")
    assert_problem(
        await client.post(url, headers=bidder, json={"price": "40000", "service_days": 16}), 422, "service_days"
    )
    assert (await client.post(url, headers=bidder, json={"price": 50000, "service_days": 15})).status_code == 201


async def test_floor_replace_withdraw_and_deadline(client, factory, backend, settings):
    w = await make_world(client, factory, settings)
    p = await w.published(price_floor="30000.00")
    assert_problem(await w.bid(p["id"], 0, "29999.99"), 422, "price")
    first = await w.bid(p["id"], 0, "35000")
    second = await w.bid(p["id"], 0, "34000", note="含专家评审费")
    assert first.status_code == second.status_code == 201
    assert first.json()["digest"] != second.json()["digest"]
    headers = w.providers[0][0]
    old = (await client.get(f"/api/v1/bids/{first.json()['id']}", headers=headers)).json()
    new = (await client.get(f"/api/v1/bids/{second.json()['id']}", headers=headers)).json()
    assert old["status"] == "replaced" and new["status"] == "active" and new["note"] == "含专家评审费"
    # only the current bid can be withdrawn; another firm cannot touch it
    assert_problem(await client.delete(f"/api/v1/bids/{first.json()['id']}", headers=headers), 422)
    assert_problem(await client.delete(f"/api/v1/bids/{second.json()['id']}", headers=w.providers[1][0]), 404)
    assert (await client.delete(f"/api/v1/bids/{second.json()['id']}", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/bids", headers=headers)).json()["items"][0]["status"] == "withdrawn"
    # bid again after withdrawing
    third = await w.bid(p["id"], 0, "33000")
    assert third.status_code == 201
    # the deadline: refused one microsecond after it, also for withdrawing
    clock.freeze(datetime.fromisoformat(p["bid_deadline"]))
    late = assert_problem(await w.bid(p["id"], 1, "36000"), 422)
    assert late["type"].endswith("rule-violation")
    assert_problem(await client.delete(f"/api/v1/bids/{third.json()['id']}", headers=headers), 422)
    # the database refuses a bid row for a purchase that no longer accepts bids, even by SQL
    async with factory() as session:
        pid = uuid.UUID(p["id"]) if backend == "postgresql" else uuid.UUID(p["id"]).hex
        org = w.providers[1][1] if backend == "postgresql" else w.providers[1][1].hex
        bid_id = uuid.uuid4() if backend == "postgresql" else uuid.uuid4().hex
        moved = await session.execute(text("UPDATE purchases SET status = 'evaluating' WHERE id = :id"), {"id": pid})
        assert moved.rowcount == 1
        with pytest.raises((IntegrityError, DBAPIError)):
            await session.execute(
                text(
                    "INSERT INTO bids (id, purchase_id, provider_id, price, service_days, note, received_at, digest,"
                    " status, abnormally_low, excluded) VALUES (:id, :p, :o, 3000000, 10, '', :at, :d, 'active',"
                    " false, false)"
                ),
                {"id": bid_id, "p": pid, "o": org, "at": clock.now() - timedelta(days=1), "d": "f" * 64},
            )
        await session.rollback()
    # nor can a sealed bid be changed or deleted
    async with factory() as session:
        bid_pk = uuid.UUID(third.json()["id"]) if backend == "postgresql" else uuid.UUID(third.json()["id"]).hex
        for statement in ("UPDATE bids SET price = 1 WHERE id = :id", "DELETE FROM bids WHERE id = :id"):
            with pytest.raises((IntegrityError, DBAPIError)):
                await session.execute(text(statement), {"id": bid_pk})
            await session.rollback()
