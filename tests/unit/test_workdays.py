"""China working-day arithmetic with the real 2026 schedule (holidays.China)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from market import workdays
from market.clock import LOCAL_TZ


def test_national_day_2026_is_off_and_adjusted_days_work():
    for day in range(1, 8):
        assert not workdays.is_working_day(date(2026, 10, day)), day
    assert workdays.is_working_day(date(2026, 9, 20))  # Sunday, adjusted working day
    assert workdays.is_working_day(date(2026, 10, 10))  # Saturday, adjusted working day
    assert not workdays.is_working_day(date(2026, 10, 11))  # an ordinary Sunday
    assert not workdays.is_working_day(date(2026, 9, 25))  # Mid-Autumn Festival (a Friday)


def test_friday_before_national_day_skips_the_holiday():
    # Friday 2026-09-18: the adjusted Sunday 09-20 counts, 09-25 and 10-01..10-07 do not
    start = date(2026, 9, 18)
    assert workdays.add_working_days_to_date(start, 1) == date(2026, 9, 20)
    assert workdays.add_working_days_to_date(start, 8) == date(2026, 9, 30)
    assert workdays.add_working_days_to_date(start, 9) == date(2026, 10, 8)
    assert workdays.add_working_days_to_date(start, 11) == date(2026, 10, 10)  # the adjusted Saturday


def test_period_keeps_local_time_of_day():
    start = datetime(2026, 9, 30, 9, 30, tzinfo=LOCAL_TZ)
    end = workdays.add_period(start, 3)
    assert end.astimezone(LOCAL_TZ) == datetime(2026, 10, 10, 9, 30, tzinfo=LOCAL_TZ)
    assert end.tzinfo is not None


def test_due_date_is_end_of_last_working_day():
    signed = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # 10:00 in China
    due = workdays.due_date(signed, 2)
    local = due.astimezone(LOCAL_TZ)
    assert local.date() == date(2026, 10, 9)
    assert (local.hour, local.minute) == (23, 59)


def test_accelerator_counts_calendar_seconds():
    start = datetime(2026, 9, 30, 12, 0, tzinfo=UTC)
    assert workdays.add_period(start, 3, accelerator=86400) == start + timedelta(seconds=3)
    assert workdays.due_date(start, 10, accelerator=86400) == start + timedelta(seconds=10)
    assert workdays.add_period(start, 1, accelerator=2) == start + timedelta(hours=12)


dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31))


@given(start=dates, n=st.integers(min_value=1, max_value=60))
def test_nth_working_day_is_a_working_day_after_start(start: date, n: int):
    end = workdays.add_working_days_to_date(start, n)
    assert end > start
    assert workdays.is_working_day(end)
    assert workdays.working_days_between(start, end) == n


@given(start=dates, a=st.integers(min_value=0, max_value=30), b=st.integers(min_value=0, max_value=30))
def test_working_days_compose(start: date, a: int, b: int):
    once = workdays.add_working_days_to_date(start, a + b)
    twice = workdays.add_working_days_to_date(workdays.add_working_days_to_date(start, a), b)
    assert once == twice


@given(start=dates, n=st.integers(min_value=1, max_value=20))
def test_period_never_shorter_than_calendar_days(start: date, n: int):
    assert (workdays.add_working_days_to_date(start, n) - start).days >= n
