"""What people see when the server fails (issue 9.14): the 500 page says the request failed and
nothing was changed, with the error's reference, and never that something was saved or submitted.
The exports page does not show the placeholder OCDS prefix as if it were registered."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from litestar import get
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from market.settings import Settings
from tests.integration.helpers import account


@get("/__boom", include_in_schema=False)
async def _boom() -> None:
    raise RuntimeError("a bug")


@pytest.mark.own_app
async def test_the_500_page_claims_nothing(app: Any, caplog: Any) -> None:
    app.register(_boom)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/__boom", headers={"accept": "text/html"})
        assert page.status_code == 500 and "text/html" in page.headers["content-type"]
        assert "请求失败" in page.text and "任何数据均未改动" in page.text
        assert not re.search(r"已保存|已提交|保存成功|提交成功", page.text)
        reference = re.search(r"错误编号 ([0-9a-f]{8})", page.text)
        assert reference and reference.group(1) in caplog.text  # the logged error carries it too

        english = await client.get("/__boom?lang=en", headers={"accept": "text/html"})
        assert "nothing was changed" in english.text and not re.search(r"\b(saved|submitted)\b", english.text)


async def test_exports_page_does_not_show_the_placeholder_prefix_as_real(
    client: httpx.AsyncClient, factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    assert not settings.ocds_prefix_registered
    finance = await account(client, factory, "finance", "prefix_finance")
    page = await client.get("/finance/exports", headers=finance)
    assert page.status_code == 200
    assert "ocds-xxxxxx" not in page.text and "尚未注册" in page.text


async def test_exports_page_shows_a_registered_prefix(
    factory: async_sessionmaker[AsyncSession], settings: Settings, engine: Any
) -> None:
    from market.app import create_app

    app = create_app(settings.with_(ocds_prefix="ocds-abc123"), engine=engine)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        finance = await account(client, factory, "finance", "prefix_finance2")
        page = await client.get("/finance/exports", headers=finance)
        assert "ocds-abc123-" in page.text and "尚未注册" not in page.text
