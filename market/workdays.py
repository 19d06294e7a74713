"""China working-day arithmetic for rule periods and service time limits (SPEC §4).

Working days follow the State Council's schedule as published in ``holidays.China``:
statutory holidays are off, and the adjusted weekend days (调休上班) are working days.

Some terms count calendar days instead (the payment term of 保障中小企业款项支付条例):
:func:`calendar_due_date` ends them at the end of the local day, holidays included.

With an accelerator N > 1 (demos and black-box tests only; refused in production) a period of
``d`` working (or calendar) days becomes ``d * 86400 / N`` calendar seconds, so that with N = 86400 a day
lasts one second.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta

import holidays

from market.clock import LOCAL_TZ, ensure_aware

SECONDS_PER_DAY = 86400


@functools.lru_cache(maxsize=1)
def _china() -> holidays.HolidayBase:
    # years are filled in lazily by the library as dates are looked up
    return holidays.country_holidays("CN")


def is_working_day(day: date) -> bool:
    return bool(_china().is_working_day(day))


def add_working_days_to_date(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself is not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    if days == 0:
        return start
    return _china().get_nth_working_day(start, days)


def working_days_between(start: date, end: date) -> int:
    """How many working days lie after ``start`` up to and including ``end``."""
    if end <= start:
        return 0
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def add_period(start: datetime, days: int, accelerator: int = 1) -> datetime:
    """The moment a rule period of ``days`` working days that begins at ``start`` ends.

    Unaccelerated, the period ends at the same local time of day on the ``days``-th working day
    after the start date. Accelerated, it is ``days * 86400 / accelerator`` seconds later.
    """
    start = ensure_aware(start)
    if accelerator > 1:
        return start + timedelta(seconds=days * SECONDS_PER_DAY / accelerator)
    local = start.astimezone(LOCAL_TZ)
    end_day = add_working_days_to_date(local.date(), days)
    return datetime.combine(end_day, local.timetz()).astimezone(UTC)


def end_of_local_day(day: date) -> datetime:
    """23:59:59.999999 in China on ``day``, as an aware datetime."""
    return datetime.combine(day, time.max, tzinfo=LOCAL_TZ)


def due_date(start: datetime, service_days: int, accelerator: int = 1) -> datetime:
    """When a service of ``service_days`` working days that starts at ``start`` is due.

    Unaccelerated, a service is due at the end of its last working day (local time).
    """
    if accelerator > 1:
        return add_period(start, service_days, accelerator)
    local_day = ensure_aware(start).astimezone(LOCAL_TZ).date()
    return end_of_local_day(add_working_days_to_date(local_day, service_days))


def calendar_due_date(start: datetime, days: int, accelerator: int = 1) -> datetime:
    """When a term of ``days`` calendar days that starts at ``start`` ends: the end of the local
    day ``days`` days after the start date, weekends and holidays counted like any day.

    Accelerated like a working-day period: ``days * 86400 / accelerator`` seconds after ``start``.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    if accelerator > 1:
        return ensure_aware(start) + timedelta(seconds=days * SECONDS_PER_DAY / accelerator)
    local_day = ensure_aware(start).astimezone(LOCAL_TZ).date()
    return end_of_local_day(local_day + timedelta(days=days))
