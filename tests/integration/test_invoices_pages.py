"""The pages: a contract's whole life through the forms (no JavaScript), in Chinese and English,
with CSRF, errors shown on the page, the oversight list, and public document verification."""

from __future__ import annotations

import re

from tests.integration.helpers import browser, csrf, draft_contract, make_parties, make_user

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"


def _flash(html: str) -> str:
    match = re.search(r'<p class="notice" role="status">(.*?)</p>', html, re.S)
    return match.group(1).strip() if match else ""


async def test_contract_life_through_the_pages(app, factory, settings):
    owner, provider = await make_parties(factory)
    contract = await draft_contract(factory, settings, owner, provider)
    await make_user(factory, "finance", "云岭县财政局", "fin")
    page = f"/workspace/contracts/{contract.id}"
    o = await browser(app, "owner1")
    p = await browser(app, "prov1")
    f = await browser(app, "fin")
    try:
        # lists and the workspace tiles
        ws = await o.get("/workspace")
        assert "我的合同" in ws.text and "收到的发票" in ws.text
        listing = await o.get("/workspace/contracts")
        assert listing.status_code == 200 and contract.number in listing.text and "待签订" in listing.text
        view = await o.get(page)
        assert view.status_code == 200 and "签订合同" in view.text and "壹万贰仟捌佰元整" in view.text

        # signing needs the CSRF token; then both sign
        assert (await o.post(f"{page}/sign", data={})).status_code == 403
        r = await o.post(f"{page}/sign", data={"csrf_token": csrf(o)})
        assert r.status_code == 303 and r.headers["location"] == f"{page}?done=contract-signed#signatures"
        assert _flash((await o.get(r.headers["location"])).text) == "您的签署已记录。"
        again = await o.post(f"{page}/sign", data={"csrf_token": csrf(o)})
        assert again.status_code == 409 and "您已签署本合同" in again.text
        r = await p.post(f"{page}/sign", data={"csrf_token": csrf(p)})
        assert r.status_code == 303
        view = await p.get(page)
        assert "提交服务成果" in view.text and "开具发票" in view.text and "双方已于" in view.text

        # delivery: a forged file is refused on the page, a PDF is accepted
        bad = await p.post(
            f"{page}/deliveries",
            data={"csrf_token": csrf(p), "note": "报告"},
            files={"files": ("report.pdf", b"not a pdf", "application/pdf")},
        )
        assert bad.status_code == 415 and "不是 PDF、PNG 或 JPEG 文件" in bad.text
        ok = await p.post(
            f"{page}/deliveries",
            data={"csrf_token": csrf(p), "note": "评估报告"},
            files={"files": ("评估报告.pdf", PDF, "application/pdf")},
        )
        assert ok.status_code == 303, ok.text
        # the owner returns it (a short reason is refused on the page), then accepts the second one
        view = await o.get(page)
        assert "验收合格" in view.text and "评估报告.pdf" in view.text
        short = await o.post(f"{page}/return", data={"csrf_token": csrf(o), "reason": "不行"})
        assert short.status_code == 422 and "请说明需要修改的内容" in short.text
        r = await o.post(f"{page}/return", data={"csrf_token": csrf(o), "reason": "附图缺少比例尺，请补充。"})
        assert r.status_code == 303
        await p.post(
            f"{page}/deliveries",
            data={"csrf_token": csrf(p)},
            files={"files": ("附图.pdf", PDF + b"2", "application/pdf")},
        )
        assert (await o.post(f"{page}/accept", data={"csrf_token": csrf(o)})).status_code == 303
        view = await o.get(page)
        assert "已验收" in view.text and "附图缺少比例尺" in view.text and "评价中介服务机构" in view.text

        # ratings both ways
        r = await o.post(
            f"{page}/ratings",
            data={"csrf_token": csrf(o), "quality": "5", "timeliness": "4", "attitude": "5", "price": "4"},
        )
        assert r.status_code == 303
        missing = await p.post(f"{page}/ratings", data={"csrf_token": csrf(p), "clarity": "4"})
        assert missing.status_code == 422 and "请给出 1 至 5 分" in missing.text
        assert (
            await p.post(f"{page}/ratings", data={"csrf_token": csrf(p), "clarity": "4", "payment": "5"})
        ).status_code == 303

        # invoices: over the amount is refused on the page; a valid one leads to the invoice page
        over = await p.post(f"{page}/invoices", data={"csrf_token": csrf(p), "amount": "12800.01"})
        assert over.status_code == 422 and "开票金额将超过合同金额" in over.text
        r = await p.post(f"{page}/invoices", data={"csrf_token": csrf(p), "amount": "12,800.00", "tax_invoice_no": ""})
        assert r.status_code == 303 and r.headers["location"].startswith("/workspace/invoices/")
        invoice_page = r.headers["location"].split("?")[0]
        view = await p.get(r.headers["location"])
        assert "FP-" in view.text and "发票已开具" in view.text and "开具红字发票" in view.text

        # payments: overpayment refused, part paid; the rest credited
        today = re.search(r'name="paid_on"[^>]*value="([0-9-]+)"', (await o.get(invoice_page)).text).group(1)
        over = await o.post(
            f"{invoice_page}/payments",
            data={"csrf_token": csrf(o), "amount": "20000", "paid_on": today, "reference": "TX-1"},
        )
        assert over.status_code == 422 and "付款超过应付金额" in over.text
        bad_date = await o.post(
            f"{invoice_page}/payments",
            data={"csrf_token": csrf(o), "amount": "100", "paid_on": "31/12", "reference": "X"},
        )
        assert bad_date.status_code == 422 and "请输入日期，例如 2026-12-31。" in bad_date.text
        r = await o.post(
            f"{invoice_page}/payments",
            data={"csrf_token": csrf(o), "amount": "10000", "paid_on": today, "reference": "TX-1"},
        )
        assert r.status_code == 303
        r = await p.post(
            f"{invoice_page}/credit-notes", data={"csrf_token": csrf(p), "reason": "服务范围缩小", "amount": ""}
        )
        assert r.status_code == 303
        note = await p.get(r.headers["location"])
        assert "红字发票" in note.text and "2,800.00" in note.text
        view = await o.get(invoice_page)
        assert "已付清" in view.text and "登记付款" not in view.text  # paid 10000 + credited 2800: nothing left

        # the provider's list, the finance bureau's oversight page, and English
        assert "HZ-" in (await p.get("/workspace/invoices")).text
        assert (await f.get("/finance/contracts")).status_code == 200
        assert (await p.get("/finance/contracts")).status_code == 403
        en = await o.get(f"{page}?lang=en")
        assert "Delivery and acceptance" in en.text and "交付" not in en.text.split("<main")[1].split("</main>")[
            0
        ].replace("评估报告", "").replace("附图", "")
    finally:
        for client in (o, p, f):
            await client.aclose()


