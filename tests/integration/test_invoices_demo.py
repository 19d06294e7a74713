"""The demo marketplace end to end: the bidding demo's awards draft contracts (the award event),
and the contracts demo plays its stories on them — signed, delivered, returned and redelivered,
accepted, invoiced with a credit note, paid on time and paid late, rated both ways, one overdue,
one past its signing period."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from bidding.models import Purchase
from invoices import contracts
from invoices.demo import SCENARIOS
from invoices.models import Contract, Document, Invoice, Payment, Rating
from market.app import demo_loaders, wire
from market.audit.service import verify


async def _load(factory, settings) -> dict:
    summary: dict = {}
    async with factory() as session:
        for loader in demo_loaders():
            summary.update(await loader(session, settings))
        await session.commit()
    return summary


def _promised() -> Counter:
    """What the stories promise, read from the stories themselves: credit notes, payments (one per
    invoice a "pay" step settles), ratings, and the stories with a late payment."""
    counts: Counter = Counter()
    for scenario in SCENARIOS:
        invoices = 0
        for _offset, action, args in scenario.steps:
            invoices += action == "invoice"
            if action == "pay":
                counts["payments"] += 1 if args.get("which") == "first" else invoices
            counts[action] += 1
        counts["paid late"] += scenario.key == "paid-late"
    return counts


async def test_demo_contracts_come_from_awards_and_tell_every_story(factory, settings):
    wire(settings)  # what the app and the CLI do: subscribe invoices to the award
    summary = await _load(factory, settings)
    promised = _promised()
    assert summary["demo contracts with a history"] == len(SCENARIOS), summary
    async with factory() as session:
        rows = list(await session.scalars(select(Contract).order_by(Contract.number)))
        purchases = {p.id: p for p in await session.scalars(select(Purchase))}
        # every contract belongs to an awarded purchase, which shows it
        assert rows and all(purchases[c.purchase_id].contract_id == c.id for c in rows)
        assert all(c.purchase_ref == purchases[c.purchase_id].ref for c in rows)
        # signed contracts made their purchases contracted
        for c in rows:
            expected = "contracted" if c.signed_at is not None else "awarded"
            assert purchases[c.purchase_id].status == expected, (c.number, c.status)
        flags = Counter(flag for c in rows for flag in contracts.flags_of(c, settings))
        statuses = Counter(c.status for c in rows)
        assert flags["overdue"] >= 1 and flags["paid_late"] == promised["paid late"], flags
        assert flags["signing_overdue"] >= 1, flags
        assert statuses["accepted"] >= 2 and statuses["delivered"] >= 1 and statuses["draft"] >= 1, statuses
        paid = [c for c in rows if c.paid_total and c.paid_total == c.amount]
        assert paid and all(contracts.days_to_payment(c) is not None for c in paid)
        credit_notes = select(func.count()).select_from(Invoice).where(Invoice.kind == "credit_note")
        assert await session.scalar(credit_notes) == promised["credit"]
        assert await session.scalar(select(func.count()).select_from(Payment)) == promised["payments"]
        assert await session.scalar(select(func.count()).select_from(Rating)) == promised["rate"]
        assert (await verify(session)).ok
        # numbers follow the drafting order
        drafted = [c.drafted_at for c in rows]
        assert drafted == sorted(drafted)
    again = await _load(factory, settings)
    assert again["demo contracts"] == "already loaded"
    async with factory() as session:
        assert await session.scalar(select(func.count()).select_from(Document)) == 0  # rendered later, by the worker
