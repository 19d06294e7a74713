"""In a real browser: no public page scrolls sideways on a phone; the finance bureau's audit trail."""

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
