"""The demo loader: contracts signed, delivered, accepted, invoiced and paid, one overdue, one paid
late; from synthetic awards now, and from the award event's contracts once bidding is merged."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from invoices import contracts, demo
from invoices.contracts import Award
from invoices.models import Contract, Document, Invoice, Payment, Rating
from market import clock, events
from market.actor import SYSTEM
from market.app import wire
from market.audit.service import verify
from tests.integration.helpers import award, make_parties


async def test_synthetic_demo_tells_every_story_and_is_idempotent(factory, settings):
    async with factory() as session:
        summary = await demo.load(session, settings)
        await session.commit()
    assert summary["demo contracts (synthetic awards, flagged demo)"] == 7
    async with factory() as session:
        rows = list(await session.scalars(select(Contract).order_by(Contract.number)))
        flags = {c.title: contracts.flags_of(c, settings) for c in rows}
        statuses = {c.title: c.status for c in rows}
        assert all(c.demo and c.purchase_ref.startswith("DEMO-") for c in rows)
        assert flags["乡村振兴产业园水土保持方案编制"] == ["overdue"]
        assert flags["县第二人民医院门诊楼房产测绘"] == ["paid_late"]
        assert flags["城南片区建设用地地质灾害危险性评估"] == []
        assert flags["云岭中学教学楼防雷装置设计技术评价"] == ["signing_overdue"]
        assert statuses["县城污水处理厂提标改造环境影响评价"] == "delivered"
        assert statuses["滨河路建设工程规划放线测量"] == "draft"
        paid = next(c for c in rows if c.title == "城南片区建设用地地质灾害危险性评估")
        assert paid.paid_total == paid.amount and contracts.days_to_payment(paid) is not None
        assert await session.scalar(select(func.count()).select_from(Invoice).where(Invoice.kind == "credit_note")) == 1
        assert await session.scalar(select(func.count()).select_from(Payment)) == 3
        assert await session.scalar(select(func.count()).select_from(Rating)) == 4
        assert (await verify(session)).ok
        # numbers follow the drafting order
        drafted = [c.drafted_at for c in rows]
        assert drafted == sorted(drafted)
    async with factory() as session:
        assert await demo.load(session, settings) == {"demo contracts": "already loaded"}
        assert await session.scalar(select(func.count()).select_from(Document)) == 0  # rendered later, by the worker


async def test_demo_plays_on_contracts_drafted_by_the_award_event(factory, settings):
    """Once bidding's demo awards purchases, their contracts are drafted by the event; the loader
    then plays the stories on them (steps in the future are left for real time)."""
    wire()  # what the app and the CLI do: subscribe invoices to purchase.awarded
    owner, provider = await make_parties(factory)
    async with factory() as session:
        for days_ago in (90, 3):
            the_award = award(owner, provider)
            with clock.frozen(clock.now() - timedelta(days=days_ago)):
                await events.emit(
                    session,
                    "purchase.awarded",
                    **{f: getattr(the_award, f) for f in Award.__dataclass_fields__},
                )
        await session.commit()
    async with factory() as session:
        summary = await demo.load(session, settings)
        await session.commit()
    assert summary.get("demo contracts (from awarded purchases)") == 2, summary
    async with factory() as session:
        rows = list(await session.scalars(select(Contract).order_by(Contract.drafted_at)))
        assert [c.demo for c in rows] == [False, False]
        old, recent = rows
        # the first story (paid, rated) fits in 90 days; the second's steps mostly lie ahead
        assert old.status == "accepted" and old.paid_total == old.amount
        assert recent.signed_at is not None and recent.status == "signed"
        assert (
            await contracts.draft_contract(
                session, SYSTEM, award(owner, provider, purchase_id=old.purchase_id), settings
            )
            == old
        )
