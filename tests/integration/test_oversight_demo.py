"""The demo county as the finance bureau sees it, through the real app: the reports add up and agree
with the database, every kind of red flag the demo tells is raised and explained, the exports carry
every published purchase, the OCDS package validates and keeps sealed bids out, and the pages
render in Chinese and in English."""

from __future__ import annotations

import csv
import io
import os
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import func, select

from bidding.models import Bid, Purchase, Selection
from market import offload
from market.app import demo_loaders, wire
from market.audit.service import verify
from oversight import demo as oversight_demo
from oversight import export_jobs, rules
from tests.integration.helpers import browser, login
from tests.integration.ocds_schema import assert_valid_package

DEMO_PASSWORD = "demo2026"
MONEY = ("cap_awarded", "awarded_amount", "savings", "contracted_amount", "invoiced", "paid")
COUNTS = ("purchases", "in_progress", "awarded", "failed", "cancelled", "contracted")


async def _load(factory, settings) -> dict:
    summary: dict = {}
    async with factory() as session:
        for loader in demo_loaders():
            summary.update(await loader(session, settings))
        await session.commit()
    return summary


async def test_the_demo_county_seen_by_the_finance_bureau(client, factory, settings, app):
    wire(settings)
    loaded = await _load(factory, settings)
    finance = await login(client, "finance", DEMO_PASSWORD)

    async with factory() as session:
        # the oversight demo's purchases: its split lots and its single low bid
        lots: dict[str, str] = {
            title: ref
            for title, ref in await session.execute(
                select(Purchase.title, Purchase.ref).where(Purchase.title.in_(oversight_demo.TITLES))
            )
        }
        single = list(
            await session.scalars(select(Purchase.ref).where(Purchase.title.startswith(oversight_demo.SINGLE_TITLE)))
        )
        published = await session.scalar(select(func.count()).select_from(Purchase).where(Purchase.status != "draft"))
        awarded = await session.scalar(
            select(func.count()).select_from(Purchase).where(Purchase.status.in_(("awarded", "contracted")))
        )
        opened = await session.scalar(select(func.count()).select_from(Purchase).where(Purchase.opened_at.is_not(None)))
        bids = await session.scalar(
            select(func.count())
            .select_from(Bid)
            .join(Purchase, Purchase.id == Bid.purchase_id)
            .where(Purchase.opened_at.is_not(None), Bid.status == "active")
        )
        direct_reason = await session.scalar(
            select(Selection.reason).where(Selection.method == "direct", Selection.status == "current")
        )
        direct = await session.scalar(
            select(func.count())
            .select_from(Purchase)
            .where(
                Purchase.method == "direct",
                Purchase.status.in_(rules.SELECTED),
                Purchase.id.in_(select(Selection.purchase_id).where(Selection.status == "current")),
            )
        )
        valid_bids = (
            select(Bid.purchase_id)
            .join(Purchase, Purchase.id == Bid.purchase_id)
            .where(Purchase.opened_at.is_not(None), Bid.status == "active", Bid.valid.is_(True))
            .group_by(Bid.purchase_id)
            .having(func.count() == 1)
            .subquery()
        )
        single_bid = await session.scalar(select(func.count()).select_from(valid_bids))
    assert set(lots) == set(oversight_demo.TITLES) and len(single) == 1, (lots, single)
    assert loaded["oversight demo purchases created"] == len(lots) + len(single), loaded

    # every grouping adds up to the same totals, which agree with the database
    totals = None
    for group_by in rules.GROUPINGS:
        r = await client.get(f"/api/v1/finance/summary?group_by={group_by}&limit=200", headers=finance)
        assert r.status_code == 200, r.text
        s = r.json()
        totals = totals or s["totals"]
        assert s["totals"] == totals
        assert s["total"] == len(s["items"]) and all(row["label"] for row in s["items"])
        for name in COUNTS:
            assert sum(row[name] for row in s["items"]) == totals[name], (group_by, name)
        for name in MONEY:
            assert sum(Decimal(row[name]) for row in s["items"]) == Decimal(totals[name]), (group_by, name)
    assert (totals["purchases"], totals["awarded"]) == (published, awarded)
    assert Decimal(totals["savings"]) == Decimal(totals["cap_awarded"]) - Decimal(totals["awarded_amount"])
    competition = s["competition"]
    assert (competition["opened"], competition["bids"]) == (opened, bids)
    assert (competition["direct"], competition["single_bid"]) == (direct, single_bid)
    assert direct_reason and single_bid  # the demo tells both

    # the red flags the demo tells, each explained, with the data behind it
    flags = (await client.get("/api/v1/finance/flags?limit=200", headers=finance)).json()
    codes = {f["code"] for f in flags["items"]}
    expected = {
        "split_purchase",
        "identical_prices",
        "linked_bidders",
        "concentration",
        "single_bid",
        "direct_selection",
        "low_price",
        "objection_upheld",
        "paid_late",
        "linked_firms",
    }
    assert expected <= codes, expected - codes
    assert flags["total"] == len(flags["items"]) == sum(flags["counts"].values())
    assert all(f["explanation"] and f["title"] and f["subject"]["url"] for f in flags["items"])
    direct = next(f for f in flags["items"] if f["code"] == "direct_selection")
    assert direct["data"]["reason"] == direct_reason and direct_reason in direct["explanation"]
    split = [f for f in flags["items"] if f["code"] == "split_purchase"]
    assert sorted(f["subject"]["ref"] for f in split) == sorted(lots.values())
    assert all(sorted(m["ref"] for m in f["data"]["purchases"]) == sorted(lots.values()) for f in split)
    severities = [rules.SEVERITIES.index(f["severity"]) for f in flags["items"]]
    assert severities == sorted(severities)  # the most serious first

    # exports: every published purchase, once
    r = await client.get("/api/v1/finance/export.csv", headers=finance)
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == published + 1 and len({row[0] for row in rows[1:]}) == published
    r = await client.get("/api/v1/finance/export.xlsx", headers=finance)
    book = load_workbook(io.BytesIO(r.content))
    assert book.worksheets[0].max_row == published + 1 and len(book.worksheets) == 2
    # built by the export process, not the server's (whose event loop stays free), and deleted once sent
    assert offload.worker_pids() and os.getpid() not in offload.worker_pids()
    assert not list(export_jobs.directory(settings).glob("export-*"))

    # open data: valid OCDS 1.1.5, and nothing about sealed bids
    package = (await client.get("/api/v1/ocds/releases?limit=500")).json()
    assert_valid_package(package)
    assert len(package["releases"]) == published
    async with factory() as session:
        sealed = set(
            await session.scalars(select(Purchase.ref).where(Purchase.status != "draft", Purchase.opened_at.is_(None)))
        )
    unopened = [release for release in package["releases"] if release["tender"]["id"] in sealed]
    assert sealed and len(unopened) == len(sealed)
    for release in unopened:
        assert "numberOfTenderers" not in release["tender"] and "tenderers" not in release["tender"]
        assert "awards" not in release and "contracts" not in release
        assert all(set(p["roles"]) <= {"buyer", "procuringEntity"} for p in release["parties"])

    async with factory() as session:
        assert (await verify(session)).ok  # the exports were recorded in the chain

    # the pages, as the finance bureau and as the operator, in both languages
    for username, words in (
        ("finance", ("风险预警", "支出、竞争与节约")),
        ("admin", ("Red flags", "Spending by Owner")),
    ):
        page = await browser(app, username, DEMO_PASSWORD)
        try:
            lang = "zh" if username == "finance" else "en"
            overview = await page.get(f"/finance/overview?lang={lang}")
            assert overview.status_code == 200 and all(w in overview.text for w in words), overview.text[:500]
            for group_by in rules.GROUPINGS:
                assert (await page.get(f"/finance/overview?group_by={group_by}")).status_code == 200
            firms = await page.get("/finance/flags?kind=firm")
            assert firms.status_code == 200 and "/finance/firms/" in firms.text
            firm_url = firms.text.split('href="/finance/firms/')[1].split('"')[0]
            firm = await page.get(f"/finance/firms/{firm_url}")
            assert firm.status_code == 200 and "/workspace/purchases/" in firm.text
            purchases = await page.get("/finance/flags?severity=high")
            assert purchases.status_code == 200 and "/workspace/purchases/" in purchases.text
            exports = await page.get("/finance/exports")
            assert "/api/v1/finance/export.xlsx" in exports.text and "/api/v1/ocds/releases" in exports.text
        finally:
            await page.aclose()
