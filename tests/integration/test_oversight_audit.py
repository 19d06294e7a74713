"""The audit trail as the finance bureau reads it (issue 9.11), through the real app on the demo
county: the whole chain a page at a time, the filters and the reference search (page and API
agree with the database), names, labels in both languages, links to the records, the CSV."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from bidding.models import Purchase
from invoices.models import Contract
from market import audit
from market.actor import SYSTEM
from market.audit.models import AuditEvent
from market.identity.models import Organization
from tests.integration.helpers import assert_problem, browser, login

pytestmark = pytest.mark.demo
DEMO_PASSWORD = "demo2026"


def seqs(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', html)]


async def _count(factory, *where) -> int:
    async with factory() as session:
        return await session.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0


async def _api(client, headers, **params):
    r = await client.get("/api/v1/audit/events", params={"limit": 500, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_page_pages_past_50_and_filters_as_the_database_does(app, client, factory):
    page = await browser(app, "finance", DEMO_PASSWORD)
    try:
        total = await _count(factory)
        assert total > 100
        first = await page.get("/finance/audit")
        assert first.status_code == 200
        assert seqs(first.text)[0] >= total - 1 and len(seqs(first.text)) == 50
        # the chain is not recomputed on every view: verifying is a link of its own
        assert "哈希链完整" not in first.text and 'href="/finance/audit/verify"' in first.text
        second = await page.get("/finance/audit?page=2")
        assert seqs(second.text) == [s - 50 for s in seqs(first.text)]
        verified = await page.get("/finance/audit/verify")
        assert verified.status_code == 200 and "哈希链完整" in verified.text

        # by action
        published = await _count(factory, col(AuditEvent.action) == "purchase.published")
        html = (await page.get("/finance/audit?action=purchase.published")).text
        assert len(seqs(html)) == min(published, 50) and f"{published}" in html
        # by organisation (the one that acted)
        async with factory() as session:
            owner = await session.scalar(select(Organization).where(col(Organization.name) == "云岭县交通运输局"))
        by_owner = await _count(factory, col(AuditEvent.actor_org_id) == owner.id)
        assert by_owner > 0
        html = (await page.get(f"/finance/audit?org={owner.id}")).text
        assert len(seqs(html)) == min(by_owner, 50)
        # by kind of record, and a period
        contracts = await _count(factory, col(AuditEvent.entity_type) == "contract")
        html = (await page.get("/finance/audit?entity=contract")).text
        assert len(seqs(html)) == min(contracts, 50)
        async with factory() as session:
            moments = list(await session.scalars(select(AuditEvent.occurred_at).order_by(col(AuditEvent.seq))))
        from market.clock import to_local

        day = to_local(moments[len(moments) // 2]).date()
        on_day = sum(1 for m in moments if to_local(m).date() == day)
        body = (await page.get(f"/finance/audit?from={day}&to={day}&entity=")).text
        assert len(seqs(body)) == min(on_day, 50)
        # a filter that matches nothing says so
        nothing = (await page.get("/finance/audit?action=purchase.published&from=2001-01-01&to=2001-01-02")).text
        assert seqs(nothing) == [] and "没有符合筛选条件的事件" in nothing
        # a wrong field is named, never a 500
        wrong = await page.get("/finance/audit?from=yesterday&org=nobody")
        assert wrong.status_code == 422 and 'id="err-from"' in wrong.text and 'id="err-org"' in wrong.text
    finally:
        await page.aclose()


async def test_a_reference_finds_the_record_and_the_events_that_name_it(app, client, factory):
    headers = await login(client, "finance", DEMO_PASSWORD)
    async with factory() as session:
        p = await session.scalar(select(Purchase).where(col(Purchase.ref) == "CG-2026-000001"))
        contract = await session.scalar(select(Contract).where(col(Contract.purchase_id) == p.id))
    body = await _api(client, headers, ref="cg-2026-000001")
    actions = {e["action"] for e in body["items"]}
    assert {"purchase.published", "purchase.awarded", "bid.opened"} <= actions
    for e in body["items"]:
        assert (
            e["entity_id"] == str(p.id)
            or str(p.id) in json.dumps(e["data"])
            or "CG-2026-000001" in json.dumps(e["data"], ensure_ascii=False)
        )
    by_contract = await _api(client, headers, ref=contract.number)
    assert by_contract["total"] > 0
    assert {"contract.drafted", "contract.signed"} <= {e["action"] for e in by_contract["items"]}
    assert all(
        e["entity_id"] == str(contract.id) or str(contract.id) in json.dumps(e["data"]) for e in by_contract["items"]
    )
    # an id works as well; the page finds the same events
    by_id = await _api(client, headers, ref=str(p.id))
    assert by_id["total"] >= body["total"] - 1
    page = await browser(app, "finance", DEMO_PASSWORD)
    try:
        html = (await page.get("/finance/audit?ref=CG-2026-000001")).text
        assert len(seqs(html)) == min(body["total"], 50)
        # the purchase's events link to its page, and the link opens
        assert f'href="/workspace/purchases/{p.id}"' in html
        assert (await page.get(f"/workspace/purchases/{p.id}")).status_code == 200
        html = (await page.get(f"/finance/audit?ref={contract.number}")).text
        assert f'href="/workspace/contracts/{contract.id}"' in html
        assert (await page.get(f"/workspace/contracts/{contract.id}")).status_code == 200
    finally:
        await page.aclose()


async def test_the_api_keeps_its_names_and_gains_the_filters(client, factory):
    headers = await login(client, "finance", DEMO_PASSWORD)
    total = await _count(factory)
    everything = await _api(client, headers, limit=50, offset=60)
    assert everything["total"] >= total and len(everything["items"]) == 50
    bids = await _api(client, headers, entity_type="bid", action="bid.opened")
    assert bids["total"] == await _count(factory, col(AuditEvent.action) == "bid.opened")
    one = bids["items"][0]
    assert (await _api(client, headers, entity_id=one["entity_id"]))["items"][0]["seq"] == one["seq"]
    # names of who acted, labels, a link to the record's page
    async with factory() as session:
        owner = await session.scalar(select(Organization).where(col(Organization.name) == "云岭县交通运输局"))
    mine = await _api(client, headers, org_id=str(owner.id), action="purchase.published")
    assert mine["total"] > 0
    for e in mine["items"]:
        assert e["actor_org_name"] == "云岭县交通运输局" and e["actor_user_name"]
        assert e["action_label"] == "采购项目已发布" and e["url"] == f"/workspace/purchases/{e['entity_id']}"
    english = (
        await client.get(
            "/api/v1/audit/events", params={"action": "purchase.published", "lang": "en", "limit": 1}, headers=headers
        )
    ).json()
    assert english["items"][0]["action_label"] == "Purchase published"
    # wrong input is a 400 that names the parameter
    assert_problem(await client.get("/api/v1/audit/events?from=2026-13-01", headers=headers), 422, "from")
    assert_problem(await client.get("/api/v1/audit/events?org_id=nobody", headers=headers), 422, "org_id")
    assert (await client.get("/api/v1/audit/events")).status_code in (401, 403)


async def test_labels_in_both_languages_escaped_data_and_links_to_organisations(app, factory):
    async with factory() as session:
        audit.record(session, SYSTEM, "test.note", "thing", "t1", {"note": "<script>alert(1)</script>", "n": [1, 2]})
        await session.commit()
        firm = await session.scalar(select(Organization).where(col(Organization.name) == "云南绿源环境科技有限公司"))
    finance = await browser(app, "finance", DEMO_PASSWORD)
    admin = await browser(app, "admin", DEMO_PASSWORD)
    try:
        html = (await finance.get("/finance/audit?action=test.note")).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
        assert "[1, 2]" in html
        zh = (await finance.get("/finance/audit?action=purchase.awarded")).text
        assert "采购结果已确定" in zh and "purchase.awarded" in zh
        en = (await finance.get("/finance/audit?action=purchase.awarded&lang=en")).text
        assert "Purchase awarded" in en
        # an organisation's events link to the firm's oversight page (finance) or its review (operator)
        html = (await finance.get(f"/finance/audit?entity=organization&ref={firm.id}")).text
        assert f'href="/finance/firms/{firm.id}"' in html
        assert (await finance.get(f"/finance/firms/{firm.id}")).status_code == 200
        html = (await admin.get(f"/finance/audit?entity=organization&ref={firm.id}")).text
        assert f'href="/admin/organizations/{firm.id}"' in html
        # who acted: the user and the organisation, by name
        html = (await finance.get("/finance/audit?action=purchase.published")).text
        assert "云岭县交通运输局" in html
    finally:
        await finance.aclose()
        await admin.aclose()


async def test_the_csv_holds_every_filtered_event_and_is_formula_safe(app, factory):
    async with factory() as session:
        audit.record(session, SYSTEM, "test.note", "thing", "=1+1", {"note": '=HYPERLINK("http://x")'})
        await session.commit()
    page = await browser(app, "finance", DEMO_PASSWORD)
    try:
        html = (await page.get("/finance/audit?entity=contract")).text
        link = re.search(r'href="(/finance/audit/export\.csv\?[^"]+)"', html)
        assert link and "entity=contract" in link.group(1)
        r = await page.get(link.group(1).replace("&amp;", "&"))
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert r.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        contracts = await _count(factory, col(AuditEvent.entity_type) == "contract")
        assert rows[0][0] == "序号" and len(rows) == 1 + contracts > 51  # every one, not a page
        assert {row[4] for row in rows[1:]} == {"合同"}
        noted = list(csv.reader(io.StringIO((await page.get("/finance/audit/export.csv?action=test.note")).text)))
        assert noted[1][5] == "'=1+1"  # a cell that would be a formula is text
        bad = await page.get("/finance/audit/export.csv?from=nonsense")
        assert bad.status_code == 422
    finally:
        await page.aclose()
    # the download itself is in the trail
    assert await _count(factory, col(AuditEvent.action) == "finance.exported", col(AuditEvent.entity_id) == "audit.csv")
