"""One outstanding amount (issue 9.8), across the whole demo county: per contract, the invoiced
(net of credit notes), paid and outstanding amounts are the same in the database's own rows, the
account function, the API, the contract pages, the finance list, the red flags, the CSV export and
the OCDS releases."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from invoices import billing, contracts
from invoices.models import Contract, Invoice, InvoiceKind, Payment
from oversight import exports
from tests.integration.helpers import browser, login

pytestmark = pytest.mark.demo

DEMO_PASSWORD = "demo2026"
ZERO = Decimal("0.00")


def _money(text: str) -> Decimal:
    return Decimal(text.replace("¥", "").replace(",", "").strip())


async def test_every_figure_of_a_contract_agrees_across_the_demo(client, factory, settings, app):
    async with factory() as session:
        rows = list(await session.scalars(select(Contract).order_by(Contract.number)))
        found = await contracts.accounts(session, [c.id for c in rows])
        documents = list(await session.scalars(select(Invoice)))
        payments = list(await session.scalars(select(Payment)))
        balances = await billing.balances(session, documents)
    assert rows and any(d.kind == InvoiceKind.credit_note for d in documents), "the demo tells a credit note"

    # 1. the account is what the invoices, credit notes and payments themselves add up to
    truth: dict = {}
    for c in rows:
        mine = [d for d in documents if d.contract_id == c.id]
        invoiced = sum((d.amount if d.kind == InvoiceKind.invoice else -d.amount for d in mine), ZERO)
        paid = sum((p.amount for p in payments if p.contract_id == c.id), ZERO)
        per_invoice = sum((balances[d.id].outstanding for d in mine if d.kind == InvoiceKind.invoice), ZERO)
        account = found[c.id]
        assert account == contracts.account_of(c), c.number
        assert (account.amount, account.invoiced, account.paid) == (c.amount_current, invoiced, paid), c.number
        assert account.outstanding == invoiced - paid == per_invoice, c.number  # the invoice list agrees
        truth[c.number] = account
    assert any(a.outstanding > 0 for a in truth.values())

    # 2. the API
    finance = await login(client, "finance", DEMO_PASSWORD)
    listed = (await client.get("/api/v1/contracts?limit=200", headers=finance)).json()
    api = {c["number"]: c for c in listed["items"]}
    for number, account in truth.items():
        c = api[number]
        assert (_money(c["invoiced_total"]), _money(c["paid_total"]), _money(c["outstanding"])) == (
            account.invoiced,
            account.paid,
            account.outstanding,
        ), number

    # 3. the pages: each contract's page, and the finance bureau's contract list
    page = await browser(app, "finance", DEMO_PASSWORD)
    try:
        for c in rows:
            html = (await page.get(f"/workspace/contracts/{c.id}")).text
            shown = re.search(r'id="outstanding"><strong>([^<]+)</strong>', html)
            assert shown and _money(shown.group(1)) == truth[c.number].outstanding, c.number
        listing = (await page.get("/finance/contracts")).text
        row_re = r'<a href="/workspace/contracts/[^"]+">([^<]+)</a>.*?<td class="num outstanding">([^<]+)</td>'
        shown_rows = re.findall(row_re, listing, re.S)
        assert shown_rows
        for number, amount in shown_rows:
            assert _money(amount) == truth[number].outstanding, number
    finally:
        await page.aclose()

    # 4. the red flags say the same outstanding amount
    contract_flags = []
    for code in ("payment_overdue", "paid_late", "overdue", "delivered_late", "signed_late"):
        got = (await client.get(f"/api/v1/finance/flags?code={code}&limit=200", headers=finance)).json()
        contract_flags += got["items"]
    assert contract_flags
    for f in contract_flags:
        data = f["data"]
        if data.get("contract"):
            account = truth[data["contract"]["number"]]
            assert (_money(data["invoiced"]), _money(data["paid"]), _money(data["outstanding"])) == (
                account.invoiced,
                account.paid,
                account.outstanding,
            ), f["code"]

    # 5. the CSV export
    csv_bytes = (await client.get("/api/v1/finance/export.csv", headers=finance)).content
    table = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    at = {column.header: i for i, column in enumerate(exports.COLUMNS)}
    exported = {r[at["Contract"]]: r for r in table[1:] if r[at["Contract"]]}
    for number, account in truth.items():
        r = exported[number]
        assert (
            Decimal(r[at["Invoiced (net)"]]),
            Decimal(r[at["Paid"]]),
            Decimal(r[at["Outstanding"]]),
        ) == (account.invoiced, account.paid, account.outstanding), number

    # 6. the OCDS releases: the payments published are the amount paid; paid up means terminated
    package = (await client.get("/api/v1/ocds/releases?limit=500")).json()
    published = {}
    for release in package["releases"]:
        for c in release.get("contracts", []):
            published[c["id"]] = c
    for c in rows:
        if c.signed_at is None and c.number not in published:
            continue
        ocds_contract = published[c.number]
        transactions = (ocds_contract.get("implementation") or {}).get("transactions", [])
        assert sum((Decimal(str(t["value"]["amount"])) for t in transactions), ZERO) == truth[c.number].paid
        paid_up = c.accepted_at is not None and truth[c.number].paid_up
        assert (ocds_contract["status"] == "terminated") == paid_up, c.number
