"""Security headers on every response, no inline script or style in any page, and API docs
served without a CDN (issue 10, point 6). Every page of the demo is inspected on the way by the
crawl of every role (tests/integration/test_crawl.py)."""

from __future__ import annotations

import re

import httpx

from tests.integration.helpers import account
from tests.integration.security import Inline, assert_secure_headers


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
