"""The finance bureau's oversight through the real app on purposeful data: sealed bids stay out of
every report until the deadline; then identical prices and firms sharing a practitioner are
flagged; split purchases and a dominant firm are flagged; the exports carry the money and the
flags; the OCDS feed validates and pages with ``since``; guards keep everyone else out."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from listings.demo import demo_id_number
from market import clock
from market.audit.models import AuditEvent
from oversight import pages as oversight_pages
from oversight import services
from oversight.facts import Period
from tests.integration.bidding_world import ACCELERATOR, make_world
from tests.integration.helpers import (
    account,
    assert_problem,
    awarded_purchase,
    browser,
    login,
    make_parties,
    make_user,
)
from tests.integration.ocds_schema import assert_valid_package

FINANCE_ROUTES = [
    "/api/v1/finance/summary",
    "/api/v1/finance/flags",
    "/api/v1/finance/export.csv",
    "/api/v1/finance/export.xlsx",
]
PAGES = ["/finance/overview", "/finance/flags", "/finance/exports"]


def _xlsx_rows(content: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(content))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book}


async def _views(client, finance: dict) -> dict:
    """Everything the oversight shows, as text (the XLSX by its cells: the file carries its own time)."""
    seen = {}
    for group_by in ("owner", "catalog", "method", "funding", "month"):
        r = await client.get(f"/api/v1/finance/summary?group_by={group_by}", headers=finance)
        seen[("summary", group_by)] = (r.status_code, r.text)
    for path in (
        "/api/v1/finance/flags",
        "/api/v1/finance/flags?kind=firm",
        "/api/v1/finance/export.csv",
        "/api/v1/ocds/releases",
        "/finance/overview",
        "/finance/overview?group_by=month",
        "/finance/flags",
        "/finance/flags?kind=firm",
    ):
        r = await client.get(path, headers=finance)
        seen[path] = (r.status_code, r.text)
    r = await client.get("/api/v1/finance/export.xlsx", headers=finance)
    seen["xlsx"] = (r.status_code, _xlsx_rows(r.content))
    return seen


class TestSealedUntilTheDeadline:
    @pytest.fixture
    def settings(self, settings):
        return settings.with_(accelerator=ACCELERATOR)

    async def test_bids_reach_reports_flags_exports_and_open_data_only_after_the_deadline(
        self, client, factory, settings
    ):
        w = await make_world(client, factory, settings, providers=4)
        finance = await account(client, factory, "finance", "czj", "云岭县财政局")
        # two firms register the same practitioner (the same ID number: the same keyed hash)
        same_person = demo_id_number("兼职测绘师")
        for i in (0, 1):
            r = await client.post(
                f"/api/v1/providers/{w.providers[i][1]}/practitioners",
                headers=w.providers[i][0],
                json={"name": "杨秀英", "certificate": "注册测绘师 12345", "id_number": same_person},
            )
            assert r.status_code == 201, r.text
        p = await w.published(min_bids=2)
        before = await _views(client, finance)

        # bids arrive: two linked firms at the very same price, one replaced, one withdrawn
        assert (await w.bid(p["id"], 0, "41000.00")).status_code == 201
        assert (await w.bid(p["id"], 0, "40000.00")).status_code == 201
        assert (await w.bid(p["id"], 1, "40000.00")).status_code == 201
        d = await w.bid(p["id"], 2, "45000.00")
        assert (await client.delete(f"/api/v1/bids/{d.json()['id']}", headers=w.providers[2][0])).status_code == 204
        after = await _views(client, finance)
        changed = [k for k in before if before[k] != after[k]]
        assert not changed, changed
        # the open purchase's release says nothing about bids
        release = next(
            r for r in (await client.get("/api/v1/ocds/releases")).json()["releases"] if r["tender"]["id"] == p["ref"]
        )
        assert "numberOfTenderers" not in release["tender"] and "tenderers" not in release["tender"]
        assert "awards" not in release and [party["roles"] for party in release["parties"]] == [
            ["buyer", "procuringEntity"]
        ]

        # after the deadline the opened bids count, and the signs of collusion show
        w.past_deadline(p)
        await w.tick()
        flags = (await client.get("/api/v1/finance/flags", headers=finance)).json()
        codes = {(f["code"], f["subject"]["ref"]) for f in flags["items"]}
        assert {("identical_prices", p["ref"]), ("linked_bidders", p["ref"])} <= codes, codes
        identical = next(f for f in flags["items"] if f["code"] == "identical_prices")
        assert identical["data"]["price"] == "40000.00" and len(identical["data"]["firms"]) == 2
        linked = next(f for f in flags["items"] if f["code"] == "linked_bidders")
        assert linked["severity"] == "high" and "杨秀英" in linked["explanation"]
        assert linked["data"]["links"][0]["kind"] == "practitioner"
        assert same_person not in (await client.get("/api/v1/finance/flags", headers=finance)).text
        firm_flags = (await client.get("/api/v1/finance/flags?kind=firm", headers=finance)).json()
        assert {f["code"] for f in firm_flags["items"]} == {"linked_firms"}
        assert all(
            f["data"]["links"][0]["bid_together"] == [{"id": p["id"], "ref": p["ref"]}] for f in firm_flags["items"]
        )
        summary = (await client.get("/api/v1/finance/summary", headers=finance)).json()
        assert summary["competition"]["opened"] == 1 and summary["competition"]["bids"] == 2
        package = (await client.get("/api/v1/ocds/releases")).json()
        assert_valid_package(package)
        release = next(r for r in package["releases"] if r["tender"]["id"] == p["ref"])
        assert release["tender"]["numberOfTenderers"] == 2
        assert "tenderers" not in release["tender"]  # bidders are named once the purchase is awarded
        page = await client.get("/finance/flags?lang=en", headers=finance)
        assert page.status_code == 200 and "Identical bid prices" in page.text and p["ref"] in page.text
        # one firm: its own flags and those of the purchases it bid on, its bids
        firm_id = w.providers[0][1]
        mine = (await client.get(f"/api/v1/finance/flags?firm_id={firm_id}", headers=finance)).json()
        assert {(f["code"], f["subject"]["type"]) for f in mine["items"]} == {
            ("identical_prices", "purchase"),
            ("linked_bidders", "purchase"),
            ("linked_firms", "firm"),
        }
        assert next(f for f in mine["items"] if f["subject"]["type"] == "firm")["subject"]["id"] == str(firm_id)
        firm_page = await client.get(f"/finance/firms/{firm_id}?lang=en", headers=finance)
        assert firm_page.status_code == 200 and p["ref"] in firm_page.text and "杨秀英" in firm_page.text
        assert "40,000.00" in firm_page.text and same_person not in firm_page.text
        assert (await client.get(f"/finance/firms/{w.owner_id}", headers=finance)).status_code == 404
        outsider = await client.get(f"/finance/firms/{firm_id}", headers=w.providers[1][0])
        assert outsider.status_code == 403


NOW = datetime.fromisoformat("2026-06-15T10:00:00+08:00")


async def test_split_purchases_a_dominant_firm_and_the_exports(client, factory, settings, app, monkeypatch):
    clock.freeze(NOW)
    owner_user, provider_user = await make_parties(factory)
    titles = [
        "城南片区地质灾害危险性评估（一期）",
        "城南片区地质灾害危险性评估（二期）",
        '=HYPERLINK("http://x.example","三期")',
    ]
    bought = []
    for title, amount, days_ago in zip(titles, ("40000.00", "35000.00", "30000.00"), (20, 12, 5), strict=True):
        bought.append(
            await awarded_purchase(
                factory,
                settings,
                owner_user,
                provider_user,
                amount=Decimal(amount),
                awarded_at=NOW - timedelta(days=days_ago),
                title=title,
            )
        )
    finance = await account(client, factory, "finance", "czj", "云岭县财政局")
    refs = sorted(p.ref for p in bought)

    # each capped under 100 000, published within 30 days, together 105 000: a split
    r = await client.get("/api/v1/finance/flags?code=split_purchase", headers=finance)
    assert r.status_code == 200, r.text
    split = r.json()
    assert split["total"] == 3 and {f["subject"]["ref"] for f in split["items"]} == set(refs)
    for f in split["items"]:
        assert sorted(m["ref"] for m in f["data"]["purchases"]) == refs
        assert f["data"]["total"] == "105000.00" and f["data"]["threshold"] == "100000.00"
        assert all(ref in f["explanation"] for ref in refs)
        assert f["subject"]["url"] == f"/workspace/purchases/{f['subject']['id']}"
    # one firm won every award of the owner
    firm = (await client.get("/api/v1/finance/flags?kind=firm&code=concentration", headers=finance)).json()
    (dominant,) = firm["items"]
    assert dominant["subject"]["id"] == str(provider_user.org_id)
    assert (dominant["data"]["wins"], dominant["data"]["share"]) == (3, "100.0")
    assert sorted(m["ref"] for m in dominant["data"]["purchases"]) == refs
    assert {link["label"] for link in dominant["links"]} == set(refs)
    assert dominant["subject"]["url"] == f"/finance/firms/{provider_user.org_id}"
    # single valid bids, too
    singles = (await client.get("/api/v1/finance/flags?code=single_bid", headers=finance)).json()
    assert singles["total"] == 3
    # the threshold is a setting
    async with factory() as session:
        higher = await services.red_flags(
            session,
            settings.with_(split_threshold=Decimal("200000")),
            Period(),
            services.FlagFilter(code="split_purchase"),
        )
        assert higher.chosen == []

    # spending: one item, three awards, no savings (caps equal the prices)
    summary = (await client.get("/api/v1/finance/summary?group_by=catalog", headers=finance)).json()
    (row,) = summary["items"]
    assert (row["awarded"], row["awarded_amount"], row["savings"]) == (3, "105000.00", "0.00")
    assert summary["totals"]["awarded_amount"] == "105000.00" and summary["flags"]["split_purchase"] == 3
    by_month = (await client.get("/api/v1/finance/summary?group_by=month", headers=finance)).json()
    assert sum(r["purchases"] for r in by_month["items"]) == 3
    assert [r["key"] for r in by_month["items"]] == sorted(r["key"] for r in by_month["items"])
    # a period filter: nothing was published after the awards
    later = (await client.get("/api/v1/finance/summary?from=2026-06-14", headers=finance)).json()
    assert later["totals"]["purchases"] == 0 and later["period"] == {"from": "2026-06-14", "to": None}

    # CSV: BOM, one row per purchase, amounts as plain numbers, a typed formula stays text
    r = await client.get("/api/v1/finance/export.csv?lang=en", headers=finance)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith("attachment; filename=") and r.content[:3] == b"\xef\xbb\xbf"
    head, *rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    col = {name: i for i, name in enumerate(head)}
    assert sorted(row[col["Reference"]] for row in rows) == refs
    assert {row[col["Winning price"]] for row in rows} == {"40000.00", "35000.00", "30000.00"}
    assert {row[col["Contract amount"]] for row in rows} == {"40000.00", "35000.00", "30000.00"}
    assert all("split_purchase" in row[col["Flag codes"]].split() for row in rows)
    assert any(row[col["Title"]].startswith("'=HYPERLINK") for row in rows)
    chinese = await client.get("/api/v1/finance/export.csv?lang=zh", headers=finance)
    assert next(csv.reader(io.StringIO(chinese.content.decode("utf-8-sig"))))[:3] == [
        "项目编号",
        "项目名称",
        "项目业主",
    ]
    # XLSX: the same rows, typed cells, and the flags explained on a second sheet
    r = await client.get("/api/v1/finance/export.xlsx?lang=en", headers=finance)
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    book = load_workbook(io.BytesIO(r.content))
    sheet = book["Purchases"]
    head = [c.value for c in sheet[1]]
    cells = [dict(zip(head, row, strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert sorted(c["Reference"].value for c in cells) == refs
    formula = next(c["Title"] for c in cells if c["Title"].value.startswith("=HYPERLINK"))
    assert formula.data_type == "s"
    assert {c["Winning price"].value for c in cells} == {40000, 35000, 30000}
    flag_rows = list(book["Red flags"].iter_rows(min_row=2, values_only=True))
    assert sum(1 for row in flag_rows if row[-1] == "split_purchase") == 3
    # each export is in the audit trail: who took which data
    async with factory() as session:
        exported = list(await session.scalars(select(AuditEvent).where(AuditEvent.action == "finance.exported")))
        assert len(exported) == 3 and {e.actor_role for e in exported} == {"finance"}

    # the release package validates; every contracting process is there, with its award and contract
    package = (await client.get("/api/v1/ocds/releases")).json()
    assert_valid_package(package)
    assert package["version"] == "1.1" and package["publisher"]["name"]
    assert sorted(r["tender"]["id"] for r in package["releases"]) == refs
    release = package["releases"][0]
    assert release["ocid"] == f"{settings.ocds_prefix}-{release['tender']['id']}"
    assert release["tag"] == ["tender", "award", "contract"] and release["awards"][0]["status"] == "active"
    supplier = next(party for party in release["parties"] if "supplier" in party["roles"])
    assert supplier["identifier"]["scheme"] == "CN-USCC" and supplier["id"] == f"CN-USCC-{supplier['identifier']['id']}"
    assert (
        release["contracts"][0]["status"] == "pending"
        and release["contracts"][0]["awardID"] == release["awards"][0]["id"]
    )
    # since: only later changes; paging with links.next
    last = max(r["date"] for r in package["releases"])
    newer = (await client.get("/api/v1/ocds/releases", params={"since": last})).json()
    assert [r["date"] for r in newer["releases"]] == [last]
    future = (await client.get("/api/v1/ocds/releases", params={"since": "2027-01-01T00:00:00"})).json()
    assert future["releases"] == [] and "links" not in future
    first = (await client.get("/api/v1/ocds/releases?limit=2")).json()
    assert len(first["releases"]) == 2 and "limit=2&cursor=" in first["links"]["next"]
    rest = (await client.get(first["links"]["next"])).json()
    assert [r["ocid"] for r in first["releases"] + rest["releases"]] == [r["ocid"] for r in package["releases"]]
    assert (await client.get(rest["links"]["next"])).json()["releases"] == []

    # pages, in Chinese and in English
    page = await browser(app, "czj")
    try:
        zh = await page.get("/finance/flags?code=split_purchase")
        assert zh.status_code == 200 and "拆分" in zh.text and refs[0] in zh.text
        en = await page.get("/finance/overview?group_by=catalog&lang=en")
        assert en.status_code == 200 and "Spending by Catalog item" in en.text and "105,000.00" in en.text

        # the flagged purchases, a page at a time, the most serious first
        monkeypatch.setattr(oversight_pages, "FLAGGED_PER_PAGE", 2)
        shown = {}
        for number in ("1", "2", "3", "abc"):
            r = await page.get(f"/finance/flags?code=split_purchase&page={number}&lang=en")
            assert r.status_code == 200 and "3 flags · 3 purchases" in r.text, number
            shown[number] = re.findall(r'<h2><a href="/workspace/purchases/[^"]+">([^<]+)</a>', r.text)
        assert len(shown["1"]) == 2 and len(shown["2"]) == 1 and sorted(shown["1"] + shown["2"]) == refs
        assert shown["3"] == shown["2"] and shown["abc"] == shown["1"]  # past the end: the last; nonsense: the first
        first = await page.get("/finance/flags?code=split_purchase")
        assert 'rel="next" href="/finance/flags?code=split_purchase&amp;page=2"' in first.text
        assert 'rel="prev"' not in first.text
    finally:
        await page.aclose()


async def test_only_finance_and_the_operator_see_the_oversight(client, factory, app):
    provider = await account(client, factory, "provider", "firm1")
    owner = await account(client, factory, "owner", "jtj")
    admin = await account(client, factory, "admin", "ops")
    finance = await account(client, factory, "finance", "czj")
    for path in FINANCE_ROUTES:
        assert_problem(await client.get(path), 401)
        for headers in (provider, owner):
            assert_problem(await client.get(path, headers=headers), 403)
        for headers in (admin, finance):
            assert (await client.get(path, headers=headers)).status_code == 200, path
    # the open data is public
    assert (await client.get("/api/v1/ocds/releases")).status_code == 200
    for path in PAGES:
        r = await client.get(path)
        assert r.status_code == 302 and r.headers["location"].startswith("/login"), path
    for username in ("firm1", "jtj"):
        page = await browser(app, username)
        try:
            for path in PAGES:
                assert (await page.get(path)).status_code == 403, path
        finally:
            await page.aclose()
    for username, home in (("ops", "/admin"), ("czj", "/finance")):
        page = await browser(app, username)
        try:
            dashboard = await page.get(home)
            assert all(f'href="{path}"' in dashboard.text for path in PAGES), dashboard.text
            for path in PAGES:
                for lang in ("zh", "en"):
                    assert (await page.get(f"{path}?lang={lang}")).status_code == 200, (path, lang)
        finally:
            await page.aclose()


async def test_bad_questions_get_problem_details(client, factory):
    await make_user(factory, "finance", "云岭县财政局", "czj")
    finance = await login(client, "czj")
    assert_problem(await client.get("/api/v1/finance/summary?group_by=colour", headers=finance), 422, "group_by")
    assert_problem(await client.get("/api/v1/finance/flags?code=nepotism", headers=finance), 422, "code")
    assert_problem(await client.get("/api/v1/finance/flags?kind=owner", headers=finance), 422, "kind")
    assert_problem(await client.get("/api/v1/finance/flags?severity=dire", headers=finance), 422, "severity")
    assert_problem(
        await client.get("/api/v1/finance/summary?from=2026-06-01&to=2026-05-01", headers=finance), 422, "to"
    )
    assert_problem(await client.get("/api/v1/finance/export.csv?from=June", headers=finance), 422, "from")
    assert_problem(await client.get("/api/v1/ocds/releases?since=yesterday"), 422, "since")
    assert_problem(await client.get("/api/v1/ocds/releases?limit=0"), 422, "limit")
    assert_problem(await client.get("/api/v1/ocds/releases?cursor=not-ours"), 422, "cursor")
    # a page shows its period form again with the error next to the field (422), and the report
    # of what was right: a date that is not one is an open end, an end before the start the whole time
    not_a_date = '<span class="field-error" id="err-from">Enter a date such as 2026-12-31.</span>'
    backwards = '<span class="field-error" id="err-to">The end of the period comes before its start.</span>'
    for path in ("/finance/overview", "/finance/flags", "/finance/exports"):
        page = await client.get(f"{path}?from=June&to=2026-05-01&lang=en", headers=finance)
        assert page.status_code == 422, (path, page.status_code)
        assert not_a_date in page.text and 'name="from" type="date" value="June"' in page.text, path
        assert 'name="to" type="date" value="2026-05-01"' in page.text and 'href="#err-from"' in page.text, path
        page = await client.get(f"{path}?from=2026-06-01&to=2026-05-01&lang=en", headers=finance)
        assert page.status_code == 422 and backwards in page.text, path
        assert (await client.get(f"{path}?from=2026-05-01&to=2026-06-01", headers=finance)).status_code == 200
    exports = await client.get("/finance/exports?from=June&to=2026-05-01&lang=en", headers=finance)
    assert "/api/v1/finance/export.csv?to=2026-05-01&amp;lang=en" in exports.text  # what was right is kept
    exports = await client.get("/finance/exports?from=2026-06-01&to=2026-05-01&lang=en", headers=finance)
    assert "/api/v1/finance/export.csv?lang=en" in exports.text and "All published purchases." in exports.text
