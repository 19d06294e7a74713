"""In a real browser: no public page scrolls sideways on a phone; the draw proof recomputes in the
browser and a tampered one is flagged; the finance bureau follows a red flag to its data and
reads the audit trail."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlsplit

from tests.browser.conftest import BROWSER_TESTS, PHONE, Server, new_context, shot, sign_in

pytestmark = BROWSER_TESTS

OVERFLOW = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
# what is not a page (files, feeds, the API)
NOT_PAGES = re.compile(r"^/(api/|static/|schema)|\.(pdf|csv|xlsx|json)$")
DETAIL = r"/(verify/draw/[^/]+|contracts/[0-9a-f-]{36})"


async def _public_pages(page: Any, server: Server) -> list[str]:
    """The public pages reached from the home page, and a demo purchase (open and contracted,
    with its draw proof, contract and owner's record), provider and catalog item, the credit pages."""
    found: list[str] = ["/"]

    async def links_of(path: str) -> list[str]:
        await page.goto(path)
        hrefs = await page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        paths = []
        for href in hrefs:
            parts = urlsplit(href)
            if parts.netloc and parts.netloc != urlsplit(server.url).netloc:
                continue
            target = parts.path + (f"?{parts.query}" if parts.query and "lang=" not in parts.query else "")
            if target.startswith("/") and not NOT_PAGES.search(parts.path) and target not in paths:
                paths.append(target)
        return paths

    async def first(path: str, pattern: str) -> str:
        link = next((p for p in await links_of(path) if re.fullmatch(pattern, p)), None)
        assert link, f"no link like {pattern} on {path}"
        return link

    found += await links_of("/")
    found.append(await first("/purchases?status=open", r"/purchases/[0-9a-f-]{36}"))
    found.append(await first("/providers", r"/providers/[0-9a-f-]{36}"))
    found.append(await first("/catalog", r"/catalog/[^/?]+"))
    contracted = await first("/purchases?status=contracted", r"/purchases/[0-9a-f-]{36}")
    found.append(contracted)
    found += [p for p in await links_of(contracted) if re.fullmatch(DETAIL, p)]
    found.append(await first(contracted, r"/owners/[0-9a-f-]{36}"))  # the owner's public record
    found += ["/credit", "/credit/formula"]  # the red and black lists, the credit formula
    found += ["/login", "/register/provider", "/register/owner", "/verify/document"]
    unique: list[str] = []
    for p in found:
        if p not in unique and not p.startswith(("/workspace", "/admin", "/finance")):
            unique.append(p)
    return unique


async def test_no_public_page_scrolls_sideways_on_a_phone(chromium: Any, server: Server) -> None:
    context = await new_context(chromium, server, PHONE)
    try:
        page = await context.new_page()
        pages = await _public_pages(page, server)
        assert any(p.startswith("/contracts/") for p in pages) and any(p.startswith("/verify/draw/") for p in pages)
        urls = [path + ("&" if "?" in path else "?") + f"lang={lang}" for lang in ("zh", "en") for path in pages]
        tabs = [page, *[await context.new_page() for _ in range(3)]]
        wide: dict[str, int] = {}

        async def measure(tab: Any, share: list[str]) -> None:
            for url in share:
                await tab.goto(url)
                scroll, client = await tab.evaluate(OVERFLOW)
                if scroll > client:
                    wide[url] = scroll

        # the language is a parameter of every address, so the tabs may share the context's cookies
        await asyncio.gather(*(measure(tab, urls[i :: len(tabs)]) for i, tab in enumerate(tabs)))
        await page.goto("/purchases?lang=zh")
        await shot(page, "phone-purchases")
        assert not wide, f"pages wider than the phone's {PHONE['width']} px: {wide}"
    finally:
        await context.close()


async def test_the_owner_list_on_a_phone_keeps_names_readable(chromium: Any, server: Server) -> None:
    """The header keeps its padding, the list scrolls in its own box, and a purchase's title keeps
    a readable width instead of wrapping a few characters a line."""
    context = await new_context(chromium, server, PHONE)
    try:
        page = await context.new_page()
        await sign_in(page, "owner01")
        await page.goto("/workspace/purchases")
        scroll, client = await page.evaluate(OVERFLOW)
        assert scroll <= client
        brand_left = await page.evaluate("() => document.querySelector('header .brand').getBoundingClientRect().left")
        assert brand_left >= 12, f"the header's brand touches the edge ({brand_left} px)"
        box = await page.evaluate(
            "() => { const s = document.querySelector('main .scroll');"
            " return [s.scrollWidth > s.clientWidth, getComputedStyle(s).overflowX] }"
        )
        assert box == [True, "auto"]  # the table is wider than the phone and scrolls inside its box
        widths = await page.eval_on_selector_all(
            "main table td.name", "els => els.map(e => e.getBoundingClientRect().width)"
        )
        em = await page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('main table td')).fontSize)")
        assert widths and min(widths) >= 8 * em, f"title columns {widths} px at {em} px a character"
        await shot(page, "phone-owner-purchases")
    finally:
        await context.close()


