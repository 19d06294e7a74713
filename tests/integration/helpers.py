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
