"""Invoices, credit notes and payments: never above the contract amount, numbers consecutive per
issuer and year with no gap or duplicate under concurrent requests, issued invoices unchangeable in
the database, overpayment refused, days from acceptance to payment tracked and lateness flagged."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Uuid, bindparam, func, select, text
from sqlalchemy.exc import DBAPIError

from invoices import delivery
from invoices.models import Contract, Invoice
from market import clock
from market.clock import LOCAL_TZ
from market.numbering import NumberCounter
from tests.integration.helpers import (
    account,
    actor_of,
    assert_problem,
    login,
    make_parties,
    make_user,
    signed_contract,
)


async def _deliver_and_accept(factory, settings, owner, provider, contract_id) -> None:
    pdf = b"%PDF-1.4\n% deliverable\n"
    async with factory() as session:
        await delivery.submit(
            session,
            actor_of(provider, "provider"),
            settings,
            contract_id,
            note="",
            files=[delivery.Upload("report.pdf", pdf)],
        )
        await delivery.accept(session, actor_of(owner, "owner"), contract_id)
        await session.commit()


async def test_invoices_are_numbered_per_issuer_and_never_exceed_the_contract(client, factory, settings):
    owner, provider = await make_parties(factory)
    other = await make_user(factory, "provider", "昆明测绘院有限公司", "prov2")
    first = await signed_contract(factory, settings, owner, provider)
    second = await signed_contract(factory, settings, owner, provider, amount=Decimal("3000"))
    third = await signed_contract(factory, settings, owner, other, amount=Decimal("5000"))
    provider_h = await login(client, "prov1")
    other_h = await login(client, "prov2")
    owner_h = await login(client, "owner1")
    year = clock.today_local().year

    def post(contract, headers, **body):
        return client.post(f"/api/v1/contracts/{contract.id}/invoices", headers=headers, json=body)

    r = await post(first, provider_h, amount="5000.00", tax_invoice_no="12345678")
    assert r.status_code == 201, r.text
    assert r.json()["number"] == f"FP-{year}-000001"
    assert (await post(second, provider_h, amount=1000)).json()["number"] == f"FP-{year}-000002"
    # another issuer has its own sequence
    assert (await post(third, other_h, amount="5000")).json()["number"] == f"FP-{year}-000001"
    # over the contract amount: refused, naming the field, and no number is used up
    body = assert_problem(await post(first, provider_h, amount="7800.01"), 422, "amount")
    assert "7,800.00" in body["detail"]
    assert (await post(first, provider_h, amount="7800.00")).json()["number"] == f"FP-{year}-000003"
    assert_problem(await post(first, provider_h, amount="1"), 422, "amount")
    # bad input
    assert_problem(await post(second, provider_h, amount="-5"), 422, "amount")
    assert_problem(await post(second, provider_h, amount="1.234"), 422, "amount")
    assert_problem(await post(second, provider_h, amount="10", tax_invoice_no="12AB"), 422, "tax_invoice_no")
    assert_problem(await post(second, owner_h, amount="10"), 403)
    assert_problem(await post(third, provider_h, amount="10"), 404)

    listed = (await client.get("/api/v1/invoices", headers=owner_h)).json()
    assert listed["total"] == 4  # the owner received all four
    assert (await client.get("/api/v1/invoices", headers=other_h)).json()["total"] == 1
    one = (await client.get(f"/api/v1/contracts/{first.id}/invoices", headers=provider_h)).json()
    assert [i["number"] for i in one] == [f"FP-{year}-000001", f"FP-{year}-000003"]
    assert one[0]["tax_invoice_no"] == "12345678" and one[0]["state"] == "open"


async def test_credit_notes_and_payments(client, factory, settings):
    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider)
    provider_h = await login(client, "prov1")
    owner_h = await login(client, "owner1")
    year = clock.today_local().year
    inv = (
        await client.post(f"/api/v1/contracts/{contract.id}/invoices", headers=provider_h, json={"amount": "12800"})
    ).json()
    url = f"/api/v1/invoices/{inv['id']}"
    assert_problem(
        await client.post(f"/api/v1/contracts/{contract.id}/invoices", headers=provider_h, json={"amount": 1}), 422
    )

    # the owner pays part, then tries to overpay
    today = clock.today_local().isoformat()
    r = await client.post(
        f"{url}/payments", headers=owner_h, json={"amount": "2800", "paid_on": today, "reference": "TX-1"}
    )
    assert r.status_code == 201, r.text
    assert_problem(
        await client.post(
            f"{url}/payments", headers=owner_h, json={"amount": "10000.01", "paid_on": today, "reference": "X"}
        ),
        422,
        "amount",
    )
    future = (clock.today_local() + timedelta(days=2)).isoformat()
    assert_problem(
        await client.post(
            f"{url}/payments", headers=owner_h, json={"amount": "1", "paid_on": future, "reference": "X"}
        ),
        422,
        "paid_on",
    )
    assert_problem(
        await client.post(
            f"{url}/payments", headers=provider_h, json={"amount": "1", "paid_on": today, "reference": "X"}
        ),
        403,
    )

    # a credit note may take off at most the unpaid part, and refers to the invoice
    assert_problem(
        await client.post(f"{url}/credit-notes", headers=provider_h, json={"reason": "多开", "amount": "10000.01"}),
        422,
        "amount",
    )
    r = await client.post(
        f"{url}/credit-notes", headers=provider_h, json={"reason": "服务范围缩小，冲销部分金额", "amount": "3000"}
    )
    assert r.status_code == 201, r.text
    note = r.json()
    assert note["number"] == f"HZ-{year}-000001"  # credit notes have a series of their own
    got = (await client.get(f"/api/v1/invoices/{note['id']}", headers=owner_h)).json()
    assert got["kind"] == "credit_note" and got["credits_invoice_id"] == inv["id"] and got["state"] == "credit_note"
    assert_problem(
        await client.post(f"/api/v1/invoices/{note['id']}/credit-notes", headers=provider_h, json={"reason": "x y"}),
        422,
    )
    assert_problem(
        await client.post(
            f"/api/v1/invoices/{note['id']}/payments",
            headers=owner_h,
            json={"amount": "1", "paid_on": today, "reference": "X"},
        ),
        422,
    )
    body = (await client.get(url, headers=owner_h)).json()
    assert (body["amount"], body["credited"], body["paid"], body["outstanding"], body["state"]) == (
        "12800.00",
        "3000.00",
        "2800.00",
        "7000.00",
        "partly_paid",
    )
    # the amount freed by the credit note may be invoiced again
    contract_body = (await client.get(f"/api/v1/contracts/{contract.id}", headers=owner_h)).json()
    assert contract_body["invoiced_total"] == "9800.00" and contract_body["paid_total"] == "2800.00"
    # the rest of the invoice: a credit note without amount takes the unpaid remainder
    r = await client.post(f"{url}/credit-notes", headers=provider_h, json={"reason": "作废重开"})
    assert (
        r.status_code == 201
        and (await client.get(f"/api/v1/invoices/{r.json()['id']}", headers=owner_h)).json()["amount"] == "7000.00"
    )
    assert_problem(await client.post(f"{url}/credit-notes", headers=provider_h, json={"reason": "再冲"}), 422, "amount")
    payments = (await client.get(f"{url}/payments", headers=provider_h)).json()
    assert [p["reference"] for p in payments] == ["TX-1"]


async def test_issued_invoices_and_payments_cannot_be_changed_by_sql(client, factory, settings):
    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider)
    provider_h = await login(client, "prov1")
    owner_h = await login(client, "owner1")
    inv = (
        await client.post(f"/api/v1/contracts/{contract.id}/invoices", headers=provider_h, json={"amount": "100"})
    ).json()
    pay = await client.post(
        f"/api/v1/invoices/{inv['id']}/payments",
        headers=owner_h,
        json={"amount": "100", "paid_on": clock.today_local().isoformat(), "reference": "TX"},
    )
    assert pay.status_code == 201
    for table, sql, row in (
        ("invoices", "UPDATE invoices SET amount = 1 WHERE id = :id", inv["id"]),
        ("invoices", "UPDATE invoices SET tax_invoice_no = '87654321' WHERE id = :id", inv["id"]),
        ("invoices", "DELETE FROM invoices WHERE id = :id", inv["id"]),
        ("payments", "UPDATE payments SET amount = 1 WHERE id = :id", pay.json()["id"]),
    ):
        async with factory() as session:
            with pytest.raises(DBAPIError) as refused:
                await session.execute(text(sql).bindparams(bindparam("id", type_=Uuid())), {"id": uuid.UUID(row)})
            assert f"{table}: rows are append-only" in str(refused.value)
            await session.rollback()
    # the contract's running totals cannot be pushed past the amount either (CHECK constraint)
    async with factory() as session:
        with pytest.raises(DBAPIError) as refused:
            await session.execute(
                text("UPDATE contracts SET invoiced_total = amount_current + 1 WHERE id = :id").bindparams(
                    bindparam("id", type_=Uuid())
                ),
                {"id": contract.id},
            )
        assert "invoiced_within_amount" in str(refused.value)
        await session.rollback()


async def test_thirty_concurrent_invoices_are_consecutive_and_stop_at_the_amount(client, factory, settings):
    owner, provider = await make_parties(factory)
    # room for 25 invoices of 500.00; 30 are requested at once
    contract = await signed_contract(factory, settings, owner, provider, amount=Decimal("12500.00"))
    provider_h = await login(client, "prov1")

    async def one():
        return await client.post(
            f"/api/v1/contracts/{contract.id}/invoices", headers=provider_h, json={"amount": "500"}
        )

    responses = await asyncio.gather(*(one() for _ in range(30)))
    created = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    assert len(created) == 25, [r.text for r in refused][:3]
    for r in refused:
        body = assert_problem(r, 422, "amount")
        assert body["title"]
    year = clock.today_local().year
    numbers = sorted(r.json()["number"] for r in created)
    assert numbers == [f"FP-{year}-{n:06d}" for n in range(1, 26)]  # consecutive: no gap, no duplicate
    async with factory() as session:
        total = await session.scalar(select(func.sum(Invoice.amount)).where(Invoice.contract_id == contract.id))
        row = await session.get(Contract, contract.id)
        counter = await session.scalar(select(NumberCounter.value).where(NumberCounter.scope == str(provider.org_id)))
    assert total == Decimal("12500.00") == row.invoiced_total and counter == 25


@pytest.mark.postgres_only
async def test_concurrent_invoices_of_one_issuer_across_contracts(client, factory, settings):
    """The counter row is shared by the issuer's contracts: parallel requests on different
    contracts still get one consecutive sequence."""
    owner, provider = await make_parties(factory)
    contracts = [await signed_contract(factory, settings, owner, provider, amount=Decimal("1000")) for _ in range(5)]
    provider_h = await login(client, "prov1")
    responses = await asyncio.gather(
        *(
            client.post(f"/api/v1/contracts/{c.id}/invoices", headers=provider_h, json={"amount": "100"})
            for c in contracts
            for _ in range(6)
        )
    )
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses if r.status_code != 201][:2]
    year = clock.today_local().year
    assert sorted(r.json()["number"] for r in responses) == [f"FP-{year}-{n:06d}" for n in range(1, 31)]


async def test_days_from_acceptance_to_payment_and_late_payment(client, factory, settings):
    clock.freeze(datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ))
    owner, provider = await make_parties(factory)
    on_time = await signed_contract(factory, settings, owner, provider, amount=Decimal("1000"))
    late = await signed_contract(factory, settings, owner, provider, amount=Decimal("2000"))
    for c in (on_time, late):
        await _deliver_and_accept(factory, settings, owner, provider, c.id)
    # accepted Monday 2026-03-02: 30 calendar days end on Wednesday 2026-04-01
    clock.freeze(datetime(2026, 5, 20, 10, 0, tzinfo=LOCAL_TZ))
    provider_h = await login(client, "prov1")
    owner_h = await login(client, "owner1")
    finance_h = await account(client, factory, "finance", "fin")
    for c, paid_on in ((on_time, date(2026, 4, 1)), (late, date(2026, 4, 2))):
        inv = (
            await client.post(f"/api/v1/contracts/{c.id}/invoices", headers=provider_h, json={"amount": str(c.amount)})
        ).json()
        r = await client.post(
            f"/api/v1/invoices/{inv['id']}/payments",
            headers=owner_h,
            json={"amount": str(c.amount), "paid_on": paid_on.isoformat(), "reference": f"TX-{c.number}"},
        )
        assert r.status_code == 201, r.text
    good = (await client.get(f"/api/v1/contracts/{on_time.id}", headers=owner_h)).json()
    bad = (await client.get(f"/api/v1/contracts/{late.id}", headers=owner_h)).json()
    assert good["payment_deadline"].startswith("2026-04-01")
    assert (good["days_to_payment"], good["flags"]) == (30, [])
    assert (bad["days_to_payment"], bad["flags"]) == (31, ["paid_late"])
    flagged = (await client.get("/api/v1/contracts?flag=paid_late", headers=finance_h)).json()
    assert [c["number"] for c in flagged["items"]] == [late.number]


async def test_unpaid_after_the_payment_term_is_flagged(client, factory, settings):
    clock.freeze(datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ))
    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider)
    await _deliver_and_accept(factory, settings, owner, provider, contract.id)
    provider_h = await login(client, "prov1")
    r = await client.post(f"/api/v1/contracts/{contract.id}/invoices", headers=provider_h, json={"amount": "1000"})
    assert r.status_code == 201, r.text
    clock.freeze(datetime(2026, 4, 1, 23, 0, tzinfo=LOCAL_TZ))  # the 30th calendar day after acceptance
    owner_h = await login(client, "owner1")
    assert (await client.get(f"/api/v1/contracts/{contract.id}", headers=owner_h)).json()["flags"] == []
    clock.freeze(datetime(2026, 4, 2, 0, 30, tzinfo=LOCAL_TZ))
    owner_h = await login(client, "owner1")
    body = (await client.get(f"/api/v1/contracts/{contract.id}", headers=owner_h)).json()
    assert body["flags"] == ["payment_overdue"] and body["outstanding"] == "1000.00"
