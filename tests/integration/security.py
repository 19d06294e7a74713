"""What every answer must carry (security headers) and what no page may contain (inline script or
style, anything loaded from elsewhere): checked by the crawl of every page (test_crawl.py) and by
test_security_headers.py."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx

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
