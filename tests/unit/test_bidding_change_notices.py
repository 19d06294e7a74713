"""The pure rules of change notices (issue 11.7): what changed, whether it is material, the deadline
a notice sets, the amended cap, and which bids wait for their bidder's confirmation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from bidding import rules
from bidding.models import InvalidReason
from listings.models import FeeType

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
BASE = rules.Amendable(
    description="编制环境影响报告表一份。", budget_cap=Decimal("50000.00"), bid_deadline=T0, service_days=20
)

moments = st.integers(min_value=0, max_value=10**7).map(lambda s: T0 + timedelta(seconds=s))
amendables = st.builds(
    rules.Amendable,
    description=st.sampled_from([BASE.description, "编制环境影响报告书一份，另附专项报告。"]),
    budget_cap=st.sampled_from([Decimal("50000.00"), Decimal("50000"), Decimal("45000.00")]),
    bid_deadline=st.sampled_from([T0, T0 + timedelta(days=1)]),
    service_days=st.sampled_from([20, 25]),
)


@given(amendables)
def test_changes_list_exactly_the_fields_that_differ_and_materiality_follows(after):
    found = rules.changes(BASE, after)
    names = [c.field for c in found]
    assert names == [n for n in rules.AMENDABLE if getattr(BASE, n) != getattr(after, n)]
    assert all(c.before == getattr(BASE, c.field) and c.after == getattr(after, c.field) for c in found)
    assert rules.is_material(found) == bool(set(names) - {"bid_deadline"})


def test_a_cap_written_differently_is_no_change():
    assert rules.changes(BASE, rules.Amendable(BASE.description, Decimal("50000"), T0, 20)) == []


@given(moments, moments, st.booleans())
def test_the_deadline_after_a_notice(requested, earliest, material):
    deadline = rules.deadline_after_change(requested, material=material, earliest=earliest)
    assert deadline >= requested
    if material:
        assert deadline >= earliest and deadline in (requested, earliest)
    else:
        assert deadline == requested


def test_the_amended_cap_keeps_the_fee_standard_and_the_floor():
    guided = FeeType.government_guided
    assert rules.cap_problem(Decimal("0"), None, guided, None) == "not_positive"
    assert rules.cap_problem(Decimal("10") ** 13, None, "market_regulated", None) == "too_large"
    assert rules.cap_problem(Decimal("60000"), None, guided, Decimal("50000")) == "fee_standard"
    assert rules.cap_problem(Decimal("60000"), None, "market_regulated", Decimal("50000")) is None
    assert rules.cap_problem(Decimal("20000"), Decimal("20000"), guided, Decimal("50000")) == "below_floor"
    assert rules.cap_problem(Decimal("20000.01"), Decimal("20000"), guided, Decimal("50000")) is None


@given(st.lists(moments, max_size=4), moments, st.data())
def test_a_bid_waits_for_confirmation_only_when_received_before_the_last_material_notice(published, received, data):
    notices = [(f"n{i}", at) for i, at in enumerate(published)]
    confirmed = set(data.draw(st.sets(st.sampled_from([n for n, _ in notices]))) if notices else set())
    waits = rules.needs_confirmation(received, notices, confirmed)
    if not notices:
        assert not waits
        return
    last_id, last_at = max(notices, key=lambda n: n[1])
    assert waits == (received < last_at and last_id not in confirmed)


def test_an_unconfirmed_bid_is_invalid_first_of_all():
    facts = rules.BidFacts(
        price=Decimal("1"), service_days=1, avoided=False, affiliated=False, qualified=True, unconfirmed=True
    )
    limits = rules.BidLimits(budget_cap=Decimal("10"), price_floor=None, service_days=5)
    assert rules.invalid_reason(facts, limits) == InvalidReason.not_confirmed_after_change
    ok = rules.BidFacts(price=Decimal("1"), service_days=1, avoided=False, affiliated=False, qualified=True)
    assert rules.invalid_reason(ok, limits) is None
