"""The catalog: public list and detail in Chinese and English, versioned edits, CSV import and export."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from listings import catalog
from listings import demo as listings_demo
from listings.models import CatalogItem, CatalogItemVersion
from market.audit.models import AuditEvent
from tests.integration.helpers import account, assert_problem
from tests.integration.listings_helpers import ITEM, make_item

DEMO_CSV = Path(listings_demo.__file__).resolve().parent / "data" / "catalog.csv"
DEMO_ITEMS = [item for _row, item in catalog.parse_csv(DEMO_CSV.read_bytes())[0]]


def demo_codes(**where: object) -> set[str]:
    """The codes of the demo catalog's items whose fields equal ``where`` (the expected answers
    are derived from the data file, never copied from it)."""
    return {i.code for i in DEMO_ITEMS if all(getattr(i, k) == v for k, v in where.items())}


def demo_search(q: str) -> set[str]:
    """The codes the catalog search finds for ``q``: in the code, name, English name, category or
    approval, ignoring case."""
    return {
        i.code
        for i in DEMO_ITEMS
        if any(q.lower() in text.lower() for text in (i.code, i.name, i.name_en, i.category, i.approval))
    }


async def _load_catalog(factory) -> None:
    async with factory() as session:
        await listings_demo.load_catalog(session)
        await session.commit()


async def _count(factory) -> int:
    async with factory() as session:
        return await session.scalar(select(func.count()).select_from(CatalogItem))


async def test_public_catalog_lists_demo_items_with_time_limit_and_fee_in_chinese_and_english(client, factory):
    await _load_catalog(factory)
    zh = await client.get("/catalog")
    assert zh.status_code == 200 and 'lang="zh-CN"' in zh.text
    assert "地质灾害危险性评估" in zh.text and "建设工程规划放线测量" in zh.text
    assert "25 个工作日" in zh.text and "5 个工作日" in zh.text  # time limits
    assert "政府指导价" in zh.text and "市场调节价" in zh.text and "¥20,000.00" in zh.text  # fee type and cap
    assert "建筑工程放线每栋不超过1800元" in zh.text  # the fee standard itself
    assert "服务时限" in zh.text and "收费" in zh.text
    en = await client.get("/catalog?lang=en")
    assert 'lang="en"' in en.text and "Catalog of intermediary services" in en.text
    assert "25 working days" in en.text and "Government-guided price" in en.text and "Market-regulated price" in en.text
    assert "建筑工程放线每栋不超过1800元" in en.text and "个工作日" not in en.text
    detail = await client.get("/catalog/YLZJ-005?lang=en")
    assert (
        detail.status_code == 200
        and "Legal basis" in detail.text
        and "《中华人民共和国城乡规划法》第四十条" in detail.text
    )
    assert (await client.get("/catalog/NO-SUCH")).status_code == 404
    cancelled = await client.get("/catalog/YLZJ-022?lang=zh")
    assert "不能在平台采购" in cancelled.text


async def test_catalog_api_search_and_filters(client, factory):
    await _load_catalog(factory)
    everything = (await client.get("/api/v1/catalog", params={"limit": 200})).json()
    assert everything["total"] == len(DEMO_ITEMS) and {i["code"] for i in everything["items"]} == demo_codes()
    retained = (await client.get("/api/v1/catalog", params={"status": "retained", "limit": 200})).json()
    assert {i["code"] for i in retained["items"]} == demo_codes(status="retained") != demo_codes()
    assert retained["total"] == len(demo_codes(status="retained")) and all(i["purchasable"] for i in retained["items"])
    # a name, an approval, a code in the other case, an English name, a category
    for q in ("测绘", "取水许可", "ylzw-00", "SURVEY", "政府购买服务"):
        found = (await client.get("/api/v1/catalog", params={"q": q, "limit": 200})).json()
        assert {i["code"] for i in found["items"]} == demo_search(q) and found["total"] == len(demo_search(q)), q
        assert found["items"], q  # the search has something to find
    guided = (await client.get("/api/v1/catalog", params={"fee_type": "government_guided", "limit": 200})).json()
    assert {i["code"] for i in guided["items"]} == demo_codes(fee_type="government_guided")
    assert guided["items"] and all(i["fee_cap"] for i in guided["items"])
    surveying = (await client.get("/api/v1/catalog", params={"category": "测绘", "limit": 200})).json()
    assert {i["code"] for i in surveying["items"]} == demo_codes(category="测绘") and surveying["items"]
    services = (await client.get("/api/v1/catalog", params={"in_services_catalog": "true", "limit": 200})).json()
    assert {i["code"] for i in services["items"]} == demo_codes(in_services_catalog=True) and services["items"]
    item = (await client.get("/api/v1/catalog/YLZJ-005")).json()
    assert item["fee_cap"] == "20000.00" and item["time_limit_days"] == 5 and item["version"] == 1
    page = await client.get("/catalog", params={"q": "水资源", "fee_type": "market_regulated"})
    assert "建设项目水资源论证报告编制" in page.text and "地质灾害危险性评估" not in page.text


async def test_admin_creates_and_edits_with_every_version_readable(client, factory):
    admin = await account(client, factory, "admin", "ops")
    provider = await account(client, factory, "provider", "firm")
    assert_problem(await client.post("/api/v1/catalog", json=ITEM, headers=provider), 403)
    assert_problem(await client.post("/api/v1/catalog", json=ITEM), 401)
    r = await client.post("/api/v1/catalog", json=ITEM, headers=admin)
    assert r.status_code == 201 and r.json()["version"] == 1
    assert_problem(await client.post("/api/v1/catalog", json=ITEM, headers=admin), 409, "code")
    r = await client.patch(
        "/api/v1/catalog/YLZJ-005",
        headers=admin,
        json={"time_limit_days": 7, "fee_cap": "25000", "version": 1, "note": "依据新版收费指导标准调整"},
    )
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["fee_cap"] == "25000.00"
    # editing an old version is refused: someone changed it first
    stale = await client.patch("/api/v1/catalog/YLZJ-005", headers=admin, json={"time_limit_days": 9, "version": 1})
    assert_problem(stale, 409, "version")
    # a change that changes nothing writes no version
    same = await client.patch("/api/v1/catalog/YLZJ-005", headers=admin, json={"time_limit_days": 7})
    assert same.json()["version"] == 2
    versions = (await client.get("/api/v1/catalog/YLZJ-005/versions")).json()
    assert [v["version"] for v in versions] == [2, 1]
    old = (await client.get("/api/v1/catalog/YLZJ-005/versions/1")).json()
    assert old["data"]["time_limit_days"] == 5 and old["data"]["fee_cap"] == "20000.00"
    assert versions[0]["note"] == "依据新版收费指导标准调整"
    assert_problem(await client.get("/api/v1/catalog/YLZJ-005/versions/3"), 404)
    page = await client.get("/catalog/YLZJ-005?version=1")
    assert "5 个工作日" in page.text and "¥20,000.00" in page.text and "历史版本" in page.text
    assert "7 个工作日" in (await client.get("/catalog/YLZJ-005")).text
    # rules: a government-priced item needs its cap, the code cannot change, input is checked
    assert_problem(
        await client.patch(
            "/api/v1/catalog/YLZJ-005", headers=admin, json={"fee_type": "government_priced", "fee_cap": None}
        ),
        422,
        "fee_cap",
    )
    assert_problem(await client.patch("/api/v1/catalog/YLZJ-005", headers=admin, json={"code": "X-1"}), 422)
    assert_problem(
        await client.post("/api/v1/catalog", headers=admin, json={**ITEM, "code": "Y-2", "time_limit_days": 0}),
        422,
        "time_limit_days",
    )
    assert_problem(await client.post("/api/v1/catalog", headers=admin, json={**ITEM, "code": "!bad"}), 422, "code")
    assert_problem(await client.patch("/api/v1/catalog/NOPE", headers=admin, json={"name": "x"}), 404)
    async with factory() as session:
        actions = list(await session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "catalog_item")))
    assert actions == ["catalog.item_created", "catalog.item_updated"]


@pytest.mark.postgres_only
async def test_concurrent_edits_of_one_version_let_exactly_one_win(client, factory, backend):
    await make_item(factory)
    admin = await account(client, factory, "admin", "ops")
    responses = await asyncio.gather(
        *(
            client.patch("/api/v1/catalog/YLZJ-005", headers=admin, json={"time_limit_days": days, "version": 1})
            for days in (6, 7, 8, 9)
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
    async with factory() as session:
        assert await session.scalar(select(func.count()).select_from(CatalogItemVersion)) == 2


async def test_csv_with_one_bad_row_imports_nothing_and_names_row_and_field(client, factory):
    admin = await account(client, factory, "admin", "ops")
    lines = DEMO_CSV.read_text(encoding="utf-8-sig").splitlines()
    rows = list(csv.reader(lines))
    rows[4][catalog.FIELDS.index("time_limit_days")] = "二十"  # row 5 of the sheet
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    bad = out.getvalue().encode("utf-8-sig")
    r = await client.post("/api/v1/catalog/import", headers={**admin, "content-type": "text/csv"}, content=bad)
    body = assert_problem(r, 422, "rows[5].time_limit_days")
    assert len(body["errors"]) == 1 and "5" in body["errors"][0]["message"]
    assert await _count(factory) == 0
    # the page names the row and the column too
    page = await client.post("/admin/catalog/import", headers=admin, files={"file": ("catalog.csv", bad, "text/csv")})
    assert page.status_code == 422 and "time_limit_days" in page.text and '<td class="num">5</td>' in page.text
    assert await _count(factory) == 0
    # the good file imports every row
    good = DEMO_CSV.read_bytes()
    r = await client.post("/api/v1/catalog/import", headers=admin, files={"file": ("catalog.csv", good, "text/csv")})
    assert r.status_code == 200, r.text
    assert r.json()["created"] == len(DEMO_ITEMS) and r.json()["updated"] == 0
    assert await _count(factory) == len(DEMO_ITEMS)


async def test_reimport_updates_as_new_versions_and_export_round_trips(client, factory):
    await _load_catalog(factory)
    admin = await account(client, factory, "admin", "ops")
    export = await client.get("/api/v1/catalog/export.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert export.content.startswith(b"\xef\xbb\xbf") and "attachment" in export.headers["content-disposition"]
    text = export.content.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(catalog.FIELDS) and "地质灾害危险性评估" in text
    rows = list(csv.reader(io.StringIO(text)))
    days = catalog.FIELDS.index("time_limit_days")
    code, before = rows[1][catalog.FIELDS.index("code")], int(rows[1][days])
    after = before + 1 if before < catalog.MAX_TIME_LIMIT_DAYS else before - 1
    rows[1][days] = str(after)  # one change in the first item
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    r = await client.post(
        "/api/v1/catalog/import", headers={**admin, "content-type": "text/csv"}, content=out.getvalue().encode()
    )
    assert r.json() == {"created": 0, "updated": 1, "unchanged": len(DEMO_ITEMS) - 1, "sha256": r.json()["sha256"]}
    item = (await client.get(f"/api/v1/catalog/{code}")).json()
    assert item["time_limit_days"] == after and item["version"] == 2
    old = (await client.get(f"/api/v1/catalog/{code}/versions/1")).json()
    assert old["data"]["time_limit_days"] == before
    provider = await account(client, factory, "provider", "firm")
    assert_problem(
        await client.post("/api/v1/catalog/import", headers={**provider, "content-type": "text/csv"}, content=b"x"), 403
    )
    assert_problem(
        await client.post(
            "/api/v1/catalog/import", headers={**admin, "content-type": "application/json"}, content=b"{}"
        ),
        422,
        "file",
    )


async def test_version_rows_cannot_be_changed_in_the_database(factory):
    await make_item(factory)
    async with factory() as session:
        row = await session.scalar(select(CatalogItemVersion))
        row.note = "rewritten"
        with pytest.raises(Exception, match="append-only"):
            await session.commit()


async def test_an_item_has_an_optional_english_name_that_the_search_finds(client, factory):
    admin = await account(client, factory, "admin", "ops")
    item = {**ITEM, "name_en": "Planning setting-out survey"}
    r = await client.post("/api/v1/catalog", json=item, headers=admin)
    assert r.status_code == 201 and r.json()["name_en"] == "Planning setting-out survey"
    found = (await client.get("/api/v1/catalog", params={"q": "setting-out"})).json()
    assert [i["code"] for i in found["items"]] == ["YLZJ-005"]
    assert [i["code"] for i in (await client.get("/api/v1/catalog", params={"q": "测绘"})).json()["items"]] == [
        "YLZJ-005"  # its category
    ]
    english = await client.get("/catalog/YLZJ-005?lang=en")
    assert "Planning setting-out survey" in english.text
    assert "Planning setting-out survey" in (await client.get("/catalog?lang=en")).text
    # a CSV without the column leaves the English name as it is
    header = ",".join(f for f in catalog.FIELDS if f != "name_en")
    values = {**item, "name": "建设工程规划放线测量（修订）", "in_services_catalog": "0"}
    buffer = io.StringIO()
    csv.writer(buffer).writerow([values[f] for f in catalog.FIELDS if f != "name_en"])
    data = f"{header}\n{buffer.getvalue()}".encode()
    r = await client.post("/api/v1/catalog/import", content=data, headers={**admin, "content-type": "text/csv"})
    assert r.status_code == 200 and r.json()["updated"] == 1, r.text
    now = (await client.get("/api/v1/catalog/YLZJ-005")).json()
    assert now["name"] == "建设工程规划放线测量（修订）" and now["name_en"] == "Planning setting-out survey"
    # and the change writes it off with a PATCH
    r = await client.patch("/api/v1/catalog/YLZJ-005", json={"name_en": None}, headers=admin)
    assert r.status_code == 200 and r.json()["name_en"] == ""
