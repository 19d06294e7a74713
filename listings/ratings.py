"""The place where ratings join the provider directory.

Ratings are given after acceptance of a delivered service, which the contracts package
(``invoices``) owns. Listings cannot import it, so that package registers a *rating source*
here at start-up (``market.app.wire``); the directory API and the provider page then show what
it returns. Without a source the directory shows no ratings at all — never made-up ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class RatingSummary:
    count: int  # how many ratings
    average: Decimal | None  # overall, 1–5
    aspects: dict[str, Decimal] = field(default_factory=dict)  # e.g. quality, timeliness, attitude, price


RatingSource = Callable[[AsyncSession, list[uuid.UUID]], Awaitable[dict[uuid.UUID, RatingSummary]]]

_source: RatingSource | None = None


def register_rating_source(source: RatingSource | None) -> None:
    """Called once by the package that owns ratings (``None`` removes it, for tests)."""
    global _source
    _source = source


def has_ratings() -> bool:
    return _source is not None


async def ratings_for(session: AsyncSession, provider_ids: list[uuid.UUID]) -> dict[uuid.UUID, RatingSummary]:
    if _source is None or not provider_ids:
        return {}
    return await _source(session, provider_ids)
