"""The provider directory's order is stored (``organizations.name_key``, issue 12): a page is an
index walk with LIMIT instead of a pinyin sort of every firm per request. The stored order must be
the rule's order exactly (``listings.rules.pinyin_key``, then the id), on the demo county and on
generated data, after a name changes too; the totals stay exact."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from listings import organizations
from listings.rules import name_sort_key, pinyin_key
from market.identity.models import Organization, OrgKind, OrgStatus
from oversight import bulk
from tests.integration.helpers import statements

pytestmark = pytest.mark.demo


async def _directory(client: Any, limit: int = 7) -> tuple[list[str], list[int]]:
    """Every firm of the public directory's API, page by page, and the total each page gave."""
    ids: list[str] = []
    totals: list[int] = []
    while True:
        page = (await client.get("/api/v1/providers", params={"limit": limit, "offset": len(ids)})).json()
        totals.append(page["total"])
        ids += [item["id"] for item in page["items"]]
        if len(page["items"]) < limit:
            return ids, totals


async def _by_the_rule(factory: Any) -> list[str]:
    async with factory() as session:
        rows = (
            await session.execute(
                select(Organization.id, Organization.name).where(
                    Organization.kind == OrgKind.provider, Organization.status == OrgStatus.approved
                )
            )
        ).all()
    return [str(i) for i, _name in sorted(rows, key=lambda r: (pinyin_key(r[1]), str(r[0])))]


async def _stored_keys_are_the_rules(factory: Any) -> None:
    async with factory() as session:
        rows = (await session.execute(select(Organization.name, Organization.name_key))).all()
    assert rows and all(bytes(key) == name_sort_key(name) for name, key in rows)


async def test_the_directory_is_in_the_rules_order_on_the_demo_and_generated_data(client, factory, engine, settings):
    await _stored_keys_are_the_rules(factory)
    ids, totals = await _directory(client)
    assert ids == await _by_the_rule(factory) and set(totals) == {len(ids)} and len(ids) > 7
    demo = len(ids)

    await bulk.generate(factory, 40, seed=11)  # the bulk insert stores the keys itself
    await _stored_keys_are_the_rules(factory)
    ids, totals = await _directory(client, limit=9)
    assert ids == await _by_the_rule(factory) and set(totals) == {len(ids)} and len(ids) > demo

    # a page is read in the stored order with LIMIT: the names of the other firms are not read
    with statements(engine) as seen:
        page = (await client.get("/api/v1/providers?limit=5&offset=10")).json()
    assert [p["id"] for p in page["items"]] == ids[10:15] and page["total"] == len(ids)
    assert any("ORDER BY organizations.name_key" in s and "LIMIT" in s for s in seen), seen


async def test_a_renamed_firm_moves_to_its_new_place_and_a_search_keeps_its_total(client, factory):
    before = await _by_the_rule(factory)
    last = before[-1]
    async with factory() as session:
        org = await session.get(Organization, uuid.UUID(last))
        assert org is not None
        org.name = "阿阿阿测绘有限公司"  # 阿 (a1) sorts before every demo firm
        await session.commit()
    ids, _totals = await _directory(client)
    assert ids[0] == last and ids == await _by_the_rule(factory)
    found = (await client.get("/api/v1/providers", params={"q": "测绘", "limit": 2})).json()
    async with factory() as session:
        want = await session.scalar(
            select(func.count()).where(
                Organization.kind == OrgKind.provider,
                Organization.status == OrgStatus.approved,
                Organization.name.like("%测绘%") | Organization.address.like("%测绘%"),  # type: ignore[attr-defined]
            )
        )
    assert found["total"] == want and found["items"][0]["id"] == last


async def test_the_operators_search_lists_firms_first_each_kind_in_the_rules_order(factory):
    async with factory() as session:
        orgs, total = await organizations.search(session, limit=500)
        rows = (
            await session.execute(
                select(Organization.id, Organization.name, Organization.kind).where(
                    Organization.kind.in_((OrgKind.provider, OrgKind.owner))  # type: ignore[attr-defined]
                )
            )
        ).all()
    want = sorted(rows, key=lambda r: (r[2] != OrgKind.provider, pinyin_key(r[1]), str(r[0])))
    assert [o.id for o in orgs] == [r[0] for r in want] and total == len(rows)
