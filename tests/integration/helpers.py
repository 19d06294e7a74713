"""Helpers for integration tests: accounts, sign-in, direct service calls."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from market.actor import SYSTEM
from market.identity import services as identity
from market.identity.models import Role

PASSWORD = "secret123"


async def make_user(
    factory: async_sessionmaker[AsyncSession], role: str, org_name: str, username: str, password: str = PASSWORD
) -> Any:
    async with factory() as session:
        user = await identity.ensure_user(
            session, SYSTEM, role=Role(role), org_name=org_name, username=username, password=password
        )
        await session.commit()
        return user


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.delete("market_session")  # API clients authenticate with the bearer token
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def account(
    client: httpx.AsyncClient,
    factory: async_sessionmaker[AsyncSession],
    role: str,
    username: str,
    org_name: str | None = None,
) -> dict[str, str]:
    await make_user(factory, role, org_name or f"{username} 组织", username)
    return await login(client, username)


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status and body["title"] and "type" in body and "detail" in body
    if field is not None:
        fields = [e["field"] for e in body.get("errors", [])]
        assert field in fields, body
    return body


# --- listings rows for bidding tests (inserted directly: the listings services are another package's) ---


async def make_catalog_item(
    factory: async_sessionmaker[AsyncSession],
    code: str = "ZJ-HP-01",
    *,
    name: str = "环境影响评价文件编制",
    time_limit_days: int = 20,
    fee_type: str = "market_regulated",
    fee_cap: str | None = None,
    status: str = "retained",
) -> Any:
    from datetime import date
    from decimal import Decimal

    from listings.models import CatalogItem

    async with factory() as session:
        item = CatalogItem(
            code=code,
            name=name,
            category="环境保护",
            approval="建设项目环境影响评价审批",
            department="云岭县生态环境分局",
            legal_basis="《中华人民共和国环境影响评价法》",
            time_limit_days=time_limit_days,
            fee_type=fee_type,
            fee_standard="市场调节价" if fee_type == "market_regulated" else "按省定标准",
            fee_cap=Decimal(fee_cap) if fee_cap else None,
            status=status,
            effective_date=date(2024, 1, 1),
        )
        session.add(item)
        await session.commit()
        return item


async def qualify(
    factory: async_sessionmaker[AsyncSession],
    provider_id: Any,
    codes: list[str],
    *,
    status: str = "approved",
    valid_until: Any = None,
) -> None:
    """Give a provider an approved qualification covering the catalog items ``codes``."""
    from datetime import date

    from sqlalchemy import select

    from listings.models import CatalogItem, Qualification, QualificationItem

    async with factory() as session:
        q = Qualification(
            provider_id=provider_id,
            name="环评资质",
            grade="乙级",
            certificate_no=f"HP-{str(provider_id)[:8]}",
            issuer="云南省生态环境厅",
            valid_until=valid_until or date(2099, 12, 31),
            status=status,
        )
        session.add(q)
        await session.flush()
        for code in codes:
            item_id = await session.scalar(select(CatalogItem.id).where(CatalogItem.code == code))
            session.add(QualificationItem(qualification_id=q.id, item_id=item_id))
        await session.commit()


async def provider(
    client: httpx.AsyncClient,
    factory: async_sessionmaker[AsyncSession],
    username: str,
    codes: list[str] | None = None,
    org_name: str | None = None,
) -> tuple[dict[str, str], Any]:
    """An approved provider (qualified for ``codes``), signed in: (headers, org_id)."""
    user = await make_user(factory, "provider", org_name or f"{username} 咨询有限公司", username)
    if codes:
        await qualify(factory, user.org_id, codes)
    return await login(client, username), user.org_id


async def owner(
    client: httpx.AsyncClient, factory: async_sessionmaker[AsyncSession], username: str, org_name: str | None = None
) -> tuple[dict[str, str], Any]:
    """An approved owner organisation with a user, signed in: (headers, org_id)."""
    user = await make_user(factory, "owner", org_name or f"云岭县{username}局", username)
    return await login(client, username), user.org_id


def purchase_body(code: str = "ZJ-HP-01", deadline: Any = None, **changes: Any) -> dict[str, Any]:
    """A valid draft (the deadline defaults to the earliest allowed one, plus a minute)."""
    from datetime import timedelta

    from bidding.services import earliest_deadline
    from market import clock

    body: dict[str, Any] = {
        "title": "云岭县城南污水处理厂扩建工程环境影响评价",
        "catalog_code": code,
        "description": "编制环境影响报告书，配合审批部门完成技术评审。",
        "budget_cap": "50000.00",
        "funding": "fiscal",
        "method": "random",
        "bid_deadline": (deadline or earliest_deadline(clock.now()) + timedelta(minutes=1)).isoformat(),
        "service_days": 15,
    }
    body.update(changes)
    return body