async def test_the_draw_page_recomputes_in_the_browser_and_flags_a_tampered_proof(context: Any) -> None:
    """Works whether the page's script is inline or a static file: the HTML is altered on its way
    to the browser, as a forged copy of the page would be."""
    page = await context.new_page()
    await page.goto("/verify/draw/CG-2026-000014")
    assert await page.locator(".draw-proof").first.get_attribute("data-secret")
    await page.locator(".draw-proof .js-check.ok").first.wait_for()  # recomputed by the browser: it matches

    async def forge(route: Any) -> None:
        response = await route.fetch()
        html = await response.text()
        secret = re.search(r'data-secret="([0-9a-f]+)"', html)
        assert secret
        flipped = ("1" if secret.group(1)[0] == "0" else "0") + secret.group(1)[1:]
        await route.fulfill(response=response, body=html.replace(secret.group(1), flipped))

    forged = await context.new_page()
    await forged.route("**/verify/draw/CG-2026-000014", forge)
    await forged.goto("/verify/draw/CG-2026-000014")
    await forged.locator(".draw-proof .js-check.error").first.wait_for()
    said = await forged.locator(".draw-proof .js-check").first.inner_text()
    assert "NOT" in said or "不" in said


async def test_finance_follows_a_red_flag_to_its_data(context: Any) -> None:
    page = await context.new_page()
    await sign_in(page, "finance")
    await page.goto("/finance/flags")
    first = page.locator("article.panel.flagged").first
    ref = (await first.locator("h2 a").inner_text()).strip()
    assert ref.startswith("CG-")
    # the flag says where to look: the purchase itself …
    await first.locator("h2 a").click()
    await page.wait_for_load_state()
    assert re.search(r"/workspace/purchases/[0-9a-f-]{36}$", page.url)
    assert ref in await page.locator("main").inner_text()
    # … and the records the flag names
    await page.go_back()
    looks = page.locator("ul.flag-list a")
    assert await looks.count() > 0
    target = await looks.first.get_attribute("href")
    await looks.first.click()
    await page.wait_for_load_state()
    assert urlsplit(page.url).path == urlsplit(target).path
    assert await page.locator("main h1").inner_text()
    # a firm's flags lead to the firm's record
    await page.goto("/finance/flags?kind=firm")
    firm = page.locator("article.panel.flagged h2 a").first
    name = (await firm.inner_text()).strip()
    await firm.click()
    await page.wait_for_load_state()
    assert "/finance/firms/" in page.url and name in await page.locator("main").inner_text()
    # and the purchase's whole history is in the audit trail, found by its reference
    await page.goto("/finance/audit")
    await page.fill("input[name=ref]", ref)
    await page.click("form.filters button[type=submit]")
    await page.wait_for_load_state()
    assert await page.locator("table.audit tbody tr").count() > 3
    assert await page.locator('table.audit a[href^="/workspace/purchases/"]').count() > 0
    await shot(page, "audit-by-reference")


async def test_the_audit_page_reads_well_on_desk_and_phone(chromium: Any, server: Server) -> None:
    for name, viewport in (("audit-desktop", {"width": 1280, "height": 900}), ("audit-phone", PHONE)):
        context = await new_context(chromium, server, viewport)
        try:
            page = await context.new_page()
            await sign_in(page, "finance")
            await page.goto("/finance/audit")
            assert await page.locator("table.audit tbody tr").count() == 50
            scroll, client = await page.evaluate(OVERFLOW)
            assert scroll <= client, f"{name}: the page is {scroll} px wide"
            await page.click("a[rel=next]")
            await page.wait_for_load_state()
            assert "page=2" in page.url
            await page.select_option("select[name=action]", "purchase.published")
            await page.click("form.filters button[type=submit]")
            await page.wait_for_load_state()
            actions = await page.locator("table.audit tbody tr td:nth-child(3)").all_inner_texts()
            assert actions and set(actions) == {"采购项目已发布\npurchase.published"}
            await shot(page, name)
        finally:
            await context.close()
