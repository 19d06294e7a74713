"""Ratings after acceptance (SPEC §5): the owner rates the provider on quality, timeliness,
attitude and price; the provider may rate the owner's clarity and payment. 1 to 5 each, once per
contract and side; ratings never change. The provider's public page shows the averages with the
number of ratings (:func:`provider_summary`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from invoices import bounds
from invoices.contracts import get_contract, side_of
from invoices.models import Contract, ContractStatus, RateeRole, Rating
from listings import credit
from listings.credit import CreditFactKind
from listings.ratings import RatingSummary as DirectoryRating
from market import audit
from market.actor import Actor
from market.errors import Conflict, InvalidInput, PermissionDenied, RuleViolation
from market.i18n import gettext as _

PROVIDER_CRITERIA = ("quality", "timeliness", "attitude", "price")
OWNER_CRITERIA = ("clarity", "payment")


def criteria_for(ratee_role: RateeRole) -> tuple[str, ...]:
    return PROVIDER_CRITERIA if ratee_role == RateeRole.provider else OWNER_CRITERIA


def ratee_of(side: str) -> RateeRole:
    """Whom the contract's ``side`` (``owner`` or ``provider``) rates: the other party."""
    return RateeRole.provider if side == "owner" else RateeRole.owner


async def ratings_of(session: AsyncSession, contract_id: uuid.UUID) -> list[Rating]:
    return list(await session.scalars(select(Rating).where(col(Rating.contract_id) == contract_id)))


async def rate(
    session: AsyncSession,
    actor: Actor,
    contract_id: uuid.UUID,
    scores: dict[str, int | None],
    comment: str = "",
) -> Rating:
    contract = await get_contract(session, actor, contract_id, lock=True)
    side = side_of(contract, actor)
    if side is None or actor.user_id is None or actor.org_id is None:
        raise PermissionDenied(_("Only the parties of a contract rate each other."))
    if contract.status != ContractStatus.accepted:
        raise RuleViolation(_("Ratings open when the service has been accepted."))
    ratee_role = ratee_of(side)
    wanted = criteria_for(ratee_role)
    values: dict[str, int] = {}
    for name in wanted:
        value = scores.get(name)
        if value is None:
            raise InvalidInput.field(name, _("Give a score from 1 to 5."))
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            raise InvalidInput.field(name, _("A score is a whole number from 1 to 5."))
        values[name] = value
    extra = [k for k, v in scores.items() if v is not None and k not in wanted]
    if extra:
        raise InvalidInput.field(extra[0], _("This criterion does not apply to this side."))
    comment = bounds.text("comment", comment, most=bounds.RATING_COMMENT)
    if await session.scalar(
        select(col(Rating.id)).where(col(Rating.contract_id) == contract.id, col(Rating.ratee_role) == ratee_role)
    ):
        raise Conflict(_("You have already rated this contract; ratings do not change."))
    rating = Rating(
        contract_id=contract.id,
        ratee_role=ratee_role,
        ratee_org_id=contract.provider_id if ratee_role == RateeRole.provider else contract.owner_id,
        rater_org_id=actor.org_id,
        rated_by=actor.user_id,
        comment=comment,
    )
    for name, value in values.items():
        setattr(rating, name, value)
    session.add(rating)
    await session.flush()
    audit.record(
        session,
        actor,
        "rating.given",
        "contract",
        contract.id,
        {"rating_id": rating.id, "ratee_role": ratee_role, "ratee_org_id": rating.ratee_org_id, **values},
    )
    if ratee_role == RateeRole.provider:
        # the firm's credit counts the rating's average (1–5), shrunk toward the platform mean
        await credit.record_fact(
            session,
            provider_id=contract.provider_id,
            kind=CreditFactKind.rating,
            occurred_at=rating.created_at,
            value=(Decimal(sum(values.values())) / len(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
            source_id=rating.id,
            link=f"/contracts/{contract.id}",
            note=contract.number,
        )
    return rating


@dataclass(frozen=True)
class RecentRating:
    contract_number: str
    created_at: datetime
    average: Decimal
    comment: str


@dataclass(frozen=True)
class RatingSummary:
    org_id: uuid.UUID
    count: int
    averages: dict[str, Decimal | None]  # per criterion, one decimal
    overall: Decimal | None
    recent: list[RecentRating] = field(default_factory=list)


def _one_decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _score_columns(criteria: tuple[str, ...]) -> list[Any]:
    return [col(getattr(Rating, c)) for c in criteria]


async def provider_summary(session: AsyncSession, provider_id: uuid.UUID, recent: int = 5) -> RatingSummary:
    """The provider's ratings for its public summary: the number of ratings, the average of each
    criterion (quality, timeliness, attitude, price) and overall, and the latest comments.

    (The public directory and provider page get theirs from :func:`directory_ratings`.)"""
    criteria = PROVIDER_CRITERIA
    mine = (col(Rating.ratee_org_id) == provider_id, col(Rating.ratee_role) == RateeRole.provider)
    row = (
        await session.execute(
            select(func.count(col(Rating.id)), *[func.avg(c) for c in _score_columns(criteria)]).where(*mine)
        )
    ).one()
    count = int(row[0] or 0)
    averages = {c: _one_decimal(row[i + 1]) for i, c in enumerate(criteria)}
    present = [v for v in averages.values() if v is not None]
    overall = _one_decimal(sum(present) / len(present)) if present and count else None
    latest: list[RecentRating] = []
    if recent:
        rows = await session.execute(
            select(Rating, col(Contract.number))
            .join(Contract, col(Contract.id) == col(Rating.contract_id))
            .where(*mine)
            .order_by(col(Rating.created_at).desc())
            .limit(recent)
        )
        for rating, number in rows:
            scores = [int(getattr(rating, c)) for c in criteria]
            latest.append(
                RecentRating(
                    contract_number=number,
                    created_at=rating.created_at,
                    average=_one_decimal(Decimal(sum(scores)) / len(scores)) or Decimal("0"),
                    comment=rating.comment,
                )
            )
    return RatingSummary(
        org_id=provider_id, count=count, averages=averages, overall=overall if count else None, recent=latest
    )


async def directory_ratings(session: AsyncSession, provider_ids: list[uuid.UUID]) -> dict[uuid.UUID, DirectoryRating]:
    """The rating source of the provider directory (``listings.ratings``): for each provider the
    number of ratings, the overall average and the average of each criterion, in one query."""
    criteria = PROVIDER_CRITERIA
    rows = await session.execute(
        select(
            col(Rating.ratee_org_id),
            func.count(col(Rating.id)),
            *[func.avg(c) for c in _score_columns(criteria)],
        )
        .where(col(Rating.ratee_role) == RateeRole.provider, col(Rating.ratee_org_id).in_(provider_ids))
        .group_by(col(Rating.ratee_org_id))
    )
    found: dict[uuid.UUID, DirectoryRating] = {}
    for org_id, count, *averages in rows:
        aspects = {c: v for c, a in zip(criteria, averages, strict=True) if (v := _one_decimal(a)) is not None}
        overall = _one_decimal(sum(aspects.values()) / len(aspects)) if aspects else None
        found[org_id] = DirectoryRating(count=int(count), average=overall, aspects=aspects)
    return found
