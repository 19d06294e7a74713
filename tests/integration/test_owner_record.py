"""Owners have a record too (issue 13.5): each owner's payment record, cancellations after opening
and direct selections, aggregated by the database, equal to the same figures computed contract by
contract with the one account function and the contract flags, on the API and the public page."""

from __future__ import annotations

import statistics
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select
from sqlmodel import col

from bidding.models import CancellationRequest, CancellationStatus, Method, Purchase, Selection
from invoices import contracts, owners
from invoices.models import Contract, ContractStatus
from market import clock
from market.clock import LOCAL_TZ
from market.identity.models import Organization, OrgKind
from tests.integration.helpers import login, make_parties, signed_contract
from tests.integration.test_invoices_payment_term import _deliver_and_accept

ZERO = Decimal("0.00")


def expected(rows: list[Contract], settings, now: datetime) -> owners.PaymentRecord:
    """The payment record contract by contract, from account_of, flags_of and days_to_payment."""
    accepted = [c for c in rows if c.accepted_at is not None and c.status != ContractStatus.void]
    flags = {c.id: contracts.flags_of(c, settings, now) for c in accepted}
    paid = [c for c in accepted if c.paid_on is not None]
    overdue = [c for c in accepted if "payment_overdue" in flags[c.id]]
    days = [contracts.days_to_payment(c) for c in paid]
    return owners.PaymentRecord(
        accepted=len(accepted),
        paid_in_full=len(paid),
        paid_within_term=len([c for c in paid if "paid_late" not in flags[c.id]]),
        overdue=len(overdue),
        overdue_amount=sum((contracts.account_of(c).outstanding for c in overdue), ZERO),
        outstanding_amount=sum((contracts.account_of(c).outstanding for c in accepted), ZERO),
        average_days_to_payment=Decimal(str(statistics.mean(d for d in days if d is not None))).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )
        if days
        else None,
    )


async def test_the_payment_record_of_an_owner(client, factory, settings, app):
    """Accepted 2026-09-30: one contract paid on day 25 of a 30-day term, one on day 25 of a
    20-day term (late), one with 1,000.00 invoiced (net of a credit note) unpaid past its term,
    one signed and not accepted (not counted)."""
    clock.freeze(datetime(2026, 9, 1, 10, 0, tzinfo=LOCAL_TZ))
    owner, provider = await make_parties(factory)
    short = await signed_contract(factory, settings.with_(payment_days=20), owner, provider, amount=Decimal("1000"))
    usual = await signed_contract(factory, settings, owner, provider, amount=Decimal("2000"))
    unpaid = await signed_contract(factory, settings, owner, provider, amount=Decimal("5000"))
    await signed_contract(factory, settings, owner, provider, amount=Decimal("700"))
    clock.freeze(datetime(2026, 9, 30, 10, 0, tzinfo=LOCAL_TZ))
    for c in (short, usual, unpaid):
        await _deliver_and_accept(factory, settings, owner, provider, c.id)
    clock.freeze(datetime(2026, 10, 26, 9, 0, tzinfo=LOCAL_TZ))
    provider_h, owner_h = await login(client, "prov1"), await login(client, "owner1")
    for c in (short, usual, unpaid):
        inv = (
            await client.post(f"/api/v1/contracts/{c.id}/invoices", headers=provider_h, json={"amount": str(c.amount)})
        ).json()
        if c is unpaid:
            r = await client.post(
                f"/api/v1/invoices/{inv['id']}/credit-notes",
                headers=provider_h,
                json={"reason": "范围缩小", "amount": "4000"},
            )
        else:
            r = await client.post(
                f"/api/v1/invoices/{inv['id']}/payments",
                headers=owner_h,
                json={"amount": str(c.amount), "paid_on": "2026-10-25", "reference": f"TX-{c.number}"},
            )
        assert r.status_code == 201, r.text
    clock.freeze(datetime(2026, 10, 31, 0, 5, tzinfo=LOCAL_TZ))
    record = (await client.get(f"/api/v1/owners/{owner.org_id}/record")).json()
    assert record["payment"] == {
        "accepted_contracts": 3,
        "paid_in_full": 2,
        "paid_within_term": 1,
        "judged": 3,
        "share_within_term": "0.3333",
        "average_days_to_payment": "25.0",
        "overdue_contracts": 1,
        "overdue_amount": "1000.00",
        "outstanding_amount": "1000.00",
    }
    assert (record["cancellations_after_opening"], record["direct_selections"]) == (0, 0)
    async with factory() as session:
        rows = list(await session.scalars(select(Contract).where(col(Contract.owner_id) == owner.org_id)))
        assert await owners.payment_record(session, settings, owner.org_id) == expected(rows, settings, clock.now())
    for lang, words in (("zh", "付款记录"), ("en", "Paid within the term")):
        page = await client.get(f"/owners/{owner.org_id}?lang={lang}")
        assert page.status_code == 200 and words in page.text and "¥1,000.00" in page.text
    # counts read as words in each language: one contract overdue, three judged, one within the term
    en = (await client.get(f"/owners/{owner.org_id}?lang=en")).text
    assert "3 contracts paid in full or overdue now, 1 of them within the term" in en
    assert "· 1 contract</dd>" in en and "1 contracts" not in en
    zh = (await client.get(f"/owners/{owner.org_id}?lang=zh")).text
    assert "已付清或当前逾期的合同 3 份，其中 1 份在期限内付清" in zh and "1 份合同" in zh
    # not an owner, or not an organisation: not found, on both
    assert (await client.get(f"/api/v1/owners/{provider.org_id}/record")).status_code == 404
    assert (await client.get(f"/owners/{provider.org_id}")).status_code == 404


@pytest.mark.demo
async def test_every_owner_of_the_demo_county_has_its_record(client, factory, settings):
    """SQL aggregates equal the figures contract by contract; the counts equal the rows; the
    announcement links its owner's record."""
    async with factory() as session:
        owner_ids = list(await session.scalars(select(Organization.id).where(col(Organization.kind) == OrgKind.owner)))
        now = clock.now()
        seen_direct = seen_paid = 0
        for owner_id in owner_ids:
            rows = list(await session.scalars(select(Contract).where(col(Contract.owner_id) == owner_id)))
            record = await owners.owner_record(session, settings, owner_id)
            assert record.payment == expected(rows, settings, now), owner_id
            directs = list(
                await session.scalars(
                    select(Selection.id)
                    .join(Purchase, col(Purchase.id) == col(Selection.purchase_id))
                    .where(col(Purchase.owner_id) == owner_id, col(Selection.method) == Method.direct)
                )
            )
            cancelled = list(
                await session.scalars(
                    select(CancellationRequest.id)
                    .join(Purchase, col(Purchase.id) == col(CancellationRequest.purchase_id))
                    .where(
                        col(Purchase.owner_id) == owner_id,
                        col(CancellationRequest.status) == CancellationStatus.approved,
                    )
                )
            )
            assert (record.direct_selections, record.cancellations_after_opening) == (len(directs), len(cancelled))
            seen_direct += len(directs)
            seen_paid += record.payment.paid_in_full
        some = await session.scalar(select(Purchase).where(col(Purchase.ref).is_not(None)).limit(1))
    assert seen_direct and seen_paid, "the demo tells a direct selection and paid contracts"
    assert some is not None
    announcement = (await client.get(f"/purchases/{some.id}")).text
    assert f'href="/owners/{some.owner_id}"' in announcement
    assert (await client.get(f"/owners/{some.owner_id}?lang=en")).status_code == 200
