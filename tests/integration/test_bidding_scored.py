"""Scored selection in two envelopes (issue 9 §4): the owner marks each bid's technical part with a
written reason before any price is open to it, locks the marks for good, and only then sees the
prices and runs the selection; marks and reasons are published with the result."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bidding.models import QualityMark
from tests.integration.bidding_world import ACCELERATOR, make_world
from tests.integration.helpers import account, assert_problem

PRICES = ["43217.89", "38765.43", "47123.45"]  # distinctive: any of them in a page is a leak
NOTES = [
    "技术方案甲：现场踏勘三次，专家五名。",
    "技术方案乙：两名工程师，十日完成。",
    "技术方案丙：引入无人机测绘与三维建模。",
]
WEIGHTS = {"price": 50, "quality": 40, "credit": 10}


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


def leaks(body: str) -> list[str]:
    """Every price (or its thousands-separated form) that ``body`` shows."""
    found = []
    for price in PRICES:
        whole = price.split(".")[0]
        for form in (whole, f"{int(whole):,}", price.replace(".", "")):
            if form in body:
                found.append(form)
    return found


async def scored_world(client, factory, settings):
    w = await make_world(client, factory, settings)
    p = await w.published(method="scored", weights=WEIGHTS)
    bids = []
    for i, price in enumerate(PRICES):
        r = await w.bid(p["id"], i, price, note=NOTES[i])
        assert r.status_code == 201, r.text
        bids.append(r.json()["id"])
    w.past_deadline(p)
    await w.tick()
    detail = (await client.get(f"/api/v1/purchases/{p['id']}")).json()
    assert detail["status"] == "evaluating" and detail["marks_locked_at"] is None
    return w, detail, bids


def owner_routes(pid: str, bid_ids: list[str]) -> list[str]:
    return [
        f"/api/v1/purchases/{pid}",
        "/api/v1/purchases/mine",
        f"/api/v1/purchases?q={pid}",
        f"/api/v1/purchases/{pid}/bids",
        f"/api/v1/purchases/{pid}/result",
        f"/api/v1/purchases/{pid}/evaluation",
        *(f"/api/v1/bids/{b}" for b in bid_ids),
        *(f"/api/v1/bids/{b}/document" for b in bid_ids),
        "/api/v1/objections",
        "/api/v1/audit/events?limit=500",
        f"/purchases/{pid}",
        "/purchases",
        f"/workspace/purchases/{pid}",
        f"/workspace/purchases/{pid}/evaluate",
        "/workspace/purchases",
        "/workspace",
    ]


async def test_the_owner_marks_blind_then_locks_then_sees_prices(client, factory, settings):
    w, p, bids = await scored_world(client, factory, settings)
    pid = p["id"]
    admin = await account(client, factory, "admin", "ops")
    # before the lock no page, API answer or export the owner can reach shows a price
    for path in owner_routes(pid, bids):
        r = await client.get(path, headers=w.owner)
        assert r.status_code < 500, (path, r.text)
        assert not leaks(r.text), (path, leaks(r.text))
    assert_problem(await client.get(f"/api/v1/purchases/{pid}/bids", headers=w.owner), 403)
    assert_problem(await client.get(f"/api/v1/bids/{bids[0]}", headers=w.owner), 403)
    assert_problem(await client.get(f"/api/v1/bids/{bids[0]}/document", headers=w.owner), 403)
    # the operator and the finance bureau see the opened bids as before
    opened = await client.get(f"/api/v1/purchases/{pid}/bids", headers=admin)
    assert opened.status_code == 200 and {b["price"] for b in opened.json()["items"]} == set(PRICES)
    # the technical parts: notes, no price
    ev = (await client.get(f"/api/v1/purchases/{pid}/evaluation", headers=w.owner)).json()
    assert {i["note"] for i in ev["items"]} == set(NOTES) and ev["missing"] == 3
    assert all("price" not in i for i in ev["items"])
    # the selection waits for the locked marks; marks can no longer be typed into it
    assert_problem(await client.post(f"/api/v1/purchases/{pid}/select", headers=w.owner, json={}), 422)
    assert_problem(
        await client.post(
            f"/api/v1/purchases/{pid}/select", headers=w.owner, json={"quality_marks": {b: 50 for b in bids}}
        ),
        422,
        "quality_marks",
    )
    mark = f"/api/v1/purchases/{pid}/evaluation/marks"
    assert_problem(
        await client.patch(f"{mark}/{bids[0]}", headers=w.owner, json={"mark": 80, "reason": "好"}), 422, "reason"
    )
    assert_problem(
        await client.patch(f"{mark}/{bids[0]}", headers=w.owner, json={"mark": 101, "reason": "方案完整可行。" * 2}),
        422,
        "mark",
    )
    assert_problem(
        await client.patch(
            f"{mark}/{uuid.uuid4()}", headers=w.owner, json={"mark": 80, "reason": "方案完整可行。" * 2}
        ),
        422,
        "bid_id",
    )
    assert_problem(
        await client.patch(f"{mark}/{bids[0]}", headers=admin, json={"mark": 80, "reason": "方案完整可行。" * 2}), 403
    )
    reasons = {
        bids[0]: (60, "方案可行，但踏勘安排较多，工期偏长。"),
        bids[1]: (50, "方案简略，人员配置偏少，风险措施不足。"),
        bids[2]: (100, "引入无人机测绘，成果精度高，方案最完整。"),
    }
    r = await client.patch(
        f"{mark}/{bids[0]}", headers=w.owner, json={"mark": 10, "reason": "初评，稍后修改这一分数。"}
    )
    assert r.status_code == 200 and r.json()["mark"] == 10
    r = await client.patch(f"{mark}/{bids[0]}", headers=w.owner, json={"mark": 60, "reason": reasons[bids[0]][1]})
    assert r.json()["mark"] == 60  # changed until locked
    assert_problem(await client.post(f"/api/v1/purchases/{pid}/evaluation/lock", headers=w.owner), 422, "quality_marks")
    for bid_id in bids[1:]:
        value, reason = reasons[bid_id]
        r = await client.patch(f"{mark}/{bid_id}", headers=w.owner, json={"mark": value, "reason": reason})
        assert r.status_code == 200, r.text
    # still blind after marking: only the lock opens the prices
    assert_problem(await client.get(f"/api/v1/purchases/{pid}/bids", headers=w.owner), 403)
    locked = await client.post(f"/api/v1/purchases/{pid}/evaluation/lock", headers=w.owner)
    assert locked.status_code == 200 and locked.json()["marks_locked_at"], locked.text
    # irreversible
    assert_problem(await client.post(f"/api/v1/purchases/{pid}/evaluation/lock", headers=w.owner), 422)
    assert_problem(
        await client.patch(f"{mark}/{bids[0]}", headers=w.owner, json={"mark": 99, "reason": "锁定后再改分数。"}), 422
    )
    prices = (await client.get(f"/api/v1/purchases/{pid}/bids", headers=w.owner)).json()["items"]
    assert {b["price"] for b in prices} == set(PRICES)
    result = await client.post(f"/api/v1/purchases/{pid}/select", headers=w.owner, json={})
    assert result.status_code == 200, result.text
    body = result.json()
    by_price = {b["price"]: b for b in body["bids"]}
    # 50 × lowest/price + 40 × mark/100 + 10 × credit/100 (new firms: 90, grade A, snapshotted at the
    # opening as of the deadline): the marks decided it for the dearest bid
    assert {(b["credit_score"], b["credit_grade"]) for b in body["bids"]} == {(90, "A")}
    assert {k: Decimal(v["score"]) for k, v in by_price.items()} == {
        "38765.43": Decimal("79.00"),
        "43217.89": Decimal("77.85"),
        "47123.45": Decimal("90.13"),
    }
    assert body["price"] == "47123.45"
    assert {b["quality_mark"]: b["quality_reason"] for b in body["bids"]} == {v: t for v, t in reasons.values()}
    # published: the result JSON (anyone) and the public page
    public = (await client.get(f"/api/v1/purchases/{pid}/result")).json()
    assert public == body
    page = (await client.get(f"/purchases/{pid}")).text
    assert all(reason in page for _v, reason in reasons.values())
    # the audit trail: each mark, then the lock with every mark and reason
    events = (await client.get("/api/v1/audit/events?limit=500", headers=admin)).json()["items"]
    actions = [e["action"] for e in events]
    assert actions.count("bid.quality_marked") == 4 and actions.count("purchase.quality_marks_locked") == 1
    lock_event = next(e for e in events if e["action"] == "purchase.quality_marks_locked")
    assert sorted(m["mark"] for m in lock_event["data"]["marks"]) == [50, 60, 100]
    # finance: a red flag, the dearest bid won on the marks
    finance = await account(client, factory, "finance", "czj")
    flags = (await client.get("/api/v1/finance/flags?code=quality_marks_decided", headers=finance)).json()
    assert [f["subject"]["id"] for f in flags["items"]] == [pid], flags
    flag = flags["items"][0]
    assert flag["severity"] == "high" and flag["data"]["lowest"] == "38765.43" and flag["data"]["winner_mark"] == 100


async def test_locked_marks_cannot_change_in_the_database(client, factory, settings):
    w, p, bids = await scored_world(client, factory, settings)
    mark = f"/api/v1/purchases/{p['id']}/evaluation/marks"
    for i, bid_id in enumerate(bids):
        r = await client.patch(
            f"{mark}/{bid_id}", headers=w.owner, json={"mark": 70 + i, "reason": "方案完整，人员充足。"}
        )
        assert r.status_code == 200
    # before the lock the rows may change (the service does so when a mark is corrected)
    async with factory() as session:
        await session.execute(update(QualityMark).where(col(QualityMark.bid_id) == uuid.UUID(bids[0])).values(mark=71))
        await session.commit()
    assert (await client.post(f"/api/v1/purchases/{p['id']}/evaluation/lock", headers=w.owner)).status_code == 200
    statements = [
        ("UPDATE quality_marks SET mark = 0", {}),
        ("UPDATE quality_marks SET reason = '改写后的理由，不应被接受。'", {}),
        ("DELETE FROM quality_marks", {}),
        ("UPDATE purchases SET marks_locked_at = NULL", {}),
    ]
    for sql, params in statements:
        async with factory() as session:
            with pytest.raises(IntegrityError, match="locked"):
                await session.execute(text(sql), params)
            await session.rollback()
    # no mark can be added to a purchase whose marks are locked
    async with factory() as session:
        row = await session.scalar(select(QualityMark).limit(1))
        assert row is not None
        with pytest.raises(IntegrityError, match="locked"):
            await session.execute(
                insert(QualityMark).values(
                    id=uuid.uuid4(),
                    bid_id=uuid.uuid4(),
                    purchase_id=row.purchase_id,
                    mark=1,
                    reason="事后补加的分数与理由。",
                    marked_at=row.marked_at,
                )
            )
        await session.rollback()


async def test_the_evaluation_pages(client, factory, settings):
    w, p, bids = await scored_world(client, factory, settings)
    pid = p["id"]
    manage = await client.get(f"/workspace/purchases/{pid}", headers=w.owner)
    assert f"/workspace/purchases/{pid}/evaluate" in manage.text and not leaks(manage.text)
    page = await client.get(f"/workspace/purchases/{pid}/evaluate", headers=w.owner)
    assert page.status_code == 200 and all(n in page.text for n in NOTES) and not leaks(page.text)
    assert "<details" in page.text  # the lock asks first, without JavaScript
    # a refused mark shows the page again with the error next to its field, and keeps what was typed
    refused = await client.post(
        f"/workspace/purchases/{pid}/marks/{bids[0]}", headers=w.owner, data={"mark": "80", "reason": "太短"}
    )
    assert refused.status_code == 422 and "err-reason" in refused.text and "太短" in refused.text
    assert not leaks(refused.text)
    refused = await client.post(
        f"/workspace/purchases/{pid}/marks/{bids[0]}",
        headers=w.owner,
        data={"mark": "abc", "reason": "理由足够长的一段文字。"},
    )
    assert refused.status_code == 422 and "err-mark" in refused.text
    locked_early = await client.post(f"/workspace/purchases/{pid}/marks/lock", headers=w.owner, data={})
    assert locked_early.status_code == 422 and not leaks(locked_early.text)
    for i, bid_id in enumerate(bids):
        r = await client.post(
            f"/workspace/purchases/{pid}/marks/{bid_id}",
            headers=w.owner,
            data={"mark": str(60 + i), "reason": f"第{i + 1}份技术方案：内容完整，安排合理。"},
        )
        assert r.status_code == 303 and "done=mark-saved" in r.headers["location"], r.text
    r = await client.post(f"/workspace/purchases/{pid}/marks/lock", headers=w.owner, data={})
    assert r.status_code == 303 and r.headers["location"].endswith("done=marks-locked")
    after = await client.get(f"/workspace/purchases/{pid}", headers=w.owner)
    assert leaks(after.text)  # the prices are open now
    r = await client.post(f"/workspace/purchases/{pid}/select", headers=w.owner, data={})
    assert r.status_code == 303, r.text
    public = (await client.get(f"/purchases/{pid}")).text
    assert "第3份技术方案：内容完整，安排合理。" in public


async def test_marks_that_do_not_decide_raise_no_flag(client, factory, settings):
    """The lowest valid price wins on equal marks: no flag."""
    w, p, bids = await scored_world(client, factory, settings)
    for bid_id in bids:
        r = await client.patch(
            f"/api/v1/purchases/{p['id']}/evaluation/marks/{bid_id}",
            headers=w.owner,
            json={"mark": 80, "reason": "三份方案水平相当，均满足要求。"},
        )
        assert r.status_code == 200
    assert (await client.post(f"/api/v1/purchases/{p['id']}/evaluation/lock", headers=w.owner)).status_code == 200
    result = (await client.post(f"/api/v1/purchases/{p['id']}/select", headers=w.owner, json={})).json()
    assert result["price"] == "38765.43"
    finance = await account(client, factory, "finance", "czj")
    flags = (await client.get("/api/v1/finance/flags?code=quality_marks_decided", headers=finance)).json()
    assert flags["items"] == [] and flags["total"] == 0


async def test_abnormally_low_prices_are_checked_when_the_prices_open(client, factory, settings):
    """An abnormally low flag says something about a price: for scored selection the check runs at
    the lock, not at the deadline, so that the owner learns nothing of the prices while marking."""
    w = await make_world(client, factory, settings)
    p = await w.published(method="scored", weights=WEIGHTS)
    for i, price in enumerate(["20000", "45000", "46000"]):
        assert (await w.bid(p["id"], i, price, note=NOTES[i])).status_code == 201
    w.past_deadline(p)
    await w.tick()
    detail = (await client.get(f"/api/v1/purchases/{p['id']}", headers=w.owner)).json()
    assert detail["status"] == "evaluating" and detail["explanation_due_at"] is None
    ev = (await client.get(f"/api/v1/purchases/{p['id']}/evaluation", headers=w.owner)).json()
    for item in ev["items"]:
        r = await client.patch(
            f"/api/v1/purchases/{p['id']}/evaluation/marks/{item['bid_id']}",
            headers=w.owner,
            json={"mark": 70, "reason": "方案满足要求，安排合理。"},
        )
        assert r.status_code == 200
    assert (await client.post(f"/api/v1/purchases/{p['id']}/evaluation/lock", headers=w.owner)).status_code == 200
    detail = (await client.get(f"/api/v1/purchases/{p['id']}", headers=w.owner)).json()
    assert detail["explanation_due_at"] is not None
    opened = (await client.get(f"/api/v1/purchases/{p['id']}/bids", headers=w.owner)).json()["items"]
    assert [b["abnormally_low"] for b in opened] == [True, False, False]
    # the selection waits for the bidder's explanation, as for every method
    assert_problem(await client.post(f"/api/v1/purchases/{p['id']}/select", headers=w.owner, json={}), 422)
