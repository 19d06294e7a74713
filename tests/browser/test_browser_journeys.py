"""A firm's journey through the forms, in a real browser (issue 9.15): it registers with its
business licence, the operator approves it, it asks for a qualification for a catalog item, the
operator approves that, and it bids on an open purchase, replaces its bid, withdraws it and bids
again. Every step is a click or a typed field, as people do it."""

from __future__ import annotations

import base64
import re
from typing import Any

from stdnum.cn import uscc

from tests.browser.conftest import BROWSER_TESTS, Server, new_context, sign_in

pytestmark = BROWSER_TESTS

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


async def _submit(page: Any, form: str) -> None:
    await page.locator(form).locator("button[type=submit], button:not([type])").last.click()
    await page.wait_for_load_state()


async def _notice(page: Any) -> str:
    return await page.locator("main").inner_text()


async def test_a_firm_registers_qualifies_and_bids(chromium: Any, server: Server, context: Any) -> None:
    firm = await context.new_page()
    # 1. registration, with the business licence uploaded
    await firm.goto("/register/provider")
    form = "form[action='/register/provider']"
    await firm.fill(f"{form} input[name=name]", FIRM)
    await firm.fill(f"{form} input[name=uscc]", _uscc())
    await firm.fill(f"{form} input[name=legal_rep]", "李明")
    await firm.fill(f"{form} input[name=address]", "云岭县城关镇滇池路 8 号")
    await firm.fill(f"{form} input[name=phone]", "13800138000")
    await firm.fill(f"{form} input[name=email]", "liming@example.cn")
    await firm.set_input_files(
        f"{form} input[name=business_licence]", files=[{"name": "licence.png", "mimeType": "image/png", "buffer": PNG}]
    )
    await firm.fill(f"{form} input[name=username]", "browserfirm")
    await firm.fill(f"{form} input[name=display_name]", "李明")
    await firm.fill(f"{form} input[name=password]", PASSWORD)
    await firm.fill(f"{form} input[name=password2]", PASSWORD)
    await firm.check(f"{form} input[name=commitment_accepted]")
    await _submit(firm, form)
    assert "/register/provider" not in firm.url or await firm.locator(".error").count() == 0, await _notice(firm)

    # 2. the operator finds it among the registrations to review and approves it
    admin_context = await new_context(chromium, server)
    admin = await admin_context.new_page()
    await sign_in(admin, "admin")
    await admin.goto("/admin/reviews")
    await admin.get_by_role("link", name=FIRM).first.click()
    await admin.wait_for_load_state()
    org_url = admin.url
    assert re.search(r"/admin/organizations/[0-9a-f-]{36}$", org_url)
    await _submit(admin, "form[action$='/approve']")
    assert "已通过" in await _notice(admin) or "Approved" in await _notice(admin)

    # 3. the firm signs in and asks for a qualification covering the purchase's catalog item
    await firm.context.clear_cookies()
    await sign_in(firm, "browserfirm", PASSWORD)
    await firm.goto("/workspace/qualifications")
    form = "form[action='/workspace/qualifications']"
    await firm.fill(f"{form} input[name=name]", "工程咨询资信")
    await firm.fill(f"{form} input[name=grade]", "乙级")
    await firm.fill(f"{form} input[name=certificate_no]", "BROWSER-2026-001")
    await firm.fill(f"{form} input[name=issuer]", "云南省发展和改革委员会")
    await firm.fill(f"{form} input[name=valid_until]", "2029-12-31")
    await firm.set_input_files(
        f"{form} input[name=document]", files=[{"name": "cert.png", "mimeType": "image/png", "buffer": PNG}]
    )
    await firm.check(f"{form} input[name=catalog_codes][value='{ITEM}']")
    await _submit(firm, form)
    assert "BROWSER-2026-001" in await _notice(firm), await _notice(firm)

    # 4. the operator approves the qualification on the firm's page
    await admin.goto(org_url)
    await admin.locator("form[action^='/admin/qualifications/'][action$='/approve'] button").first.click()
    await admin.wait_for_load_state()

    # 5. the purchase is now open to the firm: it bids, replaces, withdraws and bids again
    await firm.goto("/workspace/bidding/open")
    await firm.get_by_role("link", name=PURCHASE).first.wait_for()
    purchase_url = await firm.get_by_role("link", name=PURCHASE).first.get_attribute("href")
    purchase_id = purchase_url.rsplit("/", 1)[-1]
    await firm.goto(f"/workspace/purchases/{purchase_id}/bid")
    bid_form = f"form[action='/workspace/purchases/{purchase_id}/bid']"
    await firm.fill(f"{bid_form} input[name=price]", "20000.00")
    await _submit(firm, bid_form)
    assert "/workspace/bids" in firm.url and "20,000.00" in await _notice(firm), await _notice(firm)
    receipt = await _current_bid(firm, bid_form, purchase_id)
    assert "20,000.00" in receipt

    await firm.fill(f"{bid_form} input[name=price]", "19000.00")
    await _submit(firm, bid_form)
    replaced = await _current_bid(firm, bid_form, purchase_id)
    assert "19,000.00" in replaced and replaced != receipt

    await firm.locator("details.confirm summary").first.click()
    await firm.locator("details.confirm form button").first.click()
    await firm.wait_for_load_state()
    assert "/workspace/bids" in firm.url
    assert await _current_bid(firm, bid_form, purchase_id) == ""  # no current bid any more

    await firm.fill(f"{bid_form} input[name=price]", "18500.00")
    await _submit(firm, bid_form)
    assert "18,500.00" in await _current_bid(firm, bid_form, purchase_id)
    await firm.goto("/workspace/bids")
    assert PURCHASE in await _notice(firm)
    await admin_context.close()


async def _current_bid(page: Any, form: str, purchase_id: str) -> str:
    """The bid page's line about the firm's current bid ("" when it has none)."""
    await page.goto(f"/workspace/purchases/{purchase_id}/bid")
    await page.locator(form).wait_for()
    current = page.locator("main p.ok")
    return await current.first.inner_text() if await current.count() else ""
