"""Sealed bids: submit (or replace), withdraw, read, explain an abnormally low price, open.

Sealing rules (SPEC §5 "Bids are sealed"):

* until the purchase is opened (deadline passed) a bid is readable by its bidder only; to anyone
  else it does not exist: the same 404 as an unknown id, whatever the role;
* no answer depends on whether or how many other bids exist (a second bid replaces the first,
  so there is no "already bid" conflict);
* the purchase row is locked while a bid is stored and the deadline is checked in that same
  transaction, so that the close and the bids serialise and no bid is accepted after it;
* nothing is written to the audit trail before the opening (its events are readable by the
  operator and the finance bureau, and even a blinded event would let them count bids); the
  bidder holds the receipt, the bid rows can never change or be deleted (database triggers), and
  the opening writes every bid, replaced and withdrawn ones included, into the audit trail.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bidding import purchases, rules, scoring, timeline
from bidding.models import Bid, BidStatus, Purchase, PurchaseAvoid, PurchaseStatus
from listings import credit
from listings.credit_rules import grade_at_least
from listings.services import qualified
from market import audit, clock
from market.actor import Actor, require_approver
from market.db import new_id
from market.errors import FieldError, InvalidInput, NotFound, PermissionDenied, RuleViolation
from market.i18n import format_datetime, format_money
from market.i18n import gettext as _
from market.settings import Settings

S = PurchaseStatus
OVERSIGHT_ROLES = ("admin", "finance")
MAX_NOTE = 2000
MAX_EXPLANATION = 8000


def _bid_not_found() -> NotFound:
    return NotFound(_("No such bid."))


async def own_bid(session: AsyncSession, actor: Actor, bid_id: uuid.UUID) -> Bid:
    """The actor's own bid; another firm's bid is as unknown as one that does not exist."""
    bid = await session.get(Bid, bid_id)
    if bid is None or actor.org_id is None or bid.provider_id != actor.org_id:
        raise _bid_not_found()
    return bid


async def submit(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    purchase_id: uuid.UUID,
    *,
    price: Decimal,
    service_days: int,
    note: str = "",
) -> Bid:
    """Store a sealed bid (replacing the provider's active one) while the purchase is open."""
    require_approver(actor)
    if actor.role != "provider" or actor.org_id is None:
        raise PermissionDenied(_("Only intermediary firms bid."))
    p = await purchases.get_purchase(session, settings, actor, purchase_id)
    # eligibility first (it does not depend on other bids)
    today = clock.today_local()
    if p.owner_id == actor.org_id:
        raise PermissionDenied(_("An organisation cannot bid on its own purchase."))
    if await session.get(PurchaseAvoid, (p.id, actor.org_id)) is not None:
        raise PermissionDenied(_("The owner must avoid your firm for this purchase (回避); you cannot bid."))
    if not await qualified(session, actor.org_id, p.catalog_code, today):
        raise PermissionDenied(
            _("Your firm holds no approved, valid qualification for this catalog item, or it may not bid now.")
        )
    if p.min_grade is not None:
        mine = await credit.standing(session, actor.org_id, clock.now())
        if not grade_at_least(mine.grade, p.min_grade):
            message = _(
                "This purchase admits firms of credit grade %(minimum)s or better; your firm's grade is "
                "%(grade)s (score %(score)s).",
                minimum=p.min_grade,
                grade=mine.grade,
                score=mine.score,
            )
            raise PermissionDenied(message, errors=[FieldError("min_grade", message)])
    note = rules.text(note, "note", shortest=0, longest=MAX_NOTE, too_short="")
    if not price.is_finite() or price <= 0 or price > p.budget_cap:
        raise InvalidInput.field(
            "price", _("The price must be above zero and at most the cap of %(cap)s.", cap=format_money(p.budget_cap))
        )
    if p.price_floor is not None and price < p.price_floor:
        raise InvalidInput.field(
            "price", _("The price may not be below the floor of %(floor)s.", floor=format_money(p.price_floor))
        )
    if service_days < 1 or service_days > p.service_days:
        raise InvalidInput.field("service_days", _("Between 1 and %(days)s working days.", days=p.service_days))
    # the deadline, under the purchase row lock: the close takes the same lock
    locked = await timeline.lock(session, p.id)
    assert locked is not None
    p = locked
    now = clock.now()
    if p.status != S.open or now >= p.bid_deadline:
        raise RuleViolation(
            _("Bids are accepted only until the deadline (%(deadline)s).", deadline=format_datetime(p.bid_deadline)),
            _("This purchase no longer accepts bids."),
        )
    previous = await session.scalar(
        select(Bid)
        .where(
            col(Bid.purchase_id) == p.id,
            col(Bid.provider_id) == actor.org_id,
            col(Bid.status) == BidStatus.active,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if previous is not None:
        previous.status = BidStatus.replaced
        await session.flush()  # the partial unique index allows one active bid
    bid = Bid(
        id=new_id(),
        purchase_id=p.id,
        provider_id=actor.org_id,
        submitted_by=actor.user_id,
        price=price,
        service_days=service_days,
        note=note,
        received_at=now,
        digest="",
    )
    bid.digest = rules.digest_of(content(bid, p))
    session.add(bid)
    await session.flush()
    return bid


def content(bid: Bid, p: Purchase) -> str:
    return rules.bid_content(
        bid_id=bid.id,
        purchase_id=bid.purchase_id,
        purchase_ref=p.ref or "",
        provider_id=bid.provider_id,
        price=bid.price,
        service_days=bid.service_days,
        note=bid.note,
        received_at=bid.received_at,
    )


async def withdraw(session: AsyncSession, actor: Actor, bid_id: uuid.UUID) -> Bid:
    require_approver(actor)
    p = await timeline.lock(session, (await own_bid(session, actor, bid_id)).purchase_id)
    assert p is not None
    bid = await session.scalar(
        select(Bid).where(col(Bid.id) == bid_id).with_for_update().execution_options(populate_existing=True)
    )
    assert bid is not None
    if p.status != S.open or clock.now() >= p.bid_deadline:
        raise RuleViolation(_("A bid can be withdrawn only until the deadline."))
    if bid.status != BidStatus.active:
        raise RuleViolation(_("Only your current bid can be withdrawn."))
    bid.status = BidStatus.withdrawn
    bid.withdrawn_at = clock.now()
    return bid


async def may_read(session: AsyncSession, actor: Actor, settings: Settings, bid: Bid) -> Purchase | None:
    """The bid's purchase if the actor may read the bid; ``None`` otherwise (treat as not found)."""
    p = await session.get(Purchase, bid.purchase_id)
    if p is None:
        return None
    if actor.org_id is not None and bid.provider_id == actor.org_id:
        return p
    if (actor.role == "owner" and p.owner_id == actor.org_id) or actor.role in OVERSIGHT_ROLES:
        p = await timeline.refresh(session, settings, p)
        return p if p.opened_at is not None else None
    return None


async def read(session: AsyncSession, actor: Actor, settings: Settings, bid_id: uuid.UUID) -> tuple[Bid, Purchase]:
    bid = await session.get(Bid, bid_id)
    if bid is None:
        raise _bid_not_found()
    p = await may_read(session, actor, settings, bid)
    if p is None:
        raise _bid_not_found()
    if bid.provider_id != actor.org_id and scoring.prices_sealed_for(actor, p):
        raise scoring.sealed_prices()
    return bid, p


async def mine(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    *,
    limit: int,
    offset: int,
    include_history: bool = False,
) -> tuple[list[tuple[Bid, Purchase]], int]:
    query = (
        select(Bid, Purchase)
        .join(Purchase, col(Purchase.id) == col(Bid.purchase_id))
        .where(col(Bid.provider_id) == actor.org_id)
    )
    if not include_history:
        query = query.where(col(Bid.status) != BidStatus.replaced)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (await session.execute(query.order_by(col(Bid.received_at).desc()).limit(limit).offset(offset))).all()
    return [(b, p) for b, p in rows], int(total or 0)


async def my_active_bid(session: AsyncSession, actor: Actor, purchase_id: uuid.UUID) -> Bid | None:
    if actor.org_id is None:
        return None
    return await session.scalar(
        select(Bid).where(
            col(Bid.purchase_id) == purchase_id,
            col(Bid.provider_id) == actor.org_id,
            col(Bid.status) == BidStatus.active,
        )
    )


async def my_active_bids(session: AsyncSession, actor: Actor, purchase_ids: list[uuid.UUID]) -> dict[uuid.UUID, Bid]:
    """The actor's firm's active bid on each of these purchases that has one (one query)."""
    if actor.org_id is None or not purchase_ids:
        return {}
    rows = await session.scalars(
        select(Bid).where(
            col(Bid.purchase_id).in_(purchase_ids),
            col(Bid.provider_id) == actor.org_id,
            col(Bid.status) == BidStatus.active,
        )
    )
    return {b.purchase_id: b for b in rows}


async def opened(
    session: AsyncSession, actor: Actor, settings: Settings, purchase_id: uuid.UUID
) -> tuple[Purchase, list[Bid]]:
    """The opened bids, for the owner, the operator and the finance bureau, after the deadline.

    Before the opening the answer is the same whoever asks and however many bids there are.
    """
    p = await session.get(Purchase, purchase_id)
    if p is None or p.status == S.draft or (actor.role == "owner" and p.owner_id != actor.org_id):
        raise purchases.not_found()
    if actor.role not in ("owner", *OVERSIGHT_ROLES):
        raise PermissionDenied(_("Only the owner, the operator and the finance bureau see opened bids."))
    p = await timeline.refresh(session, settings, p)
    if p.opened_at is None:
        raise PermissionDenied(
            _("Bids are sealed until the deadline."),
            _("They are opened at %(deadline)s.", deadline=format_datetime(p.bid_deadline))
            if p.status == S.open
            else _("This purchase was closed before its bids were opened; they stay sealed."),
        )
    if scoring.prices_sealed_for(actor, p):
        raise scoring.sealed_prices()
    rows = list(
        await session.scalars(
            select(Bid)
            .where(col(Bid.purchase_id) == p.id, col(Bid.status) == BidStatus.active)
            .order_by(col(Bid.price), col(Bid.received_at))
        )
    )
    return p, rows


async def explain(session: AsyncSession, actor: Actor, settings: Settings, bid_id: uuid.UUID, text: str) -> Bid:
    """The bidder's written explanation of a price flagged as abnormally low."""
    bid = await own_bid(session, actor, bid_id)
    p = await timeline.lock(session, bid.purchase_id)
    assert p is not None
    p = await timeline.refresh(session, settings, p, locked=True)
    if p.status != S.evaluating or not bid.abnormally_low or bid.status != BidStatus.active or not bid.valid:
        raise RuleViolation(_("This bid needs no explanation now."))
    if bid.explanation is not None:
        raise RuleViolation(_("You have already explained this price."))
    text = rules.text(
        text,
        "explanation",
        shortest=20,
        longest=MAX_EXPLANATION,
        too_short=_("Explain how you can deliver at this price (at least 20 characters)."),
    )
    bid.explanation = text
    bid.explained_at = clock.now()
    audit.record(session, actor, "bid.price_explained", "bid", bid.id, {"purchase_id": p.id, "explanation": text})
    if not await unexplained(session, p.id):
        p.explanation_due_at = None
        await timeline.schedule(session, p)
    return bid


async def unexplained(session: AsyncSession, purchase_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Bid)
            .where(
                col(Bid.purchase_id) == purchase_id,
                col(Bid.status) == BidStatus.active,
                col(Bid.valid).is_(True),
                col(Bid.abnormally_low).is_(True),
                col(Bid.explanation).is_(None),
            )
        )
        or 0
    )


async def my_latest_bid(session: AsyncSession, actor: Actor, purchase_id: uuid.UUID) -> Bid | None:
    """The actor's bid that counts for its outcome: the active one, else the last withdrawn."""
    if actor.org_id is None:
        return None
    return await session.scalar(
        select(Bid)
        .where(
            col(Bid.purchase_id) == purchase_id,
            col(Bid.provider_id) == actor.org_id,
            col(Bid.status) != BidStatus.replaced,
        )
        .order_by((col(Bid.status) == BidStatus.active).desc(), col(Bid.received_at).desc())
        .limit(1)
    )
