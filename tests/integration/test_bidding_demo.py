"""The bidding demo: purchases in every state through the real services, idempotent, verifiable."""

from __future__ import annotations

from sqlalchemy import func, select

from bidding import demo, selecting
from bidding.models import Objection, Purchase
from market import audit
from market import demo as core_demo
from tests.integration.helpers import make_catalog_item, make_user, qualify


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
    async with factory() as session:
        # one purchase per scenario, plus the new round of the republished one
        first_rounds = await session.scalar(
            select(func.count()).select_from(Purchase).where(Purchase.previous_id.is_(None))
        )
        assert summary["demo purchases created"] == first_rounds > 0, summary
        states = set(await session.scalars(select(Purchase.status).distinct()))
        assert {"draft", "open", "evaluating", "publicity", "awarded", "cancelled", "failed"} <= states, states
        objections = set(await session.scalars(select(Objection.status).distinct()))
        assert {"pending", "upheld"} <= objections, objections
        awarded_random = await session.scalar(
            select(Purchase).where(Purchase.status == "awarded", Purchase.method == "random").limit(1)
        )
        checks = await selecting.verify_purchase(session, awarded_random)
        assert checks and all(c.verification.ok for c in checks)
        assert (await audit.verify(session)).ok
        total = await session.scalar(select(func.count()).select_from(Purchase))
    # idempotent
    async with factory() as session:
        again = await demo.load(session, settings)
        await session.commit()
    assert again["demo purchases created"] == 0
    async with factory() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == total
