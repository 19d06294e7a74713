"""Credit scores (0–100) used by the ``scored`` method.

A provider starts at 100 and loses 20 points for every objection upheld against a selection it
won in the last three years. Later packages may add adjustments (ratings, late delivery) by
registering a source from the composition root; a source returns points to add (negative to
subtract). The score is snapshotted on the bid when the owner runs the selection, and published
in the result.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.models import Bid, Objection, ObjectionStatus, Selection

Source = Callable[[AsyncSession, uuid.UUID, datetime], Awaitable[int]]

BASE = 100
UPHELD_PENALTY = 20
WINDOW = timedelta(days=3 * 365)

_sources: list[Source] = []


def register(source: Source) -> None:
    if source not in _sources:
        _sources.append(source)


async def credit_score(session: AsyncSession, provider_id: uuid.UUID, at: datetime) -> int:
    upheld = await session.scalar(
        select(func.count())
        .select_from(Objection)
        .join(Selection, Selection.id == Objection.selection_id)
        .join(Bid, Bid.id == Selection.winner_bid_id)
        .where(
            Bid.provider_id == provider_id,
            Objection.status == ObjectionStatus.upheld.value,
            Objection.decided_at >= at - WINDOW,
        )
    )
    score = BASE - UPHELD_PENALTY * int(upheld or 0)
    for source in _sources:
        score += await source(session, provider_id, at)
    return max(0, min(100, score))
