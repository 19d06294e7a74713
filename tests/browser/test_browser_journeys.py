"""A firm's journey through the forms, in a real browser (issue 9.15): it registers with its
business licence, the operator approves it, it asks for a qualification for a catalog item, the
operator approves that, and it bids on an open purchase, replaces its bid, withdraws it and bids
again. Every step is a click or a typed field, as people do it."""

from __future__ import annotations

import base64
import re
from typing import Any

from stdnum.cn import uscc

from tests.browser.conftest import sign_in

# a 1×1 PNG: the "scan" of the licence and of the certificate
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
FIRM = "云南浏览器测试工程咨询有限公司"
PASSWORD = "Firm2026pass"
PURCHASE = "CG-2026-000013"  # open in the demo, for catalog item YLZJ-017
ITEM = "YLZJ-017"


def _uscc() -> str:
    body = "91530100MA6QB7K2X"
    return body + uscc.calc_check_digit(body)


def _submit(page: Any, form: str) -> None:
    page.locator(form).locator("button[type=submit], button:not([type])").last.click()
    page.wait_for_load_state()


def _notice(page: Any) -> str:
    return page.locator("main").inner_text()


def test_a_firm_registers_qualifies_and_bids(context: Any) -> None:
    firm = context.new_page()
    # 1. registration, with the business licence uploaded
    firm.goto("/register/provider")
    form = "form[action='/register/provider']"
    firm.fill(f"{form} input[name=name]", FIRM)
    firm.fill(f"{form} input[name=uscc]", _uscc())
    firm.fill(f"{form} input[name=legal_rep]", "李明")
    firm.fill(f"{form} input[name=address]", "云岭县城关镇滇池路 8 号")
    firm.fill(f"{form} input[name=phone]", "13800138000")
    firm.fill(f"{form} input[name=email]", "liming@example.cn")
    firm.set_input_files(
        f"{form} input[name=business_licence]", files=[{"name": "licence.png", "mimeType": "image/png", "buffer": PNG}]
    )
    firm.fill(f"{form} input[name=username]", "browserfirm")
    firm.fill(f"{form} input[name=display_name]", "李明")
    firm.fill(f"{form} input[name=password]", PASSWORD)
    firm.fill(f"{form} input[name=password2]", PASSWORD)
    firm.check(f"{form} input[name=commitment_accepted]")
    _submit(firm, form)
    assert "/register/provider" not in firm.url or firm.locator(".error").count() == 0, _notice(firm)

    # 2. the operator finds it among the registrations to review and approves it
    admin = context.browser.new_context(base_url=_base(firm), locale="zh-CN").new_page()
    sign_in(admin, "admin")
    admin.goto("/admin/reviews")
    admin.get_by_role("link", name=FIRM).first.click()
    admin.wait_for_load_state()
    org_url = admin.url
    assert re.search(r"/admin/organizations/[0-9a-f-]{36}$", org_url)
    _submit(admin, "form[action$='/approve']")
    assert "已通过" in _notice(admin) or "Approved" in _notice(admin)

    # 3. the firm signs in and asks for a qualification covering the purchase's catalog item
    firm.context.clear_cookies()
    sign_in(firm, "browserfirm", PASSWORD)
    firm.goto("/workspace/qualifications")
    form = "form[action='/workspace/qualifications']"
    firm.fill(f"{form} input[name=name]", "工程咨询资信")
    firm.fill(f"{form} input[name=grade]", "乙级")
    firm.fill(f"{form} input[name=certificate_no]", "BROWSER-2026-001")
    firm.fill(f"{form} input[name=issuer]", "云南省发展和改革委员会")
    firm.fill(f"{form} input[name=valid_until]", "2029-12-31")
    firm.set_input_files(
        f"{form} input[name=document]", files=[{"name": "cert.png", "mimeType": "image/png", "buffer": PNG}]
    )
    firm.check(f"{form} input[name=catalog_codes][value='{ITEM}']")
    _submit(firm, form)
    assert "BROWSER-2026-001" in _notice(firm), _notice(firm)

    # 4. the operator approves the qualification on the firm's page
    admin.goto(org_url)
    admin.locator("form[action^='/admin/qualifications/'][action$='/approve'] button").first.click()
    admin.wait_for_load_state()

    # 5. the purchase is now open to the firm: it bids, replaces, withdraws and bids again
    firm.goto("/workspace/bidding/open")
    firm.get_by_role("link", name=PURCHASE).first.wait_for()
    purchase_url = firm.get_by_role("link", name=PURCHASE).first.get_attribute("href")
    purchase_id = purchase_url.rsplit("/", 1)[-1]
    firm.goto(f"/workspace/purchases/{purchase_id}/bid")
    bid_form = f"form[action='/workspace/purchases/{purchase_id}/bid']"
    firm.fill(f"{bid_form} input[name=price]", "20000.00")
    _submit(firm, bid_form)
    assert "/workspace/bids" in firm.url and "20,000.00" in _notice(firm), _notice(firm)
    receipt = _current_bid(firm, bid_form, purchase_id)
    assert "20,000.00" in receipt

    firm.fill(f"{bid_form} input[name=price]", "19000.00")
    _submit(firm, bid_form)
    replaced = _current_bid(firm, bid_form, purchase_id)
    assert "19,000.00" in replaced and replaced != receipt

    firm.locator("details.confirm summary").first.click()
    firm.locator("details.confirm form button").first.click()
    firm.wait_for_load_state()
    assert "/workspace/bids" in firm.url
    assert _current_bid(firm, bid_form, purchase_id) == ""  # no current bid any more

    firm.fill(f"{bid_form} input[name=price]", "18500.00")
    _submit(firm, bid_form)
    assert "18,500.00" in _current_bid(firm, bid_form, purchase_id)
    firm.goto("/workspace/bids")
    assert PURCHASE in _notice(firm)
    admin.context.close()


def _current_bid(page: Any, form: str, purchase_id: str) -> str:
    """The bid page's line about the firm's current bid ("" when it has none)."""
    page.goto(f"/workspace/purchases/{purchase_id}/bid")
    page.locator(form).wait_for()
    current = page.locator("main p.ok")
    return current.first.inner_text() if current.count() else ""


def _base(page: Any) -> str:
    m = re.match(r"(https?://[^/]+)", page.url)
    assert m
    return m.group(1)
