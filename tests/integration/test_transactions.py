"""One transaction per request: a request that fails halfway leaves nothing behind;
concurrent edits of a versioned row are detected."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from market.audit.models import AuditEvent
from market.identity.models import Organization, User
from tests.integration.helpers import account, assert_problem


def _org(username: str, uscc: str = "91530100MA6K8XQ47H") -> dict:
    return {
        "kind": "owner",
        "org_type": "government",
        "name": "云岭县自然资源局",
        "uscc": uscc,
        "legal_rep": "刘洋",
        "address": "云岭县",
        "phone": "0871-6000000",
        "email": "zrzy@example.com",
        "username": username,
        "password": "Secret-2026-pass",
    }


async def _counts(factory) -> tuple[int, int, int]:
    async with factory() as session:
        orgs = await session.scalar(select(func.count()).select_from(Organization))
        users = await session.scalar(select(func.count()).select_from(User))
        events = await session.scalar(select(func.count()).select_from(AuditEvent))
    return orgs, users, events


async def test_request_failing_halfway_leaves_no_row(client, factory):
    headers = await account(client, factory, "admin", "ops")
    before = await _counts(factory)
    # the organisation is inserted (and flushed) first; the user then fails: username taken
    r = await client.post("/api/v1/admin/organizations", headers=headers, json=_org("ops"))
    assert_problem(r, 409, "username")
    assert await _counts(factory) == before
    async with factory() as session:
        assert await session.scalar(select(Organization).where(Organization.uscc == "91530100MA6K8XQ47H")) is None
    # the same request with a free username succeeds
    r = await client.post("/api/v1/admin/organizations", headers=headers, json=_org("zrzy"))
    assert r.status_code == 201, r.text
    orgs, users, events = await _counts(factory)
    assert (orgs, users) == (before[0] + 1, before[1] + 1) and events == before[2] + 2


async def test_invalid_uscc_and_duplicate_uscc(client, factory):
    headers = await account(client, factory, "admin", "ops")
    assert_problem(
        await client.post("/api/v1/admin/organizations", headers=headers, json=_org("a1", "91530100MA6K8XQ47E")),
        422,
        "uscc",
    )
    assert (await client.post("/api/v1/admin/organizations", headers=headers, json=_org("a2"))).status_code == 201
    assert_problem(await client.post("/api/v1/admin/organizations", headers=headers, json=_org("a3")), 409, "uscc")


async def test_concurrent_update_of_a_versioned_row_is_refused(factory):
    from tests.integration.helpers import make_user

    user = await make_user(factory, "owner", "云岭县卫生健康局", "wsj")
    async with factory() as first, factory() as second:
        # the second editor loaded the record earlier (say, into a form) ...
        b = await second.get(Organization, user.org_id)
        await second.commit()
        # ... the first editor changes it meanwhile ...
        a = await first.get(Organization, user.org_id)
        assert a.version == b.version == 1
        a.phone = "0871-1111111"
        await first.commit()
        # ... so the second editor's change, based on version 1, is refused
        b.phone = "0871-2222222"
        with pytest.raises(StaleDataError):
            await second.commit()
    async with factory() as session:
        org = await session.get(Organization, user.org_id)
        assert (org.phone, org.version) == ("0871-1111111", 2)
