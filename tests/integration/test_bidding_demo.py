"""The bidding demo: purchases in every state through the real services, idempotent, verifiable."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bidding import demo, selecting
from bidding.models import Objection, Purchase
from market import audit
from market import demo as core_demo
from market.settings import configure
from tests.integration.helpers import make_catalog_item, make_user, qualify


@pytest.fixture(autouse=True)
def _configured(settings):
    """The services read the configured settings (the CLI and the app configure them too)."""
    configure(settings)


async def test_demo_without_listings_creates_nothing(factory, settings):
    async with factory() as session:
        summary = await demo.load(session, settings)
        await session.commit()
        assert "nothing created" in summary["bidding demo"]
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 0


async def test_demo_has_every_state_and_a_verifiable_draw(factory, settings):
    for code, name in (("ZJ-HP-01", "环境影响评价文件编制"), ("ZJ-CH-02", "建设工程规划放线测量")):
        await make_catalog_item(factory, code, name=name)
    for i in range(5):
        user = await make_user(factory, "provider", f"云南第{i + 1}工程咨询有限公司", f"provider0{i + 1}")
        await qualify(factory, user.org_id, ["ZJ-HP-01", "ZJ-CH-02"])
    await make_user(factory, "owner", "云岭县住房和城乡建设局", "owner01")
    await make_user(factory, "owner", "云岭县交通运输局", "owner02")
    async with factory() as session:
        await core_demo.load(session, settings)
        summary = await demo.load(session, settings)
        await session.commit()
    assert summary["demo purchases created"] == 18, summary
    async with factory() as session:
        states = dict((await session.execute(select(Purchase.status, func.count()).group_by(Purchase.status))).all())
        for state in ("draft", "open", "evaluating", "publicity", "awarded", "cancelled", "failed"):
            assert states.get(state), (state, states)
        pending = await session.scalar(select(func.count()).select_from(Objection).where(Objection.status == "pending"))
        upheld = await session.scalar(select(func.count()).select_from(Objection).where(Objection.status == "upheld"))
        assert pending == 1 and upheld == 1
        awarded_random = await session.scalar(
            select(Purchase).where(Purchase.status == "awarded", Purchase.method == "random").limit(1)
        )
        checks = await selecting.verify_purchase(session, awarded_random)
        assert checks and all(c.verification.ok for c in checks)
        assert (await audit.verify(session)).ok
    # idempotent
    async with factory() as session:
        again = await demo.load(session, settings)
        await session.commit()
    assert again["demo purchases created"] == 0
