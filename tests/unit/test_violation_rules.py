"""The published rules of violation points (listings.violation_rules): when points count, the
12-month window and the thresholds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from listings.violation_rules import (
    BLACKLIST_POINTS,
    CATEGORIES,
    MAX_POINTS,
    SUSPENSION_POINTS,
    WINDOW_DAYS,
    PointsState,
    Sanction,
    ViolationStatus,
    counting_points,
    counts_at,
    may_appeal,
    sanction_for,
)

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
DUE = T0 + timedelta(days=14)


def violation(points: int = 4, status: ViolationStatus = ViolationStatus.appealable, at: datetime = T0) -> PointsState:
    return PointsState(points=points, status=status, recorded_at=at, appeal_due_at=at + timedelta(days=14))


def test_the_published_categories_are_within_the_bounds():
    assert len({c.code for c in CATEGORIES}) == len(CATEGORIES)
    assert all(1 <= c.points <= MAX_POINTS for c in CATEGORIES)
    assert SUSPENSION_POINTS < BLACKLIST_POINTS <= MAX_POINTS * 2


def test_points_count_only_when_final():
    open_one = violation()
    assert not counts_at(open_one, T0) and may_appeal(open_one, T0)
    # the window closes: final (the worker writes it; the reading agrees before it does)
    assert counts_at(open_one, DUE) and not may_appeal(open_one, DUE)
    assert not counts_at(violation(status=ViolationStatus.under_appeal), DUE + timedelta(days=100))
    assert not counts_at(violation(status=ViolationStatus.upheld), DUE + timedelta(days=100))
    assert counts_at(violation(status=ViolationStatus.dismissed), T0)
    assert counts_at(violation(status=ViolationStatus.final), T0)
    for status in (
        ViolationStatus.under_appeal,
        ViolationStatus.upheld,
        ViolationStatus.dismissed,
        ViolationStatus.final,
    ):
        assert not may_appeal(violation(status=status), T0)  # once only


def test_points_older_than_twelve_months_stop_counting():
    v = violation(6, ViolationStatus.final)
    assert counting_points([v], T0 + timedelta(days=WINDOW_DAYS - 1)) == 6
    assert counting_points([v], T0 + timedelta(days=WINDOW_DAYS)) == 0
    assert counting_points([v], T0 - timedelta(seconds=1)) == 0  # not recorded yet


statuses = st.sampled_from(list(ViolationStatus))
violations = st.lists(
    st.builds(
        violation,
        points=st.integers(1, MAX_POINTS),
        status=statuses,
        at=st.integers(0, 800).map(lambda d: T0 + timedelta(days=d)),
    ),
    max_size=12,
)


@given(violations, st.integers(0, 900))
def test_counting_points_are_the_final_points_of_the_window(items, day):
    at = T0 + timedelta(days=day)
    total = counting_points(items, at)
    assert 0 <= total <= sum(v.points for v in items)
    # an upheld or pending appeal never adds; dismissing one never takes away
    upheld = [PointsState(v.points, ViolationStatus.upheld, v.recorded_at, v.appeal_due_at) for v in items]
    assert counting_points(upheld, at) == 0
    dismissed = [
        PointsState(v.points, ViolationStatus.dismissed, v.recorded_at, v.appeal_due_at)
        if v.status == ViolationStatus.under_appeal
        else v
        for v in items
    ]
    assert counting_points(dismissed, at) >= total


@given(st.integers(0, 100), st.integers(0, 100))
def test_the_sanction_grows_with_the_points(a, b):
    order = [Sanction.none, Sanction.suspension, Sanction.blacklist]
    low, high = sorted((a, b))
    assert order.index(sanction_for(low)) <= order.index(sanction_for(high))
    assert sanction_for(SUSPENSION_POINTS - 1) == Sanction.none
    assert sanction_for(SUSPENSION_POINTS) == Sanction.suspension
    assert sanction_for(BLACKLIST_POINTS) == Sanction.blacklist
