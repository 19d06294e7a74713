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


# --- contracts (invoices package) ---------------------------------------------------------------
# Bidding's awards are not merged yet: tests draft contracts directly through the drafting service
# with the Award data the ``purchase.awarded`` event carries.

SAMPLE_SCOPE = "对云岭县城南片区 12.6 公顷建设用地开展地质灾害危险性评估，提交评估报告及附图。"


async def make_parties(
    factory: async_sessionmaker[AsyncSession],
    *,
    owner: str = "owner1",
    provider: str = "prov1",
    owner_org: str = "云岭县自然资源局",
    provider_org: str = "云南地勘工程咨询有限公司",
) -> tuple[Any, Any]:
    """An approved owner and an approved provider (with a user each), with real-looking details."""
    from market.identity.models import Organization

    owner_user = await make_user(factory, "owner", owner_org, owner)
    provider_user = await make_user(factory, "provider", provider_org, provider)
    async with factory() as session:
        for user, rep, address in (
            (owner_user, "刘洋", "云岭县人民路 66 号"),
            (provider_user, "陈静", "昆明市五华区学府路 8 号"),
        ):
            org = await session.get(Organization, user.org_id)
            if org.legal_rep == "—":
                org.legal_rep, org.address = rep, address
        await session.commit()
    return owner_user, provider_user


def actor_of(user: Any, role: str, ip: str = "198.51.100.20") -> Any:
    from market.actor import Actor

    return Actor(user_id=user.id, org_id=user.org_id, role=role, username=user.username, ip=ip)


def award(owner_user: Any, provider_user: Any, **changes: Any) -> Any:
    import uuid
    from datetime import UTC, datetime
    from decimal import Decimal

    from invoices.contracts import Award

    data: dict[str, Any] = {
        "purchase_id": uuid.uuid4(),
        "purchase_ref": "CG-2026-000042",
        "title": "城南片区建设用地地质灾害危险性评估",
        "scope": SAMPLE_SCOPE,
        "catalog_code": "ZJ-013",
        "catalog_name": "地质灾害危险性评估",
        "owner_id": owner_user.org_id,
        "provider_id": provider_user.org_id,
        "bid_id": uuid.uuid4(),
        "amount": Decimal("12800.00"),
        "service_days": 11,
        "method": "random",
        "draw_seed": "9f2c4d1e7a6b5c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d",
        "awarded_at": datetime(2026, 9, 11, 2, 0, tzinfo=UTC),
    }
    data.update(changes)
    return Award(**data)


async def draft_contract(
    factory: async_sessionmaker[AsyncSession], settings: Any, owner_user: Any, provider_user: Any, **changes: Any
) -> Any:
    from invoices.contracts import draft_contract as draft

    async with factory() as session:
        contract = await draft(session, SYSTEM, award(owner_user, provider_user, **changes), settings)
        await session.commit()
        return contract


async def signed_contract(
    factory: async_sessionmaker[AsyncSession], settings: Any, owner_user: Any, provider_user: Any, **changes: Any
) -> Any:
    """A contract drafted and signed by both parties (through the services)."""
    from invoices.contracts import sign_contract

    contract = await draft_contract(factory, settings, owner_user, provider_user, **changes)
    async with factory() as session:
        await sign_contract(session, actor_of(owner_user, "owner"), settings, contract.id)
        contract = await sign_contract(session, actor_of(provider_user, "provider"), settings, contract.id)
        await session.commit()
        return contract


async def browser(app: Any, username: str, password: str = PASSWORD) -> httpx.AsyncClient:
    """A client signed in through the login form, holding the session and CSRF cookies (for pages).
    Close it with ``await client.aclose()``."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50001))
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    await client.get("/login")
    token = client.cookies.get("market_csrf")
    r = await client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert r.status_code == 303, r.text
    return client


def csrf(client: httpx.AsyncClient) -> str:
    return client.cookies.get("market_csrf") or ""
