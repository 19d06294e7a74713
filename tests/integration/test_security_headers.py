"""Security headers on every response, no inline script or style in any page, and API docs
served without a CDN (issue 10, point 6)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

from market.demo import DEMO_PASSWORD
from tests.integration.helpers import account, browser
from tests.integration.test_crawl import crawl

REQUIRED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}
CSP_DIRECTIVES = [
    "script-src 'self'",
    "style-src 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
]


def assert_secure_headers(response: httpx.Response, *, production: bool = False) -> None:
    where = f"{response.request.method} {response.request.url} ({response.status_code})"
    for name, value in REQUIRED.items():
        assert response.headers.get(name) == value, (where, name, response.headers.get(name))
    csp = response.headers.get("content-security-policy", "")
    assert all(d in csp for d in CSP_DIRECTIVES), (where, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, (where, csp)
    assert "server" not in response.headers, (where, response.headers.get("server"))
    hsts = response.headers.get("strict-transport-security")
    assert (hsts is not None and "max-age=" in hsts) if production else hsts is None, (where, hsts)


class Inline(HTMLParser):
    """What a strict CSP would block in a page: inline scripts, style elements and attributes,
    event-handler attributes and ``javascript:`` links; and anything loaded from elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._script: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script":
            src = named.get("src")
            if not src:
                self._script = ""
            elif re.match(r"^(https?:)?//", src):
                self.found.append(f"<script src={src}> from elsewhere")
        if tag == "style":
            self.found.append("<style>")
        if tag == "link" and re.match(r"^(https?:)?//", named.get("href") or ""):
            self.found.append(f"<link href={named.get('href')}> from elsewhere")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value}>")

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.found.append(f"inline <script>{self._script.strip()[:60]}…")
            self._script = None


@pytest.mark.demo
@pytest.mark.parametrize("role", ["public", "admin", "provider04"])
async def test_every_page_of_the_demo_has_the_headers_and_no_inline_script(app, client, role):
    """The crawl of tests/integration/test_crawl.py, every answer inspected on the way."""
    offenders: dict[str, list[str]] = {}
    seen = 0

    async def inspect(response: httpx.Response) -> None:
        nonlocal seen
        await response.aread()
        seen += 1
        assert_secure_headers(response)
        if "text/html" in response.headers.get("content-type", ""):
            parser = Inline()
            parser.feed(response.text)
            if parser.found:
                offenders[str(response.request.url)] = parser.found

    signed_in = None if role == "public" else await browser(app, role, DEMO_PASSWORD)
    the_client = signed_in or client
    the_client.event_hooks["response"].append(inspect)
    try:
        statuses, _origin = await crawl(the_client, ["/"] if signed_in is None else ["/", "/workspace"])
        # an error page and the API docs page are covered as well
        await the_client.get("/no-such-page")
        await the_client.get("/schema")
    finally:
        if signed_in is not None:
            await signed_in.aclose()
    assert len(statuses) > 20 and seen >= len(statuses)
    assert not offenders, offenders


async def test_api_static_errors_and_docs_have_the_headers(client, factory):
    admin = await account(client, factory, "admin", "ops")
    answers = [
        await client.get("/"),
        await client.get("/login"),
        await client.get("/healthz"),
        await client.get("/api/v1/catalog"),
        await client.get("/api/v1/me"),  # 401 problem
        await client.get("/api/v1/admin/organizations", headers=admin),
        await client.post("/api/v1/auth/login", json={"username": "x"}),  # 422 problem
        await client.get("/api/v1/no-such-thing"),  # 404 of the router
        await client.get("/no-such-page"),  # 404 page
        await client.get("/static/market.css"),
        await client.get("/static/no-such-file.css"),
        await client.get("/schema"),
        await client.get("/schema/openapi.json"),
    ]
    for response in answers:
        assert_secure_headers(response)
    assert [r.status_code for r in answers[4:9]] == [401, 200, 422, 404, 404]


async def test_strict_transport_security_in_production_only(settings, engine, tmp_path):
    from market.app import create_app
    from market.audit import signing

    key = tmp_path / "anchors.pem"
    signing.generate(key)  # production signs its audit anchors with a key it is given
    production = settings.with_(env="production", secret_key="s" * 40, argon2_profile="standard", signing_key_file=key)
    app = create_app(production, engine=engine)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.80", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
        for path in ["/", "/api/v1/catalog", "/static/market.css", "/no-such-page"]:
            assert_secure_headers(await c.get(path), production=True)


async def test_the_api_docs_load_nothing_from_elsewhere(client):
    page = await client.get("/schema")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    parser = Inline()
    parser.feed(page.text)
    assert parser.found == []
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/static/") for s in sources), sources
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 100, source
    assert "cdn" not in page.text.lower() and "unpkg" not in page.text.lower()
    spec = page.text.split('data-spec="', 1)[1].split('"', 1)[0]
    assert (await client.get(spec)).json()["openapi"].startswith("3.")
