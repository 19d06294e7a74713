"""The one clock every rule reads.

Production code calls :func:`now`; tests move time with :func:`frozen` or :func:`set_offset`
instead of patching ``datetime``. Times are timezone-aware UTC; :data:`LOCAL_TZ` is the zone
people see (Asia/Shanghai).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

_frozen_at: datetime | None = None
_offset = timedelta(0)


def now() -> datetime:
    """The current time, aware, in UTC."""
    if _frozen_at is not None:
        return _frozen_at
    return datetime.now(UTC) + _offset


def today_local() -> date:
    """Today's date in China (the date people mean when they say 'today')."""
    return now().astimezone(LOCAL_TZ).date()


def to_local(moment: datetime) -> datetime:
    return ensure_aware(moment).astimezone(LOCAL_TZ)


def ensure_aware(moment: datetime) -> datetime:
    """Treat a naive datetime as UTC (how the database hands them back on SQLite)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def frozen_moment() -> datetime | None:
    """Where the clock is stopped, or ``None`` when it runs."""
    return _frozen_at


def freeze(moment: datetime | None) -> None:
    """Stop the clock at ``moment`` (``None`` lets it run again)."""
    global _frozen_at
    _frozen_at = ensure_aware(moment) if moment is not None else None


def set_offset(delta: timedelta) -> None:
    """Run the clock ``delta`` ahead of real time (used by black-box demos and tests)."""
    global _offset
    _offset = delta


def advance(delta: timedelta) -> datetime:
    """Move a frozen clock forward, or the running clock's offset."""
    global _frozen_at, _offset
    if _frozen_at is not None:
        _frozen_at = _frozen_at + delta
    else:
        _offset = _offset + delta
    return now()


@contextlib.contextmanager
def frozen(moment: datetime) -> Iterator[None]:
    previous = _frozen_at
    freeze(moment)
    try:
        yield
    finally:
        freeze(previous)


def reset() -> None:
    freeze(None)
    set_offset(timedelta(0))
