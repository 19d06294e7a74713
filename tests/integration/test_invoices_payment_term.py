"""Issue 9: the payment term in calendar days, stored on the contract; the invoice and credit-note
series each without gaps; one outstanding amount; confirmation steps before irreversible actions;
the bank reference and party labels; a refused delivery says its files must be chosen again."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from invoices import billing, bounds, delivery, documents, rendering
from invoices import contracts as contracts_service
from invoices.models import Contract, Invoice, InvoiceKind
from market import clock
from market.clock import LOCAL_TZ
from tests.integration.helpers import (
    account,
    actor_of,
    browser,
    csrf,
    draft_contract,
    login,
    make_parties,
    signed_contract,
)

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"


async def _deliver_and_accept(factory, settings, owner, provider, contract_id) -> None:
    async with factory() as session:
        await delivery.submit(
            session,
            actor_of(provider, "provider"),
            settings,
            contract_id,
            note="",
            files=[delivery.Upload("report.pdf", PDF)],
        )
        await delivery.accept(session, actor_of(owner, "owner"), contract_id)
        await session.commit()


async def test_a_payment_on_calendar_day_25_is_judged_in_calendar_days(client, factory, settings):
    """Accepted 2026-09-30, paid 2026-10-25: day 25 in calendar days, but only 12 working days
    (the National Day week is off). A 20-day term is broken, a 30-day term kept."""
    clock.freeze(datetime(2026, 9, 1, 10, 0, tzinfo=LOCAL_TZ))
    owner, provider = await make_parties(factory)
    # drafted while the platform's term was 20 days: the contract keeps its 20 days afterwards
    short = await signed_contract(factory, settings.with_(payment_days=20), owner, provider, amount=Decimal("1000"))
    usual = await signed_contract(factory, settings, owner, provider, amount=Decimal("2000"))
    assert (short.payment_days, usual.payment_days) == (20, 30)
    clock.freeze(datetime(2026, 9, 30, 10, 0, tzinfo=LOCAL_TZ))
    for c in (short, usual):
        await _deliver_and_accept(factory, settings, owner, provider, c.id)
    clock.freeze(datetime(2026, 10, 26, 9, 0, tzinfo=LOCAL_TZ))
    provider_h = await login(client, "prov1")
    owner_h = await login(client, "owner1")
    finance_h = await account(client, factory, "finance", "fin")
    for c in (short, usual):
        inv = (
            await client.post(f"/api/v1/contracts/{c.id}/invoices", headers=provider_h, json={"amount": str(c.amount)})
        ).json()
        r = await client.post(
            f"/api/v1/invoices/{inv['id']}/payments",
            headers=owner_h,
            json={"amount": str(c.amount), "paid_on": "2026-10-25", "reference": f"TX-{c.number}"},
        )
        assert r.status_code == 201, r.text
    late = (await client.get(f"/api/v1/contracts/{short.id}", headers=owner_h)).json()
    kept = (await client.get(f"/api/v1/contracts/{usual.id}", headers=owner_h)).json()
    # the application runs with the 30-day setting; the short contract still counts its own 20 days
    assert late["payment_days"] == 20 and late["payment_deadline"].startswith("2026-10-20")
    assert kept["payment_days"] == 30 and kept["payment_deadline"].startswith("2026-10-30")
    assert late["days_to_payment"] == kept["days_to_payment"] == 25
    assert "paid_late" in late["flags"] and "paid_late" not in kept["flags"]
    flagged = (await client.get("/api/v1/contracts?flag=paid_late", headers=finance_h)).json()
    assert [c["number"] for c in flagged["items"]] == [short.number]


async def test_unpaid_after_30_calendar_days_is_overdue_despite_the_holiday(client, factory, settings, app):
    """Accepted 2026-09-30: due 2026-10-30, though 30 working days would end on 11-17; both
    parties' contract pages say so, and the flag says the outstanding amount."""
    clock.freeze(datetime(2026, 9, 1, 10, 0, tzinfo=LOCAL_TZ))
    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider, amount=Decimal("5000"))
    clock.freeze(datetime(2026, 9, 30, 10, 0, tzinfo=LOCAL_TZ))
    await _deliver_and_accept(factory, settings, owner, provider, contract.id)
    provider_h = await login(client, "prov1")
    inv = (
        await client.post(f"/api/v1/contracts/{contract.id}/invoices", headers=provider_h, json={"amount": "5000"})
    ).json()
    # a credit note takes 4,000.00 off: 1,000.00 is owed, not 5,000.00
    r = await client.post(
        f"/api/v1/invoices/{inv['id']}/credit-notes", headers=provider_h, json={"reason": "范围缩小", "amount": "4000"}
    )
    assert r.status_code == 201, r.text
    clock.freeze(datetime(2026, 10, 30, 22, 0, tzinfo=LOCAL_TZ))
    owner_h = await login(client, "owner1")
    body = (await client.get(f"/api/v1/contracts/{contract.id}", headers=owner_h)).json()
    assert "payment_overdue" not in body["flags"] and body["payment_deadline"].startswith("2026-10-30")
    for who in ("owner1", "prov1"):
        page = await browser(app, who)
        try:
            html = (await page.get(f"/workspace/contracts/{contract.id}?lang=en")).text
        finally:
            await page.aclose()
        assert "30 calendar days after acceptance" in html and "Pay by 2026-10-30" in html
        assert "working days after acceptance" not in html
        assert re.search(r'id="outstanding"><strong>¥1,000\.00', html), who
    clock.freeze(datetime(2026, 10, 31, 0, 5, tzinfo=LOCAL_TZ))
    owner_h = await login(client, "owner1")
    body = (await client.get(f"/api/v1/contracts/{contract.id}", headers=owner_h)).json()
    assert "payment_overdue" in body["flags"]
    assert (body["invoiced_total"], body["paid_total"], body["outstanding"]) == ("1000.00", "0.00", "1000.00")
    finance_h = await account(client, factory, "finance", "fin")
    flags = (await client.get("/api/v1/finance/flags?code=payment_overdue", headers=finance_h)).json()
    mine = [f for f in flags["items"] if f["data"]["contract"]["number"] == contract.number]
    assert len(mine) == 1 and mine[0]["data"]["outstanding"] == "1000.00"
    assert "¥1,000.00" in mine[0]["explanation"] and "¥5,000.00" not in mine[0]["explanation"]


