"""The finance summary's figures aggregated by the database (oversight.sums) are the same as the
rules computed over every loaded purchase (oversight.rules over oversight.facts.load), on the demo
county, for every grouping, for the whole time and for a period."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from invoices import contracts
from invoices import rules as invoice_rules
from invoices.models import Contract
from market import clock
from oversight import rules, services, sums
from oversight.facts import Period, load

pytestmark = pytest.mark.demo


def _figures(row: rules.Spending) -> tuple:
    return (
        row.key,
        row.purchases,
        row.in_progress,
        row.awarded,
        row.failed,
        row.cancelled,
        row.cap_awarded,
        row.awarded_amount,
        row.contracted,
        row.contracted_amount,
        row.invoiced,
        row.paid,
        row.savings,
        row.savings_pct,
    )


@pytest.mark.parametrize("group_by", rules.GROUPINGS)
async def test_the_sql_summary_is_the_python_summary(factory, settings, group_by):
    async with factory() as session:
        for period in (Period(), Period(date(2026, 1, 1), None), Period(None, date(2026, 1, 1))):
            snapshot = await load(session, settings, period)
            expected = services.summarize(snapshot, settings, group_by)
            got = await services.summary(session, settings, group_by, period)
            if period == Period():
                assert snapshot.purchases, "the demo county has published purchases"
                assert len(expected.rows) > 1 or group_by == "funding", group_by
            assert [_figures(r) for r in got.rows] == [_figures(r) for r in expected.rows], (group_by, period)
            assert _figures(got.totals) == _figures(expected.totals), period
            assert got.competition == expected.competition, period
            assert [got.label(r) for r in got.rows] == [expected.label(r) for r in expected.rows]
            assert got.timeliness == expected.timeliness
            assert got.flag_counts == expected.flag_counts


async def test_a_month_is_counted_in_china_time(factory, settings):
    """The month key is the China month (UTC+8), as the books count it."""
    async with factory() as session:
        snapshot = await load(session, settings)
        months = {rules.month_of(p.published_at) for p in snapshot.purchases}
        rows = await sums.spending(session, Period(), "month")
    assert {r.key for r in rows} == months
    assert sum(r.purchases for r in rows) == len(snapshot.purchases)


async def test_accepted_contracts_store_their_payment_term_and_sql_finds_the_overdue(factory, settings):
    """Acceptance stores the payment term's end; the payment-overdue flag's SQL filter on it finds
    exactly the contracts the flag rule raises it for (no per-row deadline computing)."""
    now = clock.now()
    async with factory() as session:
        rows = list(await session.scalars(select(Contract)))
        accepted = [c for c in rows if c.accepted_at is not None]
        assert accepted, "the demo tells accepted contracts"
        for c in accepted:
            assert c.payment_due_at == invoice_rules.payment_deadline(
                c.accepted_at, c.payment_days, settings.accelerator
            ), c.number
        flagged = {c.id for c in rows if invoice_rules.FLAG_PAYMENT_OVERDUE in contracts.flags_of(c, settings, now)}
        found = set(
            await session.scalars(
                select(Contract.id).where(contracts.flag_prefilter(invoice_rules.FLAG_PAYMENT_OVERDUE, now))
            )
        )
    assert found == flagged


@pytest.mark.parametrize("whole_share", [1.0, 0.0])
async def test_the_flags_from_sql_candidates_are_the_flags_over_the_whole_period(
    factory, settings, monkeypatch, whole_share
):
    """The red flags computed over the candidates the database picks (oversight.candidates) are
    exactly those the rules find over every loaded purchase — the same codes, subjects and data —
    for the whole time and for periods; every flagged purchase is a candidate, and the candidates
    are fewer than the period's purchases. (With ``WHOLE_PERIOD_SHARE`` 0 the period is loaded
    whole, as when most of it is flagged: the same flags.)"""
    monkeypatch.setattr(services, "WHOLE_PERIOD_SHARE", whole_share)
    t = rules.Thresholds.of(settings)
    async with factory() as session:
        for period in (Period(), Period(date(2026, 1, 1), None), Period(None, date(2026, 1, 1))):
            snapshot = await load(session, settings, period)
            expected = rules.all_flags(snapshot.purchases, snapshot.firms, t)
            picked, got = await services.flagged(session, settings, period)
            assert got == expected, period
            flagged = {f.subject_id for f in expected if f.subject == "purchase"}
            assert flagged <= {p.id for p in picked.purchases}
            if period == Period():
                assert {f.code for f in expected} >= {"split_purchase", "single_bid", "direct_selection"}
                assert len(picked.purchases) < len(snapshot.purchases) or whole_share == 0.0
            report = await services.red_flags(session, settings, period, services.FlagFilter(kind="firm"))
            assert report.chosen == [f for f in expected if f.subject == "firm"]
