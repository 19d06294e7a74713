"""The web shell: Chinese by default, English by the switch (remembered), errors as pages."""

from __future__ import annotations


async def test_home_is_chinese_by_default_and_english_on_request(client):
    r = await client.get("/")
    assert r.status_code == 200 and 'lang="zh-CN"' in r.text and "中介服务超市" in r.text
    assert "/?lang=en" in r.text
    en = await client.get("/?lang=en")
    assert 'lang="en"' in en.text and "Intermediary Service Supermarket" in en.text and "中介服务超市" not in en.text
    # remembered in a cookie
    again = await client.get("/")
    assert 'lang="en"' in again.text
    back = await client.get("/?lang=zh")
    assert "中介服务超市" in back.text


async def test_accept_language_is_honoured_without_a_choice(client):
    r = await client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert 'lang="en"' in r.text


async def test_unknown_page_is_a_page_and_unknown_api_is_a_problem(client):
    page = await client.get("/no-such-page")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"] and "未找到" in page.text
    api = await client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/problem+json")


async def test_static_stylesheet(client):
    r = await client.get("/static/market.css")
    assert r.status_code == 200 and "--brand" in r.text
