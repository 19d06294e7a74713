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

from market.registry import Registry


@dataclass(frozen=True)
class RatingSummary:
    count: int  # how many ratings
    average: Decimal | None  # overall, 1–5
    aspects: dict[str, Decimal] = field(default_factory=dict)  # e.g. quality, timeliness, attitude, price


RatingSource = Callable[[AsyncSession, list[uuid.UUID]], Awaitable[dict[uuid.UUID, RatingSummary]]]

# at most one source, under the key "ratings"; tests scope their own with ``sources.scoped()``
sources: Registry[str, RatingSource] = Registry("rating sources")


def register_rating_source(source: RatingSource) -> None:
    """Called once by the package that owns ratings (the composition root wires it)."""
    sources.register("ratings", source)


def has_ratings() -> bool:
    return "ratings" in sources


async def ratings_for(session: AsyncSession, provider_ids: list[uuid.UUID]) -> dict[uuid.UUID, RatingSummary]:
    source = sources.get("ratings")
    if source is None or not provider_ids:
        return {}
    return await source(session, provider_ids)
