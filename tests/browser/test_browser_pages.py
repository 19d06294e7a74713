"""In a real browser: no public page scrolls sideways on a phone; the draw proof recomputes in the
browser and a tampered one is flagged; the finance bureau follows a red flag to its data and
reads the audit trail."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from tests.browser.conftest import PHONE, Server, shot, sign_in

OVERFLOW = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
# what is not a page (files, feeds, the API)
NOT_PAGES = re.compile(r"^/(api/|static/|schema)|\.(pdf|csv|xlsx|json)$")


def _public_pages(page: Any, server: Server) -> list[str]:
    """The public pages reached from the home page (and from the lists it links to), and a demo
    purchase, contract, provider, catalog item and draw proof."""
    found: list[str] = ["/"]

    def links_of(path: str) -> list[str]:
        page.goto(path)
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        paths = []
        for href in hrefs:
            parts = urlsplit(href)
            if parts.netloc and parts.netloc != urlsplit(server.url).netloc:
                continue
            target = parts.path + (f"?{parts.query}" if parts.query and "lang=" not in parts.query else "")
            if target.startswith("/") and not NOT_PAGES.search(parts.path) and target not in paths:
                paths.append(target)
        return paths

    home = links_of("/")
    found += [p for p in home if p not in found]

    def first(path: str, pattern: str) -> str:
        link = next((p for p in links_of(path) if re.fullmatch(pattern, p)), None)
        assert link, f"no link like {pattern} on {path}"
        return link

    found.append(first("/purchases", r"/purchases/[0-9a-f-]{36}"))
    found.append(first("/providers", r"/providers/[0-9a-f-]{36}"))
    found.append(first("/catalog", r"/catalog/[^/?]+"))
    purchase = found[-3]
    links = links_of(purchase)
    found += [p for p in links if re.fullmatch(r"/(verify/draw/[^/]+|contracts/[0-9a-f-]{36})", p)]
    # an awarded purchase has a draw proof and a contract
    awarded = first("/purchases?status=contracted", r"/purchases/[0-9a-f-]{36}")
    found += [p for p in links_of(awarded) if re.fullmatch(r"/(verify/draw/[^/]+|contracts/[0-9a-f-]{36})", p)]
    found += ["/login", "/register/provider", "/register/owner", "/verify/document"]
    unique: list[str] = []
    for p in found:
        if p not in unique and not p.startswith(("/workspace", "/admin", "/finance")):
            unique.append(p)
    return unique


def test_no_public_page_scrolls_sideways_on_a_phone(chromium: Any, server: Server) -> None:
    context = chromium.new_context(base_url=server.url, locale="zh-CN", viewport=PHONE, device_scale_factor=1)
    try:
        page = context.new_page()
        pages = _public_pages(page, server)
        assert any(p.startswith("/contracts/") for p in pages) and any(p.startswith("/verify/draw/") for p in pages)
        wide = {}
        for path in pages:
            for lang in ("zh", "en"):
                page.goto(path + ("&" if "?" in path else "?") + f"lang={lang}")
                scroll, client = page.evaluate(OVERFLOW)
                if scroll > client:
                    wide[f"{path} ({lang})"] = scroll
        page.goto("/purchases")
        shot(page, "phone-purchases")
        page.goto(next(p for p in pages if p.startswith("/purchases/")))
        shot(page, "phone-purchase")
        assert not wide, f"pages wider than the phone's {PHONE['width']} px: {wide}"
    finally:
        context.close()


def test_the_draw_page_recomputes_in_the_browser_and_flags_a_tampered_proof(context: Any) -> None:
    """Works whether the page's script is inline or a static file: the HTML is altered on its way
    to the browser, as a forged copy of the page would be."""
    page = context.new_page()
    page.goto("/verify/draw/CG-2026-000014")
    proof = page.locator(".draw-proof").first
    assert proof.get_attribute("data-secret")
    page.locator(".draw-proof .js-check.ok").first.wait_for()  # recomputed by the browser, and it matches

    def forge(route: Any) -> None:
        response = route.fetch()
        html = response.text()
        secret = re.search(r'data-secret="([0-9a-f]+)"', html)
        assert secret
        flipped = ("1" if secret.group(1)[0] == "0" else "0") + secret.group(1)[1:]
        route.fulfill(response=response, body=html.replace(secret.group(1), flipped))

    forged = context.new_page()
    forged.route("**/verify/draw/CG-2026-000014", forge)
    forged.goto("/verify/draw/CG-2026-000014")
    check = forged.locator(".draw-proof .js-check").first
    forged.locator(".draw-proof .js-check.error").first.wait_for()
    assert "NOT" in check.inner_text() or "不" in check.inner_text()


def test_finance_follows_a_red_flag_to_its_data(context: Any) -> None:
    page = context.new_page()
    sign_in(page, "finance")
    page.goto("/finance/flags")
    first = page.locator("article.panel.flagged").first
    ref = first.locator("h2 a").inner_text().strip()
    assert ref.startswith("CG-")
    # the flag says where to look: the purchase itself …
    first.locator("h2 a").click()
    page.wait_for_load_state()
    assert re.search(r"/workspace/purchases/[0-9a-f-]{36}$", page.url) and ref in page.locator("main").inner_text()
    # … and the records the flag names
    page.go_back()
    looks = page.locator("ul.flag-list a")
    assert looks.count() > 0
    target = looks.first.get_attribute("href")
    looks.first.click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == urlsplit(target).path
    assert page.locator("main h1").inner_text()
    # a firm's flags lead to the firm's record
    page.goto("/finance/flags?kind=firm")
    firm = page.locator("article.panel.flagged h2 a").first
    name = firm.inner_text().strip()
    firm.click()
    page.wait_for_load_state()
    assert "/finance/firms/" in page.url and name in page.locator("main").inner_text()
    # and the purchase's whole history is in the audit trail, found by its reference
    page.goto("/finance/audit")
    page.fill("input[name=ref]", ref)
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    rows = page.locator("table.audit tbody tr")
    assert rows.count() > 3
    assert page.locator('table.audit a[href^="/workspace/purchases/"]').count() > 0
    shot(page, "audit-by-reference")


def test_the_audit_page_reads_well_on_desk_and_phone(chromium: Any, server: Server) -> None:
    for name, viewport in (("audit-desktop", {"width": 1280, "height": 900}), ("audit-phone", PHONE)):
        context = chromium.new_context(base_url=server.url, locale="zh-CN", viewport=viewport)
        try:
            page = context.new_page()
            sign_in(page, "finance")
            page.goto("/finance/audit")
            assert page.locator("table.audit tbody tr").count() == 50
            scroll, client = page.evaluate(OVERFLOW)
            assert scroll <= client, f"{name}: the page is {scroll} px wide"
            page.click("a[rel=next]")
            page.wait_for_load_state()
            assert "page=2" in page.url
            page.select_option("select[name=action]", "purchase.published")
            page.click("form.filters button[type=submit]")
            page.wait_for_load_state()
            assert page.locator("table.audit tbody tr").count() > 0
            assert set(page.locator("table.audit tbody tr td:nth-child(3)").all_inner_texts()) == {
                "采购项目已发布\npurchase.published"
            }
            shot(page, name)
        finally:
            context.close()
