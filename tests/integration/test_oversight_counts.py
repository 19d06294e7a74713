"""The finance summary's red-flag counts (oversight.counts: SQL counts, a few columns and the pure
rules, never the flags) are exactly the counts of the flags the rules build over every loaded
purchase (``rules.count_by(rules.all_flags(...))``), per code and per severity: on the demo county,
on generated data at moments when contracts are overdue and paid late, and at the edges (a void
contract, a payment term computed or paid on its last day, two identical-price groups in one
purchase, two upheld objections, a split group's window boundary)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.models import Bid, BidStatus, Objection, ObjectionStatus, Purchase
from invoices.models import Contract, ContractStatus
from market import clock
from market import db as dbmod
from market.clock import LOCAL_TZ
from market.identity.models import User
from oversight import bulk, counts, rules, services
from oversight.facts import Period, load

pytestmark = pytest.mark.demo
PERIODS = (Period(), Period(date(2026, 1, 1), None), Period(None, date(2026, 1, 1)))


async def _counted(factory, settings, period: Period = Period()) -> dict[str, int]:
    """The counts, checked against the flags the rules build over the whole period (at the
    clock's moment, which both read)."""
    async with factory() as session:
        snapshot = await load(session, settings, period)
        flags = rules.all_flags(snapshot.purchases, snapshot.firms, rules.Thresholds.of(settings))
        got = await counts.flag_counts(session, settings, period)
    assert got == rules.count_by(flags, lambda f: f.code), period
    assert counts.severity_counts(got) == rules.count_by(flags, lambda f: f.severity), period
    return got


async def _unfreeze(session: AsyncSession, table: str) -> None:
    """Lift the triggers that freeze ``table``'s rows, in this test's own database, to set up an edge."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        return
    names = await session.scalars(
        text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"), {"t": table}
    )
    for name in list(names):
        await session.execute(text(f'DROP TRIGGER "{name}"'))


async def _purchase(session: AsyncSession, ref: str) -> Purchase:
    found = await session.scalar(select(Purchase).where(Purchase.ref == ref))
    assert found is not None, ref
    return found


async def test_the_counts_are_those_of_the_flags_on_the_demo(engine, factory, settings):
    for period in PERIODS:
        found = await _counted(factory, settings, period)
        if period == Period():
            got = found
            assert set(got) >= {
                "split_purchase",
                "identical_prices",
                "linked_bidders",
                "single_bid",
                "direct_selection",
                "low_price",
                "quality_marks_decided",
                "objection_upheld",
                "payment_overdue",
                "paid_late",
                "concentration",
                "linked_firms",
            }, got
    async with factory() as session:
        summary = await services.summary(session, settings, None, Period())
    assert summary.flag_counts == got
    assert summary.severity_counts == counts.severity_counts(got)
    assert summary.timeliness.paid_late == got["paid_late"]
    # the parts run at once on sessions of their own: the same summary
    async with factory() as session:
        parallel = await services.summary(session, settings, None, Period(), dbmod.read_session_factory(engine))
    assert parallel == summary


async def test_the_counts_are_those_of_the_flags_on_generated_data(factory, settings):
    """A few hundred generated purchases (many contracts late, split candidates), counted now and
    at later moments when more contracts are overdue and payments late."""
    await bulk.generate(factory, 300, seed=11)
    start = clock.now()
    seen: dict[str, int] = {}
    for later in (timedelta(0), timedelta(days=45), timedelta(days=400)):
        clock.freeze(start + later)
        got = await _counted(factory, settings)
        await _counted(factory, settings, Period(date(2026, 6, 1), None))
        for code, n in got.items():
            seen[code] = max(seen.get(code, 0), n)
    for code in ("split_purchase", "overdue", "payment_overdue", "paid_late", "identical_prices"):
        assert seen.get(code, 0) > 0, (code, seen)


async def test_a_void_contract_carries_no_flag(factory, settings):
    before = await _counted(factory, settings)
    assert before.get("signing_overdue") == 1
    async with factory() as session:
        user = await session.scalar(select(User.id).limit(1))
        unsigned = list(
            await session.scalars(
                select(Contract.id).where(Contract.signed_at.is_(None), Contract.status != ContractStatus.void)
            )
        )
        await _unfreeze(session, "contracts")
        await session.execute(
            update(Contract)
            .where(Contract.id.in_(unsigned))
            .values(
                status=ContractStatus.void,
                voided_at=clock.now(),
                voided_by=user,
                void_reason="edge",
                owner_signed_at=None,
                provider_signed_at=None,
            )
        )
        await session.commit()
    after = await _counted(factory, settings)
    assert "signing_overdue" not in after
    async with factory() as session:  # nor is it a contract in the summary's timeliness
        snapshot = await load(session, settings)
        summary = await services.summary(session, settings, None, Period())
    assert summary.timeliness == rules.timeliness(snapshot.purchases)


async def test_a_payment_term_computed_or_paid_on_its_last_day(factory, settings):
    """Accepted contracts without a stored payment term (computed from acceptance), and payments
    made on the term's last day (in time) and a day later (late), recorded after it."""
    async with factory() as session:
        await _unfreeze(session, "contracts")
        paid = list(
            (
                await session.execute(
                    select(Contract.id, Contract.payment_due_at).where(
                        Contract.paid_on.is_not(None), Contract.payment_due_at.is_not(None)
                    )
                )
            ).all()
        )
        assert len(paid) >= 2
        for i, (cid, due) in enumerate(paid):
            last_day = due.astimezone(LOCAL_TZ).date()
            await session.execute(
                update(Contract)
                .where(Contract.id == cid)
                .values(paid_on=last_day + timedelta(days=i % 2), paid_recorded_at=due + timedelta(hours=1))
            )
        await session.commit()
    on_last_day = await _counted(factory, settings)
    assert on_last_day.get("paid_late") == len(paid) // 2
    async with factory() as session:
        await session.execute(update(Contract).where(Contract.accepted_at.is_not(None)).values(payment_due_at=None))
        await session.commit()
    assert await _counted(factory, settings) == on_last_day


async def test_two_identical_price_groups_and_two_upheld_objections_in_one_purchase(factory, settings):
    before = await _counted(factory, settings)
    async with factory() as session:
        p = await _purchase(session, "CG-2026-000005")
        bids = list(
            await session.scalars(
                select(Bid).where(Bid.purchase_id == p.id, Bid.status == BidStatus.active).order_by(Bid.price)
            )
        )
        assert len({b.provider_id for b in bids}) == 4
        objection = await session.scalar(
            select(Objection).where(Objection.purchase_id == p.id, Objection.status == ObjectionStatus.upheld)
        )
        assert objection is not None
        await _unfreeze(session, "bids")
        for b, price in zip(bids, (bids[0].price, bids[0].price, bids[2].price, bids[2].price), strict=True):
            await session.execute(update(Bid).where(Bid.id == b.id).values(price=price))
        other = next(b.provider_id for b in bids if b.provider_id != objection.provider_id)
        session.add(
            Objection(
                id=uuid.uuid4(),
                purchase_id=p.id,
                selection_id=objection.selection_id,
                provider_id=other,
                reason="A second objection, upheld as well.",
                filed_at=objection.filed_at,
                status=ObjectionStatus.upheld,
                decision="Upheld.",
                decided_at=objection.decided_at,
            )
        )
        await session.commit()
    after = await _counted(factory, settings)
    assert after["objection_upheld"] == before["objection_upheld"] + 1
    assert after["identical_prices"] >= 2


async def test_a_split_group_at_its_window_boundary(factory, settings):
    """Three purchases of one owner and item that only together pass the threshold: the last one
    published exactly the window after the first is in the group; a second later, none is."""
    assert (await _counted(factory, settings))["split_purchase"] == 3
    window = rules.Thresholds.of(settings).split_window
    async with factory() as session:
        first = await _purchase(session, "CG-2026-000019")
        start: datetime = first.published_at  # type: ignore[assignment]
    for shift, flagged in ((timedelta(0), 3), (timedelta(seconds=1), 0)):
        async with factory() as session:
            await _unfreeze(session, "purchases")
            await session.execute(
                update(Purchase).where(Purchase.ref == "CG-2026-000021").values(published_at=start + window + shift)
            )
            await session.commit()
        assert (await _counted(factory, settings)).get("split_purchase", 0) == flagged, shift
