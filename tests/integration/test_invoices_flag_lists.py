"""The contracts' flag lists and counts are decided by the database (issue 12: `/finance/contracts`
loaded every flagged contract of a province, six times, to count and page them in Python): for
every flag, at several moments, on generated data, the SQL lists, their order, their totals and the
counts are those of the rule (:func:`invoices.contracts.flags_of`) over every contract — including
accepted contracts without a stored payment term, which the rule decides."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from invoices import contracts
from invoices import rules as invoice_rules
from invoices.models import Contract, ContractStatus
from market import clock
from market.actor import Actor
from market.app import wire
from oversight import bulk

pytestmark = pytest.mark.demo
FINANCE = Actor(user_id=None, org_id=None, role="finance")


def _expected(rows: list[Contract], settings, flags: tuple[str, ...]) -> list[Contract]:
    """The former Python ranking: by the first of ``flags`` carried, newest first within."""
    ranked = []
    for c in rows:
        carried = contracts.flags_of(c, settings, clock.now())
        rank = next((i for i, f in enumerate(flags) if f in carried), None)
        if rank is not None:
            ranked.append((rank, c))
    out: list[Contract] = []
    for r in sorted({r for r, _c in ranked}):
        out += sorted(
            sorted((c for rr, c in ranked if rr == r), key=lambda c: c.number, reverse=True),
            key=lambda c: c.drafted_at,
            reverse=True,
        )
    return out


async def test_flag_lists_and_counts_equal_the_rule(factory, settings):
    wire(settings)
    await bulk.generate(factory, 120, seed=11)
    async with factory() as session:
        accepted = list(
            await session.scalars(
                select(Contract.id).where(Contract.accepted_at.is_not(None), Contract.status != ContractStatus.void)
            )
        )
        assert len(accepted) > 4
        # rows accepted before the term was stored: the rule decides their payment flags
        await session.execute(update(Contract).where(Contract.id.in_(accepted[:4])).values(payment_due_at=None))
        await session.commit()
    start = clock.now()
    try:
        for days in (0, 20, 60, 400):
            clock.freeze(start + timedelta(days=days))
            async with factory() as session:
                every = list(await session.scalars(select(Contract)))
                counts = await contracts.flag_counts(session, FINANCE, settings)
                for flag in invoice_rules.FLAGS:
                    want = _expected(every, settings, (flag,))
                    assert counts[flag] == len(want), (days, flag)
                    rows, total = await contracts.list_contracts(session, FINANCE, settings, flag=flag, limit=1000)
                    assert total == len(want) and [c.id for c in rows] == [c.id for c in want], (days, flag)
                    if len(want) > 3:  # a page in the middle, and its total
                        rows, total = await contracts.list_contracts(
                            session, FINANCE, settings, flag=flag, limit=2, offset=1
                        )
                        assert [c.id for c in rows] == [c.id for c in want[1:3]] and total == len(want)
                want = _expected(every, settings, contracts.ATTENTION)
                rows, total = await contracts.needing_attention(session, FINANCE, settings, limit=1000)
                assert total == len(want) and [c.id for c in rows] == [c.id for c in want], days
                rows, total = await contracts.needing_attention(session, FINANCE, settings, limit=3, offset=2)
                assert [c.id for c in rows] == [c.id for c in want[2:5]] and total == len(want), days
                assert sum(counts.values()) > 0
    finally:
        clock.freeze(None)