async def test_the_contract_and_invoice_pdfs_say_calendar_days(app, factory, settings):
    owner, provider = await make_parties(factory)
    contract = await draft_contract(factory, settings, owner, provider)
    o = await browser(app, "owner1")
    try:
        html = (await o.get(f"/workspace/contracts/{contract.id}?lang=en")).text
        assert "30 calendar days after acceptance" in html
        assert "The payment clock starts when the service is accepted." in html
    finally:
        await o.aclose()
    async with factory() as session:
        row = await session.get(Contract, contract.id)
        html_of = {}
        for lang in ("zh", "en"):
            source = await documents.contract_source(session, settings, row, lang, draft=True)
            context = {**source.context, "doc": source, "base_url": "", "verify_url": ""}
            html_of[lang] = rendering.render_html(source.template, context, lang)
    zh, en = html_of["zh"], html_of["en"]
    assert "验收合格之日起 30 日内付款" in zh and "个工作日内付款" not in zh
    assert "within 30 calendar days after acceptance" in en


async def test_invoices_and_credit_notes_are_two_series(client, factory, settings):
    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider, amount=Decimal("3000"))
    provider_h = await login(client, "prov1")
    year = clock.today_local().year
    numbers = []
    for _ in range(2):
        inv = (
            await client.post(f"/api/v1/contracts/{contract.id}/invoices", headers=provider_h, json={"amount": "1000"})
        ).json()
        numbers.append(inv["number"])
        note = (
            await client.post(
                f"/api/v1/invoices/{inv['id']}/credit-notes", headers=provider_h, json={"reason": "开错金额"}
            )
        ).json()
        numbers.append(note["number"])
    last = (
        await client.post(f"/api/v1/contracts/{contract.id}/invoices", headers=provider_h, json={"amount": "1000"})
    ).json()
    numbers.append(last["number"])
    assert numbers == [
        f"FP-{year}-000001",
        f"HZ-{year}-000001",
        f"FP-{year}-000002",
        f"HZ-{year}-000002",
        f"FP-{year}-000003",
    ]


