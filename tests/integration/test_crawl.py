"""Follow every link, as each role would: from the home page and the role's dashboard, with the
demo county loaded, every page and download a link points to answers — no 404, no 5xx — and every
answer carries the security headers and no page has inline script or style (issue 10.6; see
tests/integration/security.py).

The crawl stays on the site, reads only with GET, follows redirects, treats ``?lang=`` as the same
page (the Chinese page is crawled; the English switch is checked on a sample at the end) and
parses HTML pages for their links; JSON, PDFs and other downloads are fetched, not parsed.
"""

from __future__ import annotations

from collections import deque
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import pytest

from market.demo import DEMO_PASSWORD
from tests.integration.helpers import browser
from tests.integration.security import Inline, assert_secure_headers

pytestmark = pytest.mark.demo

# the demo accounts of each role (README: demo accounts)
ROLES = {
    "public": None,
    "provider": "provider04",
    "owner": "owner01",
    "admin": "admin",
    "finance": "finance",
}
LIMIT = 1500  # more pages than this means the crawl is unbounded somewhere (a link that grows forever)
NOT_PARSED = ("/schema", "/api/", "/static/")


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.found.append(href)


def normalise(base: str, href: str) -> str | None:
    """The site-relative URL of a link, without its fragment and language switch; ``None`` for
    links that leave the site or are not pages."""
    url = urlsplit(urljoin(base, href))
    if url.scheme not in ("http", "https") or url.netloc != "testserver":
        return None
    query = urlencode([(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if k != "lang"])
    return urlunsplit(("", "", url.path or "/", query, ""))


async def crawl(client, starts: list[str]) -> tuple[dict[str, int], dict[str, str]]:
    """Every URL reachable from ``starts`` with its final status, and where each was linked from."""
    statuses: dict[str, int] = {}
    origin: dict[str, str] = {start: "(start)" for start in starts}
    queue = deque(starts)
    while queue:
        url = queue.popleft()
        if url in statuses:
            continue
        assert len(statuses) < LIMIT, f"more than {LIMIT} pages: {sorted(statuses)[-20:]}"
        response = await client.get(url)
        hops = 0
        while response.is_redirect and hops < 5:
            target = normalise(f"http://testserver{url}", response.headers["location"])
            assert target is not None, f"{url} redirects off the site: {response.headers['location']}"
            response = await client.get(target)
            hops += 1
        statuses[url] = response.status_code
        if url.startswith(NOT_PARSED) or "text/html" not in response.headers.get("content-type", ""):
            continue
        parser = Links()
        parser.feed(response.text)
        for href in parser.found:
            target = normalise(f"http://testserver{url}", href)
            if target is not None and target not in statuses:
                origin.setdefault(target, url)
                queue.append(target)
    return statuses, origin


@pytest.mark.parametrize("role", list(ROLES))
async def test_every_link_answers_for_every_role(app, client, role):
    username = ROLES[role]
    starts = ["/"]
    if username is not None:
        client = await browser(app, username, DEMO_PASSWORD)
        starts.append("/workspace")
    inline: dict[str, list[str]] = {}
    inspected = 0

    async def inspect(response: httpx.Response) -> None:
        nonlocal inspected
        await response.aread()
        inspected += 1
        assert_secure_headers(response)
        if "text/html" in response.headers.get("content-type", ""):
            parser = Inline()
            parser.feed(response.text)
            if parser.found:
                inline[str(response.request.url)] = parser.found

    client.event_hooks["response"].append(inspect)
    try:
        statuses, origin = await crawl(client, starts)
        broken = {url: (code, origin[url]) for url, code in statuses.items() if code == 404 or code >= 500}
        assert not broken, f"{role}: broken links (status, linked from): {broken}"
        # an error page and the API docs page are inspected as well
        await client.get("/no-such-page")
        await client.get("/schema")
        assert inspected >= len(statuses) + 2 and not inline, inline
        # the crawl went somewhere: the role's pages and the public lists, past their first page
        assert "/purchases?page=2" in statuses, sorted(statuses)
        if username is not None:
            assert any(url.startswith(("/workspace/", "/admin/", "/finance/")) for url in statuses), sorted(statuses)
        await check_english(client, statuses)
    finally:
        client.event_hooks["response"].remove(inspect)
        if username is not None:
            await client.aclose()


async def check_english(client, statuses: dict[str, int]) -> None:
    """The English pages answer too (a sample: one page of every kind the crawl reached)."""
    kinds: dict[str, str] = {}
    for url, code in statuses.items():
        if code == 200 and not url.startswith(NOT_PARSED) and "/pdf" not in url and "/files/" not in url:
            kinds.setdefault(urlsplit(url).path.rsplit("/", 1)[0], url)
    for url in kinds.values():
        sep = "&" if "?" in url else "?"
        response = await client.get(f"{url}{sep}lang=en")
        assert response.status_code == 200, (url, response.status_code)
