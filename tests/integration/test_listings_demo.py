"""The demo county: its catalog, ~20 approved providers with qualifications that make most retained
items competitive, registrations waiting for review, and owners; loading twice changes nothing."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from listings import catalog
from listings import demo as listings_demo
from listings.models import CatalogItem, Qualification
from listings.services import qualified
from market import clock
from market import demo as core_demo
from market.identity.models import Organization, User
from tests.integration.helpers import login

CATALOG = [item for _row, item in catalog.parse_csv((listings_demo.DATA / "catalog.csv").read_bytes())[0]]
ORGS = json.loads((listings_demo.DATA / "organizations.json").read_text(encoding="utf-8"))
PROVIDERS = {p["username"]: p for p in ORGS["providers"]}


def counts(q: dict) -> bool:
    """A demo qualification that counts: approved (the default) and not expired."""
    return q.get("status", "approved") == "approved" and int(q["valid_months"]) > 0


def covered(provider: dict) -> set[str]:
    """The items an approved demo provider is qualified for."""
    if provider["status"] != "approved":
        return set()
    return {code for q in provider["qualifications"] if counts(q) for code in q["covers"]}


def not_counting(provider: dict) -> set[str]:
    """The items a provider's demo data lists only in qualifications that do not count (rejected,
    still pending, or expired): it must not be qualified for those."""
    listed = {code for q in provider["qualifications"] if not counts(q) for code in q["covers"]}
    return listed - covered(provider)


async def _load(factory, settings) -> dict:
    async with factory() as session:
        await core_demo.load(session, settings)
        summary = await listings_demo.load(session, settings)
        await session.commit()
    return summary


async def test_demo_marketplace(client, factory, settings):
    first = await _load(factory, settings)
    assert first["catalog items created"] == len(CATALOG)
    # and a clerk for one owner and one firm (listings.demo.DEMO_CLERKS)
    assert first["listings accounts created"] == len(ORGS["owners"]) + len(ORGS["providers"]) + len(
        listings_demo.DEMO_CLERKS
    )
    today = clock.today_local()
    async with factory() as session:
        providers = {
            u.username: o
            for u, o in (
                await session.execute(
                    select(User, Organization)
                    .join(Organization)
                    .where(Organization.kind == "provider", User.org_role == "admin")
                )
            ).all()
        }
        assert {name: o.status for name, o in providers.items()} == {u: p["status"] for u, p in PROVIDERS.items()}
        assert {o.status for o in providers.values()} == {"approved", "pending", "rejected"}  # every case shown
        rejected = next(o for o in providers.values() if o.status == "rejected")
        assert rejected.status_reason and rejected.uscc.startswith("91")
        owners = list(await session.scalars(select(Organization).where(Organization.kind == "owner")))
        assert sorted(o.name for o in owners) == sorted(o["name"] for o in ORGS["owners"])
        assert all(o.status == "approved" and o.org_type == "government" for o in owners)
        retained = list(await session.scalars(select(CatalogItem.code).where(CatalogItem.status == "retained")))
        assert sorted(retained) == sorted(i.code for i in CATALOG if i.status == "retained")
        competitive = 0
        for code in retained:
            count = 0
            for org in providers.values():
                count += await qualified(session, org.id, code, today)
            competitive += count >= 4
        assert competitive >= 0.8 * len(retained), competitive
        # the expired, rejected and pending qualifications do not count
        refused = [(name, code) for name, p in PROVIDERS.items() for code in not_counting(p)]
        assert refused  # the demo shows such qualifications
        for name, code in refused:
            assert not await qualified(session, providers[name].id, code, today), (name, code)
        pending = sum(q.get("status") == "pending" for p in PROVIDERS.values() for q in p["qualifications"])
        assert await session.scalar(select(func.count()).where(Qualification.status == "pending")) == pending
    # every demo account signs in with the demo password
    for username in [*PROVIDERS, *(o["username"] for o in ORGS["owners"])]:
        await login(client, username, core_demo.DEMO_PASSWORD)
    listed = (await client.get("/api/v1/providers", params={"limit": 200})).json()
    assert listed["total"] == sum(p["status"] == "approved" for p in PROVIDERS.values())
    for code in {c for p in PROVIDERS.values() for c in covered(p)}:
        found = (await client.get("/api/v1/providers", params={"catalog_code": code, "limit": 200})).json()
        assert found["total"] == sum(code in covered(p) for p in PROVIDERS.values()), code
    again = await _load(factory, settings)
    assert again["catalog items created"] == 0 and again["listings accounts created"] == 0
    assert again["qualifications created"] == 0 and again["practitioners created"] == 0
