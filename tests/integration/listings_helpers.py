"""Helpers for the listings integration tests: registrations, catalog items, browser sessions."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from stdnum.cn import uscc as stdnum_uscc

from listings import catalog
from listings.schemas import CatalogItemIn
from market.actor import SYSTEM
from tests.integration.helpers import PASSWORD, login

_serial = 0


def make_uscc(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest()
    body = "91530400" + "".join(str(int(c, 16) % 10) for c in digest[:9])
    return body + stdnum_uscc.calc_check_digit(body)


def wrong_check_digit(uscc: str) -> str:
    last = uscc[-1]
    replacement = next(c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != last)
    return uscc[:-1] + replacement


def registration(username: str, **changes: Any) -> dict[str, Any]:
    body = {
        "name": f"云南{username}工程咨询有限公司",
        "uscc": make_uscc(username),
        "legal_rep": "张三",
        "address": "云岭县城关镇建设路1号",
        "phone": "0877-8210000",
        "email": f"{username}@firm.example",
        "username": username,
        "password": PASSWORD,
        "commitment_accepted": True,
    }
    body.update(changes)
    return body


def as_form(body: dict[str, Any]) -> dict[str, str]:
    """A registration's JSON body as the fields of a multipart form."""
    return {k: ("true" if v is True else "false" if v is False else str(v)) for k, v in body.items() if v is not None}


def licence_file(seed: str = "licence", name: str = "营业执照.pdf") -> dict[str, tuple[str, bytes, str]]:
    """The business licence a provider registers with (the multipart file ``business_licence``)."""
    return {"business_licence": (name, pdf_bytes(seed.encode()), "application/pdf")}


async def post_provider(
    client: httpx.AsyncClient, body: dict[str, Any], *, licence: bool = True, **kwargs: Any
) -> httpx.Response:
    """``POST /api/v1/providers`` as a registrant sends it: multipart, with the business licence, and
    the CSRF token any form post carries (the ``market_csrf`` cookie of an earlier answer)."""
    files = licence_file(str(body.get("username"))) if licence else None
    headers = {"X-CSRF-Token": await csrf_token(client), **kwargs.pop("headers", {})}
    return await client.post("/api/v1/providers", data=as_form(body), files=files, headers=headers, **kwargs)


async def csrf_token(client: httpx.AsyncClient) -> str:
    """The CSRF token of this client (its ``market_csrf`` cookie, fetched with a first GET)."""
    if not client.cookies.get("market_csrf"):
        await client.get("/api/v1/catalog", params={"limit": 1})
    token = client.cookies.get("market_csrf")
    assert token
    return token


async def register_provider(client: httpx.AsyncClient, username: str, **changes: Any) -> tuple[str, dict[str, str]]:
    r = await post_provider(client, registration(username, **changes))
    assert r.status_code == 201, r.text
    return r.json()["id"], await login(client, username)


ITEM = {
    "code": "YLZJ-005",
    "name": "建设工程规划放线测量",
    "category": "测绘",
    "approval": "建设工程规划许可证核发",
    "department": "云岭县自然资源局",
    "legal_basis": "《中华人民共和国城乡规划法》第四十条",
    "time_limit_days": 5,
    "fee_type": "government_guided",
    "fee_standard": "每栋不超过1800元",
    "fee_cap": "20000.00",
    "fee_basis": "",
    "qualification_required": "测绘资质（乙级及以上）",
    "status": "retained",
    "effective_date": "2026-01-01",
    "in_services_catalog": False,
}


async def make_item(factory: async_sessionmaker[AsyncSession], **changes: Any) -> str:
    """A catalog item made through the service (``changes``: fields of :data:`ITEM`, as the API takes them)."""
    data = CatalogItemIn.model_validate({**ITEM, **changes})
    async with factory() as session:
        item = await catalog.create_item(session, SYSTEM, data.as_input())
        await session.commit()
        return item.code


def qualification(*codes: str, **changes: Any) -> dict[str, Any]:
    return {
        "catalog_codes": list(codes) or ["YLZJ-005"],
        "name": "测绘资质证书",
        "grade": "乙级",
        "certificate_no": "乙测资字5300123",
        "issuer": "云南省自然资源厅",
        "valid_until": "2030-12-31",
    } | changes


async def browser(client: httpx.AsyncClient, username: str | None = None) -> str:
    """Sign in with the session cookie, as a browser does; returns the CSRF token for forms."""
    if username:
        r = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
    await client.get("/")
    token = client.cookies.get("market_csrf")
    assert token
    return token


def pdf_bytes(extra: bytes = b"") -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n" + extra + b"\n%%EOF\n"


@contextlib.asynccontextmanager
async def new_client(app: Any, ip: str = "198.51.100.9") -> AsyncIterator[httpx.AsyncClient]:
    """A second browser or API client of the same app (its own cookies)."""
    transport = httpx.ASGITransport(app=app, client=(ip, 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
