"""Bidders know their outcome (issue 9.9): won, not won, failed, withdrawn, cancelled on the
provider's bid list (API and page) and on the purchase page, and a printable receipt PDF of each
bid that only its bidder can fetch. Also the purchase form's fee-standard and working-day rules
(9.1, 9.14)."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from listings.models import CatalogItem
from market import clock
from tests.integration.bidding_world import ACCELERATOR, make_world
from tests.integration.helpers import account, assert_problem, make_catalog_item, purchase_body


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


async def pdftotext(data: bytes, tmp_path) -> str:
    executable = shutil.which("pdftotext")
    assert executable, "pdftotext (poppler-utils) is needed by these tests"
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(data)
    process = await asyncio.create_subprocess_exec(
        executable, "-layout", str(path), "-", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    return out.decode("utf-8")


async def outcomes(client, headers) -> dict[str, str | None]:
    r = await client.get("/api/v1/bids", headers=headers)
    assert r.status_code == 200, r.text
    return {b["purchase_ref"]: b["outcome"] for b in r.json()["items"]}


async def test_each_bidder_sees_its_outcome(client, factory, settings):
    w = await make_world(client, factory, settings)
    drawn = await w.published(title="云岭县第一中学宿舍楼环境影响评价")
    failed = await w.published(title="云岭县人民医院门诊楼环境影响评价")
    cancelled = await w.published(title="云岭县城南污水处理厂扩建工程环评")
    ids = {}
    for i, price in enumerate(["42000", "39800", "45000"]):
        r = await w.bid(drawn["id"], i, price)
        ids[i] = r.json()["id"]
    withdrawn = (await w.bid(drawn["id"], 3, "41000")).json()["id"]
    r = await client.delete(f"/api/v1/bids/{withdrawn}", headers=w.providers[3][0])
    assert r.status_code == 204
    assert (await w.bid(failed["id"], 0, "40000")).status_code == 201
    assert (await w.bid(cancelled["id"], 0, "40000")).status_code == 201
    # before the deadline: nothing is decided yet
    assert (await outcomes(client, w.providers[0][0]))[drawn["ref"]] == "pending"
    assert (await outcomes(client, w.providers[3][0]))[drawn["ref"]] == "withdrawn"
    r = await client.post(
        f"/api/v1/purchases/{cancelled['id']}/cancel", headers=w.owner, json={"reason": "项目暂缓实施"}
    )
    assert r.status_code == 200
    w.past_deadline(drawn)
    await w.tick()
    r = await client.post(f"/api/v1/purchases/{drawn['id']}/select", headers=w.owner, json={})
    assert r.status_code == 200, r.text
    winner = r.json()["winner_bid_id"]
    mine = await outcomes(client, w.providers[0][0])
    assert mine[failed["ref"]] == "failed" and mine[cancelled["ref"]] == "cancelled"
    for i in range(3):
        expected = "won" if ids[i] == winner else "not_won"
        assert (await outcomes(client, w.providers[i][0]))[drawn["ref"]] == expected
        one = (await client.get(f"/api/v1/bids/{ids[i]}", headers=w.providers[i][0])).json()
        assert one["outcome"] == expected
    assert (await outcomes(client, w.providers[3][0]))[drawn["ref"]] == "withdrawn"
    # the bid list page says it in words
    who = {ids[i]: i for i in range(3)}
    loser = next(i for i in range(3) if ids[i] != winner)
    page = (await client.get("/workspace/bids", headers=w.providers[0][0])).text
    assert "流标" in page and "已取消" in page and ("中选" if ids[0] == winner else "未中选") in page
    assert "/receipt.pdf" in page
    assert "已撤回" in (await client.get("/workspace/bids", headers=w.providers[3][0])).text
    # and the purchase page, to each bidder its own
    page = (await client.get(f"/purchases/{drawn['id']}", headers=w.providers[who[winner]][0])).text
    assert 'class="badge outcome-won' in page
    page = (await client.get(f"/purchases/{drawn['id']}", headers=w.providers[loser][0])).text
    assert 'class="badge outcome-not_won' in page and "未中选" in page
    page = (await client.get(f"/purchases/{drawn['id']}", headers=w.providers[3][0])).text
    assert 'class="badge outcome-withdrawn' in page
    english = (await client.get(f"/purchases/{failed['id']}?lang=en", headers=w.providers[0][0])).text
    assert "No award (failed)" in english
    # nobody else sees an outcome block
    assert "outcome-" not in (await client.get(f"/purchases/{drawn['id']}")).text
    assert "outcome-" not in (await client.get(f"/purchases/{drawn['id']}", headers=w.owner)).text


async def test_the_receipt_pdf_is_for_the_bidder_only(client, factory, settings, tmp_path):
    w = await make_world(client, factory, settings)
    admin = await account(client, factory, "admin", "ops")
    finance = await account(client, factory, "finance", "czj")
    p = await w.published()
    r = await w.bid(p["id"], 0, "42000")
    receipt = r.json()
    url = f"/api/v1/bids/{receipt['id']}/receipt.pdf"
    first = await client.get(url, headers=w.providers[0][0])
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "application/pdf" and first.content.startswith(b"%PDF-")
    assert "no-store" in first.headers["cache-control"]
    text = await pdftotext(first.content, tmp_path)
    assert p["ref"] in text and "云南第1环境咨询有限公司" in text and "报价回执" in text
    compact = "".join(text.split())
    assert receipt["digest"] in compact and f"/api/v1/bids/{receipt['id']}/document" in compact
    assert clock.to_local(clock.now()).strftime("%Y-%m-%d %H:%M") in text  # the received time, China time
    # printing it twice gives the same file
    assert (await client.get(url, headers=w.providers[0][0])).content == first.content
    english = await client.get(url + "?lang=en", headers=w.providers[0][0])
    assert "Bid receipt" in await pdftotext(english.content, tmp_path)
    # sealed: for anyone else it is as unknown as a bid that does not exist, before and after the deadline
    unknown = assert_problem(
        await client.get(f"/api/v1/bids/{uuid.uuid4()}/receipt.pdf", headers=w.providers[0][0]), 404
    )
    for headers in (w.providers[1][0], w.owner, admin, finance):
        assert assert_problem(await client.get(url, headers=headers), 404)["title"] == unknown["title"]
    assert_problem(await client.get(url), 401)
    w.past_deadline(p)
    await w.tick()
    for headers in (w.providers[1][0], w.owner, admin, finance):
        assert_problem(await client.get(url, headers=headers), 404)
    assert (await client.get(url, headers=w.providers[0][0])).status_code == 200


async def test_the_price_cap_stays_within_a_government_fee_standard(client, factory, settings):
    w = await make_world(client, factory, settings)
    await make_catalog_item(factory, "YLZJ-006", name="房产测绘", fee_type="government_guided", fee_cap="80000.00")
    await make_catalog_item(factory, "YLZJ-007", name="施工图审查", fee_type="government_priced", fee_cap="30000.00")
    await make_catalog_item(factory, "YLZJ-008", name="工程造价咨询", fee_cap="30000.00")  # market-regulated
    # create: the API names budget_cap
    body = purchase_body("YLZJ-006", settings=settings, budget_cap="90000.00")
    problem = assert_problem(await client.post("/api/v1/purchases", headers=w.owner, json=body), 422, "budget_cap")
    assert "¥80,000.00" in str(problem["errors"])
    assert_problem(
        await client.post(
            "/api/v1/purchases",
            headers=w.owner,
            json=purchase_body("YLZJ-007", settings=settings, budget_cap="30000.01"),
        ),
        422,
        "budget_cap",
    )
    r = await client.post(
        "/api/v1/purchases", headers=w.owner, json=purchase_body("YLZJ-008", settings=settings, budget_cap="90000.00")
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/purchases", headers=w.owner, json=purchase_body("YLZJ-006", settings=settings, budget_cap="80000.00")
    )
    assert r.status_code == 201, r.text
    draft = r.json()["id"]
    # edit
    r = await client.patch(f"/api/v1/purchases/{draft}", headers=w.owner, json={"budget_cap": "90000.00"})
    assert_problem(r, 422, "budget_cap")
    # publish: the item's cap was lowered meanwhile
    async with factory() as session:
        item = await session.scalar(select(CatalogItem).where(CatalogItem.code == "YLZJ-006"))
        item.fee_cap = Decimal("75000.00")
        await session.commit()
    assert_problem(await client.post(f"/api/v1/purchases/{draft}/publish", headers=w.owner), 422, "budget_cap")
    # the page form: shown again with the error next to the field
    deadline = clock.to_local(clock.now() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    form = {
        "title": "云岭县某商品房项目房产预测绘",
        "catalog_code": "YLZJ-007",
        "description": "商品房预售前的房产预测绘，出具测绘报告。",
        "budget_cap": "90000.00",
        "price_floor": "",
        "funding": "fiscal",
        "investment_code": "",
        "method": "random",
        "bid_deadline": deadline,
        "service_days": "10",
        "min_bids": "",
    }
    r = await client.post("/workspace/purchases/new", headers=w.owner, data=form)
    assert r.status_code == 422 and 'id="err-budget_cap"' in r.text and "¥30,000.00" in r.text
    r = await client.post(
        f"/workspace/purchases/{draft}/edit", headers=w.owner, data={**form, "catalog_code": "YLZJ-006"}
    )
    assert r.status_code == 422 and 'id="err-budget_cap"' in r.text
    # the form's time limits are working days, as the catalog says
    page = (await client.get("/workspace/purchases/new", headers=w.owner)).text
    assert "时限 20 个工作日" in page
    assert "limit 20 working days" in (await client.get("/workspace/purchases/new?lang=en", headers=w.owner)).text


async def test_withdrawing_and_cancelling_ask_first_without_javascript(client, factory, settings):
    w = await make_world(client, factory, settings)
    p = await w.published()
    bid = (await w.bid(p["id"], 0, "42000")).json()
    form = (await client.get(f"/workspace/purchases/{p['id']}/bid", headers=w.providers[0][0])).text
    step = form[form.index('<details class="confirm"') :]
    step = step[: step.index("</details>")]
    assert f'action="/workspace/bids/{bid["id"]}/withdraw"' in step and "¥42,000.00" in step
    assert "不会被开启或参与评审" in step and "<script" not in step
    manage = (await client.get(f"/workspace/purchases/{p['id']}", headers=w.owner)).text
    step = manage[manage.index(f'action="/workspace/purchases/{p["id"]}/cancel"') :]
    assert "已收到的报价不会开启" in step[: step.index("</details>")]
    # the step posts a plain form: the withdrawal goes through without any script
    r = await client.post(f"/workspace/bids/{bid['id']}/withdraw", headers=w.providers[0][0], data={})
    assert r.status_code == 303
    assert (await client.get(f"/api/v1/bids/{bid['id']}", headers=w.providers[0][0])).json()["outcome"] == "withdrawn"
