"""The services enforce every bound themselves, whatever the caller (a page, the API, the demo, a
script): amounts within NUMERIC(14,2) and above zero, the days an agreement may add, the length of
texts and no control characters — each refused as a field error before anything is written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from invoices import billing, contracts, delivery, ratings
from invoices.models import ContractAgreement, Delivery, Invoice, Payment, Rating
from market import clock
from market.errors import InvalidInput
from tests.integration.helpers import actor_of, make_parties, signed_contract

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
TOO_LARGE = ("1000000000000000", "999999999999.995", "Infinity", "NaN", "1E+400")


async def _count(session, model) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _refused(factory, field: str, call) -> None:
    """``call(session)`` raises a field error on ``field``, and nothing of it is written."""
    async with factory() as session:
        before = [await _count(session, m) for m in (ContractAgreement, Invoice, Payment, Rating, Delivery)]
        with pytest.raises(InvalidInput) as refused:
            await call(session)
        assert [e.field for e in refused.value.errors] == [field]
        await session.rollback()
        after = [await _count(session, m) for m in (ContractAgreement, Invoice, Payment, Rating, Delivery)]
        assert after == before


async def test_agreements_invoices_and_payments_refuse_out_of_bound_input(factory, settings):
    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider)
    o, p = actor_of(owner, "owner"), actor_of(provider, "provider")
    text = "因雨季延长外业时间。"

    def propose(**changes):
        args = {"text": text, **changes}
        return lambda s: contracts.propose_agreement(s, p, contract.id, **args)

    for amount in TOO_LARGE:
        await _refused(factory, "new_amount", propose(new_amount=Decimal(amount)))
        await _refused(
            factory, "amount", lambda s, a=amount: billing.issue_invoice(s, p, contract.id, amount=Decimal(a))
        )
    for amount in ("0", "-1", "0.001"):
        await _refused(factory, "new_amount", propose(new_amount=Decimal(amount)))
    for days in (-1, 366, 5000):
        await _refused(factory, "extra_days", propose(extra_days=days))
    await _refused(factory, "text", propose(text="延长\x00工期五个工作日"))
    await _refused(factory, "text", propose(text="改" * 4001))
    await _refused(factory, "text", propose(text="延期"))
    await _refused(
        factory,
        "tax_invoice_no",
        lambda s: billing.issue_invoice(s, p, contract.id, amount=Decimal("1"), tax_invoice_no="1" * 21),
    )

    # the bounds are the bounds, not less: 365 days and the largest amount NUMERIC(14,2) holds pass
    async with factory() as session:
        agreement = await contracts.propose_agreement(
            session, p, contract.id, text=text, new_amount=Decimal("999999999999.99"), extra_days=365
        )
        assert (agreement.new_amount, agreement.extra_days) == (Decimal("999999999999.99"), 365)
        await session.rollback()

    async with factory() as session:
        invoice = await billing.issue_invoice(session, p, contract.id, amount=Decimal("1000"))
        await session.commit()
    today = clock.today_local()

    def pay(**changes):
        args = {"amount": Decimal("10"), "paid_on": today, "reference": "TX-1", **changes}
        return lambda s: billing.record_payment(s, o, settings, invoice.id, **args)

    for amount in TOO_LARGE:
        await _refused(factory, "amount", pay(amount=Decimal(amount)))
        await _refused(
            factory,
            "amount",
            lambda s, a=amount: billing.issue_credit_note(s, p, invoice.id, reason="多开", amount=Decimal(a)),
        )
    await _refused(factory, "reference", pay(reference="TX\x001"))
    await _refused(factory, "reference", pay(reference="X" * 101))
    await _refused(factory, "reference", pay(reference="  "))
    await _refused(factory, "paid_on", pay(paid_on=date(2000, 1, 1)))
    await _refused(factory, "reason", lambda s: billing.issue_credit_note(s, p, invoice.id, reason="多\x00开"))
    await _refused(factory, "reason", lambda s: billing.issue_credit_note(s, p, invoice.id, reason="多" * 2001))


async def test_deliveries_returns_ratings_and_withdrawals_refuse_out_of_bound_text(factory, settings):
    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider)
    o, p = actor_of(owner, "owner"), actor_of(provider, "provider")
    upload = [delivery.Upload("report.pdf", PDF)]

    def submit(note: str):
        return lambda s: delivery.submit(s, p, settings, contract.id, note=note, files=upload)

    await _refused(factory, "note", submit("报告\x00"))
    await _refused(factory, "note", submit("报" * 2001))
    async with factory() as session:
        await delivery.submit(session, p, settings, contract.id, note="", files=upload)
        await session.commit()
    for reason in ("附图\x00缺少比例尺", "缺" * 2001, "不行"):
        await _refused(factory, "reason", lambda s, r=reason: delivery.return_delivery(s, o, contract.id, r))
    async with factory() as session:
        await delivery.accept(session, o, contract.id)
        agreement = await contracts.propose_agreement(session, p, contract.id, text="补充附图两幅，价款不变。")
        await session.commit()

    scores = {"quality": 5, "timeliness": 4, "attitude": 5, "price": 4}
    for comment in ("很好\x00", "好" * 1001):
        await _refused(factory, "comment", lambda s, c=comment: ratings.rate(s, o, contract.id, scores, c))
    await _refused(factory, "quality", lambda s: ratings.rate(s, o, contract.id, {**scores, "quality": 6}))
    for reason in ("不\x00同意", "不" * 2001, "不"):
        await _refused(factory, "reason", lambda s, r=reason: contracts.withdraw_agreement(s, o, agreement.id, r))
