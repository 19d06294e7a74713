"""Gap-free numbering of every human reference: purchases (CG-), contracts (HT-), invoices (FP-)
and credit notes (HZ-). One counter row per series, scope and year, locked FOR UPDATE.

The row is created on first use with ``INSERT … ON CONFLICT DO NOTHING`` (two first users of a
new year do not collide), then locked; the number is taken and the row updated in the caller's
transaction. A transaction that rolls back gives its number back with it, so numbers have no
gaps; two transactions never hold the row at once, so numbers have no duplicates (and UNIQUE
constraints on the numbered tables say so again). On SQLite the database write lock, taken at
``BEGIN IMMEDIATE``, serialises writers the same way.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from market.db import is_postgres

PLATFORM = "-"  # the scope of a platform-wide series (purchases, contracts)


class NumberCounter(SQLModel, table=True):
    """The last number taken of a series, per scope (an issuer, or the platform) and year."""

    __tablename__ = "number_counters"
    __table_args__ = (CheckConstraint("value >= 0", name="value_not_negative"),)

    series: str = Field(primary_key=True, max_length=16)
    scope: str = Field(primary_key=True, max_length=40)  # an issuer's id, or "-" for platform-wide series
    year: int = Field(primary_key=True)
    value: int = 0


async def next_number(session: AsyncSession, series: str, year: int, scope: str = PLATFORM) -> int:
    """Take the next number of ``series`` for ``scope`` and ``year``: 1, 2, 3, …"""
    insert = pg_insert if is_postgres(session) else sqlite_insert
    await session.execute(
        insert(NumberCounter)
        .values(series=series, scope=scope, year=year, value=0)
        .on_conflict_do_nothing(index_elements=["series", "scope", "year"])
    )
    counter = (
        await session.execute(
            select(NumberCounter)
            .where(
                col(NumberCounter.series) == series,
                col(NumberCounter.scope) == scope,
                col(NumberCounter.year) == year,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    counter.value += 1
    await session.flush()
    return counter.value


def reference(prefix: str, year: int, number: int) -> str:
    """``CG-2026-000001``: a series' prefix, the year and the number in six digits."""
    return f"{prefix}-{year}-{number:06d}"
