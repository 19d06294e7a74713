"""Credit scores (0–100) used by the ``scored`` method.

A provider starts at 100 and loses 20 points for every objection upheld against a selection it
won in the last three years. The score is snapshotted on the bid when the owner runs the
selection, and published in the result.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bidding.models import Bid, Objection, ObjectionStatus, Selection

BASE = 100
UPHELD_PENALTY = 20
WINDOW = timedelta(days=3 * 365)


async def credit_score(session: AsyncSession, provider_id: uuid.UUID, at: datetime) -> int:
    upheld = await session.scalar(
        select(func.count())
        .select_from(Objection)
        .join(Selection, col(Selection.id) == col(Objection.selection_id))
        .join(Bid, col(Bid.id) == col(Selection.winner_bid_id))
        .where(
            col(Bid.provider_id) == provider_id,
            col(Objection.status) == ObjectionStatus.upheld,
            col(Objection.decided_at) >= at - WINDOW,
        )
    )
    return max(0, min(BASE, BASE - UPHELD_PENALTY * int(upheld or 0)))
