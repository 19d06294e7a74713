"""An owner's, an operator's and the parties' journeys through the forms, in a real browser
(issue 9.15): a scored purchase is published, three firms bid, the owner marks the technical parts
blind, locks the marks and publishes the result; a losing bidder objects, the operator upholds the
objection and the rerun is published as round 2; then both parties sign the contract, the firm
delivers, the owner accepts, the firm invoices and credits, the owner pays.

One test runs the three journeys in order on one served app, following one purchase (each needs
the state the one before left). Time passes for real: a working day is a second (``MARKET_ACCELERATOR=86400``)
and the publicity of a result lasts 15 of them, long enough for a bidder to object. The
deadline is 30 s after the draft: enough for three firms to bid on a busy machine.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import BROWSER_TESTS, PHONE, Server, new_context, shot, sign_in

pytestmark = BROWSER_TESTS

CHINA = ZoneInfo("Asia/Shanghai")
ITEM = "YLZJ-001"  # provider01, 02 and 03 are qualified for it in the demo
TITLE = "浏览器测试：云岭县城南片区道路改造工程环境影响报告书编制"
SCOPE = "编制城南片区道路改造工程环境影响报告书，并配合审批部门完成技术评估。"
DECISION = "经核查，中选单位的业绩证明与技术方案不符，异议成立，排除其投标。"
# the firms, their prices and the owner's quality marks: provider01 is cheapest and marked best
BIDS = {"provider01": ("36000.00", 90), "provider02": ("38000.00", 80), "provider03": ("40000.00", 70)}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _names() -> dict[str, str]:
    """The demo firms' names by username (listings/data/organizations.json)."""
    data = json.loads((Path(__file__).parents[2] / "listings/data/organizations.json").read_text(encoding="utf-8"))
    return {p["username"]: p["name"] for p in data["providers"]}


NAMES = _names()
# two animation frames: the page has been laid out and painted since the last change
SETTLED = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
STATE: dict[str, Any] = {}  # what one step leaves to the next: the purchase, its winners


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return {"MARKET_PUBLICITY_DAYS": "15"}


async def _main(page: Any) -> str:
    return str(await page.locator("main").inner_text())


async def _submit(page: Any, form: str) -> None:
    await page.locator(form).locator("button[type=submit], button:not([type])").last.click()
    await page.wait_for_load_state()


async def _confirm(page: Any, action: str) -> str:
    """Open a confirmation step (``details.confirm``), read what it says, and confirm."""
    form = await _open(page, action)
    said = str(await form.inner_text())
    await form.locator("button").last.click()
    await page.wait_for_load_state()
    return said


async def _open(page: Any, action: str) -> Any:
    """Open the confirmation step of the form posting to ``action``; the form, to fill."""
    form = page.locator(f"form[action='{action}']")
    await page.locator("details.confirm", has=form).locator("summary").click()
    return form


async def _both_widths(page: Any, name: str) -> None:
    """Screenshots at desktop width and at 390 px, then back."""
    await shot(page, f"{name}-desktop")
    await page.set_viewport_size(PHONE)
    await page.evaluate(SETTLED)  # laid out again at the new width before the capture
    await shot(page, f"{name}-phone")
    await page.set_viewport_size({"width": 1280, "height": 900})


async def _until(moment: datetime) -> None:
    """Wait for the real clock (the app's clock) to pass ``moment``."""
    left = (moment - datetime.now(CHINA)).total_seconds()
    if left > 0:
        await asyncio.sleep(left + 0.5)


