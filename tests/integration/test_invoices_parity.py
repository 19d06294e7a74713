"""One input path: every form of the invoices pages refuses what its API twin refuses, naming the
same field with the same message — 422 with ``errors[].field`` on the API, the page shown again
(422) with the message next to that field — and never answers 500, on both databases."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from invoices import billing, contracts, delivery
from invoices.models import ContractAgreement, Delivery, Invoice, Payment, Rating
from market import clock
from tests.integration.helpers import (
    actor_of,
    assert_problem,
    browser,
    csrf,
    login,
    make_parties,
    signed_contract,
)

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
HUGE = "1000000000000000"  # 1e15: beyond NUMERIC(14,2)
OVERFLOW = "1e309"  # beyond a float, written as people never write amounts
NUL = "延长工期\x00五个工作日"


@dataclass(frozen=True)
class Case:
    """One bad input, posted to the API route and to its page form."""

    name: str
    who: str  # owner | provider
    api: str  # the API path (the contract's or invoice's id filled in)
    page: str  # the form's action
    body: dict[str, str]
    field: str


def error_next_to(page_html: str, action: str, field: str) -> str:
    """The error message shown next to ``field`` in the form posting to ``action``."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', page_html, re.S)
    assert form, f"no form posting to {action}"
    label = re.search(rf'<label>(?:(?!</label>).)*name="{field}"(?:(?!</label>).)*</label>', form.group(1), re.S)
    assert label, f"no field {field} in the form posting to {action}"
    message = re.search(rf'<span class="field-error" id="err-{field}">(.*?)</span>', label.group(0), re.S)
    assert message, f"no error next to {field}: {label.group(0)}"
    return html.unescape(message.group(1)).strip()


async def _world(factory, settings):
    """A signed contract (agreements, invoices, deliveries), a delivered one (returns), and an
    accepted one with an open agreement (ratings, withdrawals) and an invoice (credit notes,
    payments)."""
    owner, provider = await make_parties(factory)
    signed = await signed_contract(factory, settings, owner, provider)
    delivered = await signed_contract(factory, settings, owner, provider)
    accepted = await signed_contract(factory, settings, owner, provider)
    o, p = actor_of(owner, "owner"), actor_of(provider, "provider")
    async with factory() as session:
        for contract in (delivered, accepted):
            await delivery.submit(
                session, p, settings, contract.id, note="", files=[delivery.Upload("report.pdf", PDF)]
            )
        await delivery.accept(session, o, accepted.id)
        agreement = await contracts.propose_agreement(session, p, accepted.id, text="补充附图两幅，价款不变。")
        invoice = await billing.issue_invoice(session, p, accepted.id, amount=Decimal("1000.00"))
        await session.commit()
    return signed, delivered, accepted, agreement, invoice


def _cases(signed, delivered, accepted, agreement, invoice) -> list[Case]:
    today = clock.today_local().isoformat()
    c_api, c_page = f"/api/v1/contracts/{signed.id}", f"/workspace/contracts/{signed.id}"
    a_api, a_page = f"/api/v1/contracts/{accepted.id}", f"/workspace/contracts/{accepted.id}"
    d_api, d_page = f"/api/v1/contracts/{delivered.id}", f"/workspace/contracts/{delivered.id}"
    i_api, i_page = f"/api/v1/invoices/{invoice.id}", f"/workspace/invoices/{invoice.id}"
    w_api, w_page = f"/api/v1/agreements/{agreement.id}", f"/workspace/agreements/{agreement.id}"
    change = "因雨季延长外业时间。"
    pay = {"amount": "100", "paid_on": today, "reference": "TX-1"}
    scores = {"quality": "5", "timeliness": "4", "attitude": "5", "price": "4"}
    return [
        Case("agreement 1e15", "provider", f"{c_api}/agreements", f"{c_page}/agreements",
             {"text": change, "new_amount": HUGE}, "new_amount"),
        Case("agreement 1e309", "provider", f"{c_api}/agreements", f"{c_page}/agreements",
             {"text": change, "new_amount": OVERFLOW}, "new_amount"),
        Case("agreement 5000 days", "provider", f"{c_api}/agreements", f"{c_page}/agreements",
             {"text": change, "extra_days": "5000"}, "extra_days"),
        Case("agreement NUL", "provider", f"{c_api}/agreements", f"{c_page}/agreements", {"text": NUL}, "text"),
        Case("agreement too short", "provider", f"{c_api}/agreements", f"{c_page}/agreements",
             {"text": "延期"}, "text"),
        Case("invoice 1e15", "provider", f"{c_api}/invoices", f"{c_page}/invoices", {"amount": HUGE}, "amount"),
        Case("invoice 1e309", "provider", f"{c_api}/invoices", f"{c_page}/invoices", {"amount": OVERFLOW}, "amount"),
        Case("invoice NUL", "provider", f"{c_api}/invoices", f"{c_page}/invoices",
             {"amount": "100", "tax_invoice_no": "1234\x005678"}, "tax_invoice_no"),
        Case("return too short", "owner", f"{d_api}/return", f"{d_page}/return", {"reason": "不行"}, "reason"),
        Case("return NUL", "owner", f"{d_api}/return", f"{d_page}/return", {"reason": NUL}, "reason"),
        Case("rating out of range", "owner", f"{a_api}/ratings", f"{a_page}/ratings",
             {**scores, "quality": "9"}, "quality"),
        Case("rating NUL", "owner", f"{a_api}/ratings", f"{a_page}/ratings", {**scores, "comment": NUL}, "comment"),
        Case("withdraw too short", "owner", f"{w_api}/withdraw", f"{w_page}/withdraw", {"reason": "不"}, "reason"),
        Case("withdraw NUL", "owner", f"{w_api}/withdraw", f"{w_page}/withdraw", {"reason": NUL}, "reason"),
        Case("credit note 1e15", "provider", f"{i_api}/credit-notes", f"{i_page}/credit-notes",
             {"reason": "金额有误", "amount": HUGE}, "amount"),
        Case("credit note 1e309", "provider", f"{i_api}/credit-notes", f"{i_page}/credit-notes",
             {"reason": "金额有误", "amount": OVERFLOW}, "amount"),
        Case("credit note too short", "provider", f"{i_api}/credit-notes", f"{i_page}/credit-notes",
             {"reason": "错"}, "reason"),
        Case("payment 1e15", "owner", f"{i_api}/payments", f"{i_page}/payments", {**pay, "amount": HUGE}, "amount"),
        Case("payment 1e309", "owner", f"{i_api}/payments", f"{i_page}/payments",
             {**pay, "amount": OVERFLOW}, "amount"),
        Case("payment malformed date", "owner", f"{i_api}/payments", f"{i_page}/payments",
             {**pay, "paid_on": "31/12"}, "paid_on"),
        Case("payment NUL", "owner", f"{i_api}/payments", f"{i_page}/payments",
             {**pay, "reference": "TX\x001"}, "reference"),
    ]  # fmt: skip


