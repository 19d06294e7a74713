"""The demo county: its catalog, ~20 approved providers with qualifications that make most retained
items competitive, registrations waiting for review, and owners; loading twice changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from listings import demo as listings_demo
from listings.models import CatalogItem, Qualification
from listings.services import qualified
from market import clock
from market import demo as core_demo
from market.identity.models import Organization, User
from tests.integration.helpers import login


async def _load(factory, settings) -> dict:
    async with factory() as session:
        await core_demo.load(session, settings)
        summary = await listings_demo.load(session, settings)
        await session.commit()
    return summary


async def test_demo_marketplace(client, factory, settings):
    first = await _load(factory, settings)
    assert first["catalog items created"] == 33 and first["listings accounts created"] == 27
    today = clock.today_local()
    async with factory() as session:
        providers = {
            u.username: o
            for u, o in (
                await session.execute(
                    select(User, Organization).join(Organization).where(Organization.kind == "provider")
                )
            ).all()
        }
        approved = sorted(name for name, o in providers.items() if o.status == "approved")
        assert approved == [f"provider{i:02d}" for i in range(1, 21)]
        assert {o.status for o in providers.values()} == {"approved", "pending", "rejected"}
        rejected = next(o for o in providers.values() if o.status == "rejected")
        assert rejected.status_reason and rejected.uscc.startswith("91")
        owners = list(await session.scalars(select(Organization).where(Organization.kind == "owner")))
        assert sorted(o.name for o in owners) == sorted(
            ["云岭县交通运输局", "云岭县自然资源局", "云岭县住房和城乡建设局", "云岭县教育体育局"]
        )
        assert all(o.status == "approved" and o.org_type == "government" for o in owners)
        retained = list(await session.scalars(select(CatalogItem.code).where(CatalogItem.status == "retained")))
        competitive = 0
        for code in retained:
            count = 0
            for org in providers.values():
                count += await qualified(session, org.id, code, today)
            competitive += count >= 4
        assert len(retained) == 27 and competitive >= 0.8 * len(retained), competitive
        # the expired and the rejected qualification do not count
        assert not await qualified(session, providers["provider12"].id, "YLZJ-019", today)
        assert not await qualified(session, providers["provider03"].id, "YLZJ-010", today)
        assert await session.scalar(select(func.count()).where(Qualification.status == "pending")) >= 3
    # every demo account signs in with the demo password
    for username in ("provider01", "provider20", "owner01", "owner04", "provider21"):
        await login(client, username, core_demo.DEMO_PASSWORD)
    listed = (await client.get("/api/v1/providers", params={"limit": 200})).json()
    assert listed["total"] == 20
    survey = (await client.get("/api/v1/providers", params={"catalog_code": "YLZJ-005"})).json()
    assert survey["total"] >= 4
    again = await _load(factory, settings)
    assert again["catalog items created"] == 0 and again["listings accounts created"] == 0
    assert again["qualifications created"] == 0 and again["practitioners created"] == 0