async def _worker_once(server: Server) -> None:
    """``market worker --once`` against the served database: what is due now is applied."""
    market = Path(sys.executable).with_name("market")
    env = {**os.environ, "MARKET_DATABASE_URL": server.database_url, "MARKET_VAR_DIR": str(server.var_dir)}
    env |= {"MARKET_UPLOAD_DIR": str(server.var_dir / "uploads"), "MARKET_ACCELERATOR": "86400"}
    env |= {"MARKET_PUBLICITY_DAYS": "15"}
    proc = await asyncio.create_subprocess_exec(
        str(market), "worker", "--once", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    assert await proc.wait() == 0


async def _page_of(chromium: Any, server: Server, username: str) -> Any:
    ctx = await new_context(chromium, server)
    page = await ctx.new_page()
    await sign_in(page, username)
    return page


async def _an_owner_publishes_a_scored_purchase_marks_blind_and_publishes_the_result(
    chromium: Any, server: Server, context: Any
) -> None:
    owner = await context.new_page()
    await sign_in(owner, "owner01")
    firms = dict(zip(BIDS, await asyncio.gather(*(_page_of(chromium, server, u) for u in BIDS)), strict=True))

    # 1. the purchase form: scored, weights 60/30/10, two valid bids at least, a deadline 30 s ahead
    await owner.goto("/workspace/purchases/new")
    form = "form[action='/workspace/purchases/new']"
    await owner.fill(f"{form} input[name=title]", TITLE)
    await owner.select_option(f"{form} select[name=catalog_code]", ITEM)
    await owner.fill(f"{form} textarea[name=description]", SCOPE)
    await owner.fill(f"{form} input[name=budget_cap]", "50000.00")
    await owner.fill(f"{form} input[name=service_days]", "20")
    await owner.check(f"{form} input[name=method][value=scored]")
    await owner.fill(f"{form} input[name='weights.price']", "60")
    await owner.fill(f"{form} input[name='weights.quality']", "30")
    await owner.fill(f"{form} input[name='weights.credit']", "10")
    await owner.fill(f"{form} input[name=min_bids]", "2")
    deadline = (datetime.now(CHINA) + timedelta(seconds=30)).replace(microsecond=0)
    await owner.fill(f"{form} input[name=bid_deadline]", deadline.strftime("%Y-%m-%dT%H:%M:%S"))
    await _submit(owner, form)
    drafted = re.search(r"/workspace/purchases/([0-9a-f-]{36})\?", owner.url)
    assert drafted, await _main(owner)
    purchase_id = drafted.group(1)
    await _confirm(owner, f"/workspace/purchases/{purchase_id}/publish")
    ref = re.search(r"CG-\d{4}-\d{6}", await _main(owner))
    assert ref, await _main(owner)
    STATE.update(purchase_id=purchase_id, ref=ref.group(0))

    # 2. three firms bid, each with a technical note
    async def bid(username: str, page: Any) -> None:
        price, _mark = BIDS[username]
        await page.goto(f"/workspace/purchases/{purchase_id}/bid")
        bid_form = f"form[action='/workspace/purchases/{purchase_id}/bid']"
        await page.fill(f"{bid_form} input[name=price]", price)
        note = f"{NAMES[username]}的技术方案：现场踏勘、监测与报告编制分三阶段完成。"
        await page.fill(f"{bid_form} textarea[name=note]", note)
        await _submit(page, bid_form)
        assert "/workspace/bids" in page.url, await _main(page)

    await asyncio.gather(*(bid(u, p) for u, p in firms.items()))

    # 3. the deadline passes; the owner's page opens the technical envelopes, never the prices
    await _until(deadline)
    await _worker_once(server)  # reads apply no transitions: the worker opens the bids
    await owner.goto(f"/workspace/purchases/{purchase_id}/evaluate")
    text = await _main(owner)
    for username, (price, _mark) in BIDS.items():
        assert NAMES[username] in text, text
        assert f"{int(float(price)):,}" not in text and price not in text, text  # no price, in any form
    assert "¥" not in text and "价格：" not in text
    for username, (_price, mark) in BIDS.items():
        panel = owner.locator("article.panel", has=owner.get_by_role("heading", name=NAMES[username]))
        await panel.locator("input[name=mark]").fill(str(mark))
        await panel.locator("textarea[name=reason]").fill(f"技术方案完整度评为 {mark} 分：踏勘和监测安排具体。")
        await panel.locator("button").click()
        await owner.wait_for_load_state()
        assert "/evaluate" in owner.url, await _main(owner)
    text = await _main(owner)
    assert all(price not in text and f"{int(float(price)):,}" not in text for price, _m in BIDS.values()), text
    await _both_widths(owner, "scored-evaluation")

    # 4. locking the marks, through its confirmation step, opens the prices
    said = await _confirm(owner, f"/workspace/purchases/{purchase_id}/marks/lock")
    assert "不能再修改" in said, said
    text = await _main(owner)
    assert all(f"{int(float(price)):,}" in text for price, _m in BIDS.values()), text

    # 5. the rules choose and the result is published, with the marks and their reasons
    await _submit(owner, f"form[action='/workspace/purchases/{purchase_id}/select']")
    await owner.goto(f"/purchases/{purchase_id}")
    result = owner.locator("#result")
    text = str(await result.inner_text())
    for _price, mark in BIDS.values():
        assert f"技术方案完整度评为 {mark} 分" in text, text
    winner = await result.locator("dl.facts dd strong").first.inner_text()
    assert winner == NAMES["provider01"], text
    STATE["winner"] = "provider01"
    for username, page in firms.items():
        if username == "provider03":
            STATE["loser"] = page  # signed in already: the objection is filed early in the publicity
        else:
            await page.context.close()


async def _an_upheld_objection_reruns_the_selection_as_round_2(chromium: Any, server: Server, context: Any) -> None:
    purchase_id = STATE["purchase_id"]
    # 1. a losing bidder objects during the publicity
    loser = STATE.pop("loser")
    await loser.goto(f"/purchases/{purchase_id}")
    form = f"form[action='/purchases/{purchase_id}/objections']"
    assert await loser.locator(form).count(), await _main(loser)
    await loser.fill(f"{form} textarea[name=reason]", "中选单位的技术方案与其业绩不符，请求复核其质量评分。")
    await _submit(loser, form)
    assert "#result" in loser.url or "/purchases/" in loser.url
    await loser.context.close()

    # 2. the operator's decision form says what upholding will do; the operator upholds
    admin = await context.new_page()
    await sign_in(admin, "admin")
    await admin.goto("/admin/objections")
    article = admin.locator("article.objection", has=admin.get_by_role("link", name=STATE["ref"]))
    effect = str(await article.locator(".if-upheld").inner_text())
    assert "排除" in effect and "2" in effect, effect  # the selected bid is excluded, 2 bids remain
    await article.locator("input[name=upheld][value=true]").check()
    await article.locator("textarea[name=decision]").fill(DECISION)
    await _both_widths(admin, "objection-decision")
    await article.locator("button[type=submit]").click()
    await admin.wait_for_load_state()

    # 3. the announcement shows round 2, with round 1, the objection and its decision
    await admin.goto(f"/purchases/{purchase_id}")
    result = admin.locator("#result")
    text = str(await result.inner_text())
    assert "2" in str(await result.locator("dl.facts").first.inner_text())
    assert await result.locator("#round-1").count() == 1 and await result.locator("#round-2").count() == 1, text
    round1 = str(await result.locator("#round-1").inner_text())
    assert "异议成立后排除" in round1 or "排除" in round1, round1
    assert DECISION in round1, round1
    winner = await result.locator("dl.facts dd strong").first.inner_text()
    assert winner == NAMES["provider02"], text
    # the excluded bid is never shown as selected
    excluded = result.locator("tbody tr", has=admin.locator(".badge.status-failed"))
    assert await excluded.count() == 1
    assert await excluded.locator(".badge.status-awarded").count() == 0
    assert "winner" not in (await excluded.get_attribute("class") or "")
    assert NAMES["provider01"] not in str(await result.locator("dl.facts").first.inner_text())
    STATE["awarded"] = "provider02"


async def _both_sign_deliver_accept_invoice_credit_and_pay(chromium: Any, server: Server, context: Any) -> None:
    ref = STATE["ref"]
    owner = await context.new_page()
    await sign_in(owner, "owner01")
    firm = await _page_of(chromium, server, STATE["awarded"])

    # 1. the publicity of round 2 ends without an objection: the worker (as it runs beside the app)
    # awards the purchase and the contract is drafted; the owner's list of contracts shows it
    contract_url = None
    for _ in range(40):
        await _worker_once(server)
        await owner.goto("/workspace/contracts")
        link = owner.locator("main tr", has_text=ref).locator("a[href^='/workspace/contracts/']")
        if await link.count():
            contract_url = await link.first.get_attribute("href")
            break
        await asyncio.sleep(0.5)
    assert contract_url, await _main(owner)
    contract_id = contract_url.rsplit("/", 1)[-1]

    # 2. both parties sign, each through the confirmation step
    for page in (owner, firm):
        await page.goto(contract_url)
        await _confirm(page, f"/workspace/contracts/{contract_id}/sign")
    assert "双方" in await _main(firm) or "both parties" in await _main(firm)

    # 3. the firm submits its deliverables (a file upload)
    await firm.goto(contract_url)
    form = f"form[action='/workspace/contracts/{contract_id}/deliveries']"
    await firm.set_input_files(
        f"{form} input[name=files]",
        files=[{"name": "环评报告书.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    await firm.fill(f"{form} textarea[name=note]", "报告书终稿及附图。")
    await _submit(firm, form)

    # 4. the owner accepts: the confirmation says the payment clock starts
    await owner.goto(contract_url)
    said = await _confirm(owner, f"/workspace/contracts/{contract_id}/accept")
    assert "付款期限开始计算" in said, said  # the payment clock starts

    # 5. the firm issues an invoice for the whole price, then a credit note of 1,000.00
    await firm.goto(contract_url)
    form = await _open(firm, f"/workspace/contracts/{contract_id}/invoices")
    price = await form.locator("input[name=amount]").input_value()
    await form.locator("button").last.click()
    await firm.wait_for_load_state()
    issued = re.search(r"/workspace/invoices/([0-9a-f-]{36})", firm.url)
    assert issued, await _main(firm)
    invoice_id = issued.group(1)
    form = await _open(firm, f"/workspace/invoices/{invoice_id}/credit-notes")
    await form.locator("textarea[name=reason]").fill("按合同约定扣减现场踏勘费用。")
    await form.locator("input[name=amount]").fill("1000.00")
    await form.locator("button").last.click()
    await firm.wait_for_load_state()

    # 6. the owner records the payment of what is left (the form offers it)
    await owner.goto(f"/workspace/invoices/{invoice_id}")
    form = await _open(owner, f"/workspace/invoices/{invoice_id}/payments")
    paid = await form.locator("input[name=amount]").input_value()
    assert Decimal(paid) == Decimal(price) - 1000, (paid, price)
    await form.locator("input[name=reference]").fill("BANK-2026-0001")
    await form.locator("button").last.click()
    await owner.wait_for_load_state()

    # 7. the contract shows nothing outstanding
    await owner.goto(contract_url)
    assert "0.00" in str(await owner.locator("#outstanding").inner_text())
    text = await _main(owner)
    assert f"{Decimal(price):,.2f}" in text and f"{Decimal(paid):,.2f}" in text, text  # price; invoiced net and paid
    await _both_widths(owner, "contract-paid")
    await firm.context.close()


async def test_a_scored_purchase_from_publication_to_payment(chromium: Any, server: Server) -> None:
    """The three journeys in order, in one test: each needs the state the one before left, and no
    way of distributing tests over workers may separate them. Each starts in a fresh browser
    context, as a new visit would."""
    for journey in (
        _an_owner_publishes_a_scored_purchase_marks_blind_and_publishes_the_result,
        _an_upheld_objection_reruns_the_selection_as_round_2,
        _both_sign_deliver_accept_invoice_credit_and_pay,
    ):
        context = await new_context(chromium, server)
        try:
            await journey(chromium, server, context)
        finally:
            await context.close()