async def test_agreement_through_the_pages_and_the_outsider(app, factory, settings):
    from tests.integration.helpers import signed_contract

    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider)
    await make_user(factory, "provider", "别家公司", "nosy")
    page = f"/workspace/contracts/{contract.id}"
    o = await browser(app, "owner1")
    p = await browser(app, "prov1")
    n = await browser(app, "nosy")
    try:
        assert (await n.get(page)).status_code == 404
        bad = await p.post(f"{page}/agreements", data={"csrf_token": csrf(p), "text": "延期", "extra_days": "abc"})
        assert bad.status_code == 422 and "请输入数字。" in bad.text
        r = await p.post(
            f"{page}/agreements",
            data={"csrf_token": csrf(p), "text": "因雨季延长外业时间。", "extra_days": "3", "new_amount": ""},
        )
        assert r.status_code == 303
        view = await o.get(page)
        agreement_id = re.search(r"/workspace/agreements/([0-9a-f-]{36})/sign", view.text).group(1)
        for client in (o, p):
            assert (
                await client.post(f"/workspace/agreements/{agreement_id}/sign", data={"csrf_token": csrf(client)})
            ).status_code == 303
        view = await o.get(page)
        assert "已生效" in view.text and "服务期限延长 3 个工作日" in view.text and "原为" in view.text
    finally:
        for client in (o, p, n):
            await client.aclose()


async def test_public_verification_pages(client):
    page = await client.get("/verify/document")
    assert page.status_code == 200 and "核验文件" in page.text
    assert 'name="csrf_token"' in page.text
    bad = await client.get("/verify/document?sha256=xyz")
    assert bad.status_code == 422
    assert '<span class="field-error" id="err-sha256">SHA-256 值由 64 位十六进制字符组成。</span>' in bad.text
    no_file = await client.post("/verify/document", data={"csrf_token": client.cookies.get("market_csrf")})
    assert no_file.status_code == 422
    assert '<span class="field-error" id="err-file">请选择要核验的文件。</span>' in no_file.text
    en = await client.get("/verify/document?lang=en")
    assert "Verify a document" in en.text
    good = await client.get("/verify/document?sha256=" + "A" * 64)
    assert good.status_code == 303 and good.headers["location"] == "/verify/document/" + "a" * 64
    missing = await client.get("/verify/document/" + "a" * 64)
    assert missing.status_code == 404 and "Not found" in missing.text


async def test_the_oversight_list_puts_the_most_urgent_first_and_pages(app, factory, settings):
    from datetime import datetime

    from market import clock
    from market.clock import LOCAL_TZ
    from tests.integration.helpers import signed_contract

    clock.freeze(datetime(2026, 9, 18, 15, 30, tzinfo=LOCAL_TZ))
    owner, provider = await make_parties(factory)
    unsigned = await draft_contract(factory, settings, owner, provider)
    late = await signed_contract(factory, settings, owner, provider, service_days=11)
    await make_user(factory, "finance", "云岭县财政局", "fin")
    clock.freeze(datetime(2026, 10, 12, 10, 0, tzinfo=LOCAL_TZ))  # past the due date and the signing period
    f = await browser(app, "fin")
    try:
        page = await f.get("/finance/contracts")
        assert page.status_code == 200
        main = page.text.split("<main", 1)[1]
        # drafted first, but a service overdue comes before a signature overdue
        assert unsigned.number in main and late.number in main
        assert main.index(late.number) < main.index(unsigned.number)
        only = await f.get("/finance/contracts?flag=signing_overdue")
        assert unsigned.number in only.text and late.number not in only.text
        assert (await f.get("/finance/contracts?page=abc")).status_code == 200
        beyond = await f.get("/finance/contracts?page=2")
        assert beyond.status_code == 200 and late.number not in beyond.text  # 2 rows fit on the first page
        assert (await f.get("/workspace/contracts?page=-3&status=nonsense")).status_code == 200
    finally:
        await f.aclose()
