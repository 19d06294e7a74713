"""The published credit formula (listings.credit_rules), tested with hypothesis: the score stays
within 0–100, moves in each fact's direction, shrinks ratings toward the platform mean (one rating
of a new firm moves it less than ten would), and forgets facts three years old."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from listings.credit_rules import (
    DEFAULT_POLICY,
    CreditFactKind,
    FactIn,
    Grade,
    compute,
    expires_at,
    grade_at_least,
    grade_of,
    window_start,
    years_later,
)

AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
PENALTY_KINDS = [k for k in CreditFactKind if k not in (CreditFactKind.rating, CreditFactKind.violation)]
RATINGS = st.integers(min_value=100, max_value=500).map(lambda c: Decimal(c) / 100)
MEANS = st.one_of(st.none(), RATINGS)
RECENT = st.integers(min_value=0, max_value=3 * 365 - 2).map(lambda d: AT - timedelta(days=d))


@st.composite
def facts(draw: st.DrawFn) -> FactIn:
    kind = draw(st.sampled_from(list(CreditFactKind)))
    if kind == CreditFactKind.rating:
        value = draw(RATINGS)
    elif kind == CreditFactKind.violation:
        value = Decimal(draw(st.integers(min_value=0, max_value=100)))
    else:
        value = Decimal(1)
    occurred = draw(st.integers(min_value=-200, max_value=5 * 365).map(lambda d: AT - timedelta(days=d)))
    return FactIn(kind, occurred, value, draw(st.booleans()))


FACT_LISTS = st.lists(facts(), max_size=40)


@given(FACT_LISTS, MEANS)
def test_the_score_is_within_0_and_100_and_its_grade_follows_the_bounds(items, mean):
    result = compute(items, AT, mean)
    assert Decimal(0) <= result.score <= Decimal(100)
    assert result.score == result.score.quantize(Decimal("0.01"))
    assert result.grade == grade_of(result.score)
    assert len(result.effects) == len(items)


@given(FACT_LISTS, MEANS, st.sampled_from(PENALTY_KINDS), RECENT)
def test_a_penalty_fact_never_raises_the_score(items, mean, kind, when):
    before = compute(items, AT, mean).score
    after = compute([*items, FactIn(kind, when)], AT, mean).score
    assert after <= before
    if before > 0 and DEFAULT_POLICY.penalties[kind] > 0:
        # unclamped, it takes exactly its points (down to 0)
        assert after == max(Decimal(0), before - DEFAULT_POLICY.penalties[kind])


@given(FACT_LISTS, MEANS, st.integers(min_value=0, max_value=50), st.integers(min_value=1, max_value=50), RECENT)
def test_more_violation_points_never_raise_the_score(items, mean, points, more, when):
    low = compute([*items, FactIn(CreditFactKind.violation, when, Decimal(points))], AT, mean).score
    high = compute([*items, FactIn(CreditFactKind.violation, when, Decimal(points + more))], AT, mean).score
    assert high <= low


@given(FACT_LISTS, MEANS, RATINGS, RATINGS, RECENT)
def test_a_better_rating_never_lowers_the_score(items, mean, a, b, when):
    low, high = sorted((a, b))
    with_low = compute([*items, FactIn(CreditFactKind.rating, when, low)], AT, mean).score
    with_high = compute([*items, FactIn(CreditFactKind.rating, when, high)], AT, mean).score
    assert with_low <= with_high


@given(MEANS, RATINGS)
def test_one_rating_moves_a_new_firm_less_than_ten_and_less_than_an_unshrunk_average(mean, rating):
    nothing = compute([], AT, mean)
    m = nothing.mean

    def moved(n: int) -> Decimal:
        ratings = [FactIn(CreditFactKind.rating, AT - timedelta(days=i + 1), rating) for i in range(n)]
        return abs(compute(ratings, AT, mean).score - nothing.score)

    one, ten = moved(1), moved(10)
    if rating == m:
        assert one == ten == 0
        return
    assert one < ten
    unshrunk = DEFAULT_POLICY.rating_points / 4 * abs(rating - m)  # the raw average's move
    assert one < unshrunk
    # the firm's own average weighs n / (k + n) of its rating: 1/6 after one, 10/15 after ten
    k = DEFAULT_POLICY.prior_ratings
    assert abs(one - unshrunk / (k + 1)) <= Decimal("0.01")
    assert abs(ten - unshrunk * 10 / (k + 10)) <= Decimal("0.01")


@given(FACT_LISTS, FACT_LISTS, MEANS)
def test_facts_three_years_old_have_no_effect(items, old, mean):
    aged = [
        FactIn(f.kind, window_start(AT) - timedelta(days=i * 37 % 400), f.value, f.counts) for i, f in enumerate(old)
    ]
    assert compute([*items, *aged], AT, mean).score == compute(items, AT, mean).score
    assert all(e is None for e in compute(aged, AT, mean).effects)


def test_a_fact_counts_until_three_years_after_it_occurred():
    occurred = datetime(2024, 2, 29, 12, 0, tzinfo=UTC)
    late = [FactIn(CreditFactKind.delivery_late, occurred)]
    end = expires_at(occurred)
    assert end == datetime(2027, 2, 28, 12, 0, tzinfo=UTC)
    assert compute(late, end - timedelta(seconds=1), None).effects == (Decimal("-5.00"),)
    assert compute(late, end, None).effects == (None,)
    assert compute(late, end - timedelta(seconds=1), None).next_change_at == end
    assert compute(late, occurred - timedelta(seconds=1), None).effects == (None,)  # not yet


def test_facts_that_do_not_count_have_no_effect():
    under_appeal = FactIn(CreditFactKind.violation, AT - timedelta(days=1), Decimal(30), counts=False)
    assert compute([under_appeal], AT, None).score == compute([], AT, None).score


def test_published_bounds_and_the_new_firm():
    # a firm without a fact, on a platform whose mean rating is 4: 60 + 40 × 3/4
    assert compute([], AT, None).score == Decimal("90.00")
    assert compute([], AT, Decimal(3)).score == Decimal("80.00")
    assert [grade_of(Decimal(s)) for s in ("85", "84.99", "70", "69.99", "55", "54.99", "0")] == [
        Grade.A,
        Grade.B,
        Grade.B,
        Grade.C,
        Grade.C,
        Grade.D,
        Grade.D,
    ]
    assert grade_at_least("A", "C") and grade_at_least("C", "C") and not grade_at_least("D", "C")


def test_each_effect_is_explained_and_they_add_up():
    facts_ = [
        FactIn(CreditFactKind.rating, AT - timedelta(days=3), Decimal(5)),
        FactIn(CreditFactKind.rating, AT - timedelta(days=2), Decimal(2)),
        FactIn(CreditFactKind.refused_to_sign, AT - timedelta(days=1)),
    ]
    result = compute(facts_, AT, Decimal(4))
    # per rating: 10 × (r − 4) / (5 + 2)
    assert result.effects == (Decimal("1.43"), Decimal("-2.86"), Decimal("-15.00"))
    assert result.score == Decimal("73.57")
    assert result.grade == Grade.B
    assert result.shrunk_average == Decimal("3.86")
    assert years_later(AT, -3) == window_start(AT)
