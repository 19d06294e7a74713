"""The time engine's schedule and the opening's bid checks, as pure rules (hypothesis).

The engine persists ``next_check_at`` and applies due transitions from one function,
:func:`bidding.rules.due_transitions`; these tests hold that the two can never disagree: a
purchase has something due exactly when its next check has come.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bidding import rules
from bidding.models import PurchaseStatus
from bidding.rules import BidFacts, BidLimits, InvalidReason, Timing, Transition
from market.errors import InvalidInput

S = PurchaseStatus
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
MOMENTS = st.integers(min_value=-10_000, max_value=10_000).map(lambda s: T0 + timedelta(seconds=s))
TIMINGS = st.builds(
    Timing,
    status=st.sampled_from(list(S)).map(str),
    bid_deadline=MOMENTS,
    explanation_due_at=st.none() | MOMENTS,
    publicity_ends_at=st.none() | MOMENTS,
    objection_pending=st.booleans(),
)
# the move each transition makes (the expiry fails the purchase when too few valid bids are left)
MOVES = {Transition.close: S.evaluating, Transition.expire_explanations: S.failed, Transition.award: S.awarded}


@given(t=TIMINGS, now=MOMENTS)
def test_scheduling_and_applying_cannot_disagree(t, now):
    due = rules.due_transitions(t)
    check = rules.next_check(t)
    # the persisted next check is the first due moment, or nothing when nothing awaits
    assert check == (min(at for at, _ in due) if due else None)
    # something is due exactly when the next check has come
    assert bool(rules.due_now(t, now)) == (check is not None and check <= now)
    # and what is due is what the schedule lists up to now, in the order it falls due
    assert rules.due_now(t, now) == [transition for at, transition in sorted(due) if at <= now]


@given(t=TIMINGS)
def test_each_status_awaits_only_its_own_transition(t):
    due = rules.due_transitions(t)
    expected: list[tuple[datetime, Transition]] = []
    if t.status == S.open:
        expected = [(t.bid_deadline, Transition.close)]
    elif t.status == S.evaluating and t.explanation_due_at is not None:
        expected = [(t.explanation_due_at, Transition.expire_explanations)]
    elif t.status == S.publicity and t.publicity_ends_at is not None and not t.objection_pending:
        expected = [(t.publicity_ends_at, Transition.award)]
    assert due == expected
    # every transition the schedule lists is an allowed move of the state machine
    for _at, transition in due:
        assert rules.can_move(t.status, MOVES[transition])


def test_a_pending_objection_holds_the_award_and_its_decision_releases_it():
    waiting = Timing(S.publicity, T0, publicity_ends_at=T0 + timedelta(days=3), objection_pending=True)
    assert rules.due_transitions(waiting) == [] and rules.next_check(waiting) is None
    decided = Timing(S.publicity, T0, publicity_ends_at=T0 + timedelta(days=3), objection_pending=False)
    assert rules.next_check(decided) == T0 + timedelta(days=3)
    assert rules.due_now(decided, T0 + timedelta(days=3)) == [Transition.award]
    assert rules.due_now(decided, T0 + timedelta(days=3) - timedelta(microseconds=1)) == []


def test_finished_purchases_await_nothing():
    for status in (S.draft, S.awarded, S.contracted, S.cancelled, S.failed):
        t = Timing(status, T0, T0, T0, objection_pending=False)
        assert rules.due_transitions(t) == [] and rules.next_check(t) is None


# --- the validity of a bid at the opening -------------------------------------------------------

PRICES = st.integers(min_value=1, max_value=200_000_00).map(lambda cents: Decimal(cents) / 100)
BIDS = st.builds(
    BidFacts,
    price=PRICES,
    service_days=st.integers(min_value=1, max_value=60),
    avoided=st.booleans(),
    affiliated=st.booleans(),
    qualified=st.booleans(),
)
LIMITS = st.builds(
    BidLimits,
    budget_cap=PRICES,
    price_floor=st.none() | PRICES,
    service_days=st.integers(min_value=1, max_value=60),
)


@given(bid=BIDS, limits=LIMITS)
def test_a_bid_is_invalid_for_the_first_reason_that_applies(bid, limits):
    reasons = [
        (bid.avoided, InvalidReason.avoided),
        (bid.affiliated, InvalidReason.affiliated),
        (not bid.qualified, InvalidReason.not_qualified),
        (
            bid.price > limits.budget_cap or (limits.price_floor is not None and bid.price < limits.price_floor),
            InvalidReason.price_out_of_range,
        ),
        (bid.service_days > limits.service_days, InvalidReason.service_days),
    ]
    expected = next((reason for applies, reason in reasons if applies), None)
    assert rules.invalid_reason(bid, limits) == expected


def test_the_limits_of_a_valid_bid_are_inclusive():
    limits = BidLimits(budget_cap=Decimal("50000.00"), price_floor=Decimal("20000.00"), service_days=15)

    def bid(price: str, days: int = 15) -> BidFacts:
        return BidFacts(Decimal(price), days, avoided=False, affiliated=False, qualified=True)

    assert rules.invalid_reason(bid("50000.00"), limits) is None
    assert rules.invalid_reason(bid("20000.00"), limits) is None
    assert rules.invalid_reason(bid("50000.01"), limits) == InvalidReason.price_out_of_range
    assert rules.invalid_reason(bid("19999.99"), limits) == InvalidReason.price_out_of_range
    assert rules.invalid_reason(bid("30000.00", 16), limits) == InvalidReason.service_days
    # the owner's own organisation on its avoid list is refused as avoided, the first reason
    both = BidFacts(Decimal("30000.00"), 10, avoided=True, affiliated=True, qualified=False)
    assert rules.invalid_reason(both, limits) == InvalidReason.avoided


# --- the bounds of what people type ---------------------------------------------------------------


def test_text_is_trimmed_and_bounded():
    assert rules.text("  项目暂缓实施  ", "reason", shortest=5, longest=10, too_short="短") == "项目暂缓实施"
    for value, message in (("不", "短"), ("长" * 11, "最多 10 个字符。"), ("项目\x00暂缓实施", "不能包含控制字符。")):
        with pytest.raises(InvalidInput) as refused:
            rules.text(value, "reason", shortest=2, longest=10, too_short="短")
        assert [(e.field, e.message) for e in refused.value.errors] == [("reason", message)]


def test_amounts_fit_numeric_14_2():
    assert rules.amount_in_range(Decimal("999999999999.99"))
    assert not rules.amount_in_range(Decimal("1000000000000.00"))
    assert not rules.amount_in_range(Decimal("Infinity")) and not rules.amount_in_range(Decimal("NaN"))


@given(TIMINGS, MOMENTS)
def test_effective_status_is_closing_exactly_when_the_close_is_due(t: Timing, now: datetime) -> None:
    """Reads show an open purchase past its deadline as closing (its bids still sealed) without
    writing; every other status reads as stored until the worker records a transition."""
    effective = rules.effective_status(t, now)
    if t.status == S.open and t.bid_deadline <= now:
        assert effective == rules.CLOSING
    else:
        assert effective == t.status
    assert (effective == rules.CLOSING) == (Transition.close in rules.due_now(t, now))


def test_effective_status_at_the_deadline() -> None:
    t = Timing(status=S.open, bid_deadline=T0)
    assert rules.effective_status(t, T0 - timedelta(microseconds=1)) == "open"
    assert rules.effective_status(t, T0) == "closing"