def _api_body(body: dict[str, str]) -> dict[str, object]:
    """The JSON an API client sends for the form's text values (numbers where the schema wants numbers)."""
    return {k: int(v) if v.isdigit() and k in ("extra_days", "quality", "timeliness", "attitude", "price") else v
            for k, v in body.items()}  # fmt: skip


async def _counts(factory) -> tuple[int, ...]:
    async with factory() as session:
        return tuple(
            [
                int(await session.scalar(select(func.count()).select_from(model)) or 0)
                for model in (ContractAgreement, Invoice, Payment, Rating, Delivery)
            ]
        )


async def test_every_page_form_refuses_what_its_api_refuses_with_the_same_field_error(app, client, factory, settings):
    world = await _world(factory, settings)
    headers = {"owner": await login(client, "owner1"), "provider": await login(client, "prov1")}
    pages: dict[str, httpx.AsyncClient] = {
        "owner": await browser(app, "owner1"),
        "provider": await browser(app, "prov1"),
    }
    before = await _counts(factory)
    try:
        for case in _cases(*world):
            api = await client.post(case.api, headers=headers[case.who], json=_api_body(case.body))
            problem = assert_problem(api, 422, case.field)
            api_message = next(e["message"] for e in problem["errors"] if e["field"] == case.field)

            browser_ = pages[case.who]
            page = await browser_.post(case.page, data={"csrf_token": csrf(browser_), **case.body})
            assert page.status_code == 422, (case.name, page.status_code, page.text[:300])
            assert page.headers["content-type"].startswith("text/html"), case.name
            assert error_next_to(page.text, case.page, case.field) == api_message, case.name
        assert await _counts(factory) == before  # nothing of any refused attempt was written
    finally:
        for b in pages.values():
            await b.aclose()


async def test_a_delivery_note_with_a_nul_byte_is_refused_by_the_api_and_the_page(app, client, factory, settings):
    signed, *_others = await _world(factory, settings)
    before = await _counts(factory)
    provider_h = await login(client, "prov1")
    files = {"files": ("report.pdf", PDF, "application/pdf")}
    api = await client.post(
        f"/api/v1/contracts/{signed.id}/deliveries", headers=provider_h, data={"note": NUL}, files=files
    )
    problem = assert_problem(api, 422, "note")
    p = await browser(app, "prov1")
    try:
        action = f"/workspace/contracts/{signed.id}/deliveries"
        page = await p.post(action, data={"csrf_token": csrf(p), "note": NUL}, files=files)
        assert page.status_code == 422
        assert error_next_to(page.text, action, "note") == problem["errors"][0]["message"]
    finally:
        await p.aclose()
    assert await _counts(factory) == before


@pytest.mark.parametrize("amount", [1e15, 1e300])
async def test_amounts_sent_as_json_numbers_beyond_numeric_14_2_are_field_errors(client, factory, settings, amount):
    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider)
    provider_h = await login(client, "prov1")
    r = await client.post(
        f"/api/v1/contracts/{contract.id}/agreements",
        headers=provider_h,
        json={"text": "调整合同价款。", "new_amount": amount},
    )
    assert_problem(r, 422, "new_amount")