@pytest.mark.postgres_only
async def test_parallel_invoices_and_credit_notes_keep_each_series_consecutive(client, factory, settings):
    owner, provider = await make_parties(factory)
    contracts = [await signed_contract(factory, settings, owner, provider, amount=Decimal("1000")) for _ in range(4)]
    provider_h = await login(client, "prov1")
    # an invoice to credit on each contract first
    firsts = [
        (await client.post(f"/api/v1/contracts/{c.id}/invoices", headers=provider_h, json={"amount": "500"})).json()
        for c in contracts
    ]
    requests = []
    for c, inv in zip(contracts, firsts, strict=True):
        for _ in range(5):
            requests.append(
                client.post(f"/api/v1/contracts/{c.id}/invoices", headers=provider_h, json={"amount": "100"})
            )
            requests.append(
                client.post(
                    f"/api/v1/invoices/{inv['id']}/credit-notes",
                    headers=provider_h,
                    json={"reason": "部分冲销", "amount": "50"},
                )
            )
    responses = await asyncio.gather(*requests)
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses if r.status_code != 201][:2]
    year = clock.today_local().year
    async with factory() as session:
        rows = list(await session.scalars(select(Invoice).where(Invoice.issuer_id == provider.org_id)))
    fp = sorted(i.number for i in rows if i.kind == InvoiceKind.invoice)
    hz = sorted(i.number for i in rows if i.kind == InvoiceKind.credit_note)
    assert fp == [f"FP-{year}-{n:06d}" for n in range(1, 25)]  # 4 first + 20 parallel
    assert hz == [f"HZ-{year}-{n:06d}" for n in range(1, 21)]


async def test_irreversible_actions_ask_first(app, factory, settings):
    owner, provider = await make_parties(factory)
    contract = await draft_contract(factory, settings, owner, provider)
    page = f"/workspace/contracts/{contract.id}"
    o = await browser(app, "owner1")
    p = await browser(app, "prov1")
    try:

        def asks(html: str, action: str, words: str) -> bool:
            """A <details class="confirm"> whose form posts to ``action`` and says ``words`` before its button."""
            for block in re.findall(r'<details class="confirm".*?</details>', html, re.S):
                if f'action="{action}"' in block and words in block:
                    return True
            return False

        html = (await o.get(f"{page}?lang=en")).text
        assert asks(html, f"{page}/sign", "Signing cannot be undone")
        await o.post(f"{page}/sign", data={"csrf_token": csrf(o)})
        await p.post(f"{page}/sign", data={"csrf_token": csrf(p)})
        html = (await p.get(f"{page}?lang=en")).text
        assert asks(html, f"{page}/invoices", "An issued invoice cannot be changed or withdrawn")
        # a refused delivery says, next to the field, that the files must be chosen again
        bad = await p.post(
            f"{page}/deliveries?lang=en",
            data={"csrf_token": csrf(p), "note": "报告"},
            files={"files": ("report.pdf", b"not a pdf", "application/pdf")},
        )
        assert bad.status_code == 415
        assert re.search(r'name="files".*?<span class="hint">[^<]*choose them again', bad.text, re.S)
        # a refusal for another reason (the note is too long) keeps the acceptable file: held, listed,
        # and sent again by its token without being chosen again
        refused = await p.post(
            f"{page}/deliveries?lang=en",
            data={"csrf_token": csrf(p), "note": "长" * (bounds.DELIVERY_NOTE + 1)},
            files={"files": ("评估报告.pdf", PDF, "application/pdf")},
        )
        assert refused.status_code == 422, refused.text
        assert "Kept from your last attempt: 评估报告.pdf" in refused.text
        tokens = re.findall(r'name="files_held" value="([^"]+)"', refused.text)
        assert len(tokens) == 1
        forged = await p.post(
            f"{page}/deliveries",
            data={"csrf_token": csrf(p), "note": "报告", "files_held": tokens[0][:-4] + "0000"},
        )
        assert forged.status_code == 422 and "are no longer kept" in forged.text
        ok = await p.post(f"{page}/deliveries", data={"csrf_token": csrf(p), "note": "报告", "files_held": tokens[0]})
        assert ok.status_code == 303, ok.text
        async with factory() as session:
            files = await delivery.files_of(session, [d.id for d in await delivery.deliveries_of(session, contract.id)])
        assert [f.filename for rows in files.values() for f in rows] == ["评估报告.pdf"]
        html = (await o.get(f"{page}?lang=en")).text
        assert asks(html, f"{page}/accept", "the payment clock starts")
        assert asks(html, f"{page}/accept", "within 30 calendar days")
        await o.post(f"{page}/accept", data={"csrf_token": csrf(o)})
        r = await p.post(f"{page}/invoices", data={"csrf_token": csrf(p), "amount": "1000"})
        assert r.status_code == 303
        invoice_page = r.headers["location"].split("?")[0]
        inv_id = invoice_page.rsplit("/", 1)[1]
        html = (await p.get(f"{invoice_page}?lang=en")).text
        assert asks(html, f"/workspace/invoices/{inv_id}/credit-notes", "A credit note cannot be changed")
        html = (await o.get(f"{invoice_page}?lang=en")).text
        assert asks(html, f"/workspace/invoices/{inv_id}/payments", "A recorded payment cannot be changed")
        r = await o.post(
            f"/workspace/invoices/{inv_id}/payments",
            data={
                "csrf_token": csrf(o),
                "amount": "400",
                "paid_on": clock.today_local().isoformat(),
                "reference": "BANK-77",
            },
        )
        assert r.status_code == 303, r.text
        # the payment table: the bank reference is labelled as such, not as a purchase reference (项目编号)
        zh = (await o.get(f"{invoice_page}?lang=zh")).text
        table = re.search(r'<section id="payments">.*?</table>', zh, re.S).group(0)
        assert "银行交易流水号" in table and "BANK-77" in table and "项目编号" not in table
        # the English contract page names the parties in English
        en = (await o.get(f"{page}?lang=en")).text
        assert "Party A (purchaser)" in en and "Party B (service provider)" in en
        assert "甲方" not in en and "乙方" not in en
    finally:
        await o.aclose()
        await p.aclose()


async def test_one_outstanding_amount_for_many_contracts(factory, settings):
    owner, provider = await make_parties(factory)
    a = await signed_contract(factory, settings, owner, provider, amount=Decimal("5000"))
    b = await signed_contract(factory, settings, owner, provider, amount=Decimal("3000"))
    async with factory() as session:
        inv = await billing.issue_invoice(session, actor_of(provider, "provider"), a.id, amount=Decimal("5000"))
        await billing.issue_credit_note(
            session, actor_of(provider, "provider"), inv.id, reason="冲销部分", amount=Decimal("4000")
        )
        await billing.record_payment(
            session,
            actor_of(owner, "owner"),
            settings,
            inv.id,
            amount=Decimal("600"),
            paid_on=clock.today_local(),
            reference="TX",
        )
        await session.commit()
    async with factory() as session:
        found = await contracts_service.accounts(session, [a.id, b.id])
        row = await session.get(Contract, a.id)
        assert found[a.id] == contracts_service.account_of(row)
    assert (found[a.id].invoiced, found[a.id].paid, found[a.id].outstanding) == (
        Decimal("1000.00"),
        Decimal("600.00"),
        Decimal("400.00"),
    )
    assert found[a.id].uninvoiced == Decimal("4000.00")
    assert (found[b.id].invoiced, found[b.id].outstanding) == (Decimal("0.00"), Decimal("0.00"))


async def test_migration_0011_continues_each_series_after_the_numbers_already_issued(factory, settings, database_url):
    """Before 0011 both kinds shared one counter: FP-1, HZ-2, FP-3. After it the credit notes
    carry on after HZ-2 and the invoices after FP-3 (no duplicate; issued numbers never change)."""
    from sqlalchemy import create_engine, insert

    from market import migrations
    from market.db import sync_url
    from market.numbering import NumberCounter

    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider, amount=Decimal("9000"))
    year = clock.today_local().year
    migrations.downgrade(database_url, "0008")
    engine = create_engine(sync_url(database_url))
    first = uuid.uuid4()
    try:
        with engine.begin() as conn:
            common = {
                "contract_id": contract.id,
                "issuer_id": provider.org_id,
                "recipient_id": owner.org_id,
                "year": year,
                "issued_at": clock.now(),
                "issued_by": provider.id,
            }
            old = [
                {"id": first, "kind": "invoice", "seq": 1, "number": f"FP-{year}-000001", "amount": Decimal("3000")},
                {
                    "id": uuid.uuid4(),
                    "kind": "credit_note",
                    "seq": 2,
                    "number": f"HZ-{year}-000002",
                    "amount": Decimal("1000"),
                    "credits_invoice_id": first,
                    "reason": "旧编号",
                },
                {
                    "id": uuid.uuid4(),
                    "kind": "invoice",
                    "seq": 3,
                    "number": f"FP-{year}-000003",
                    "amount": Decimal("2000"),
                },
            ]
            for row in old:
                conn.execute(insert(Invoice.__table__).values(**common, **row))
            conn.execute(
                insert(NumberCounter.__table__).values(series="invoice", scope=str(provider.org_id), year=year, value=3)
            )
            conn.execute(
                Contract.__table__.update()
                .where(Contract.__table__.c.id == contract.id)
                .values(invoiced_total=Decimal("4000"))
            )
    finally:
        engine.dispose()
    migrations.upgrade(database_url)
    async with factory() as session:
        note = await billing.issue_credit_note(
            session, actor_of(provider, "provider"), first, reason="迁移后冲销", amount=Decimal("500")
        )
        invoice = await billing.issue_invoice(
            session, actor_of(provider, "provider"), contract.id, amount=Decimal("10")
        )
        await session.commit()
    assert (note.number, invoice.number) == (f"HZ-{year}-000003", f"FP-{year}-000004")
