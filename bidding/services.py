"""Purchases: drafting, publishing, cancelling, republishing; reference numbers; the time engine
(deadline → ``evaluating``, explanation due, end of publicity → ``awarded``); clarifications; the
link to the contract. Services take a session and an :class:`~market.actor.Actor`, never commit,
and record every state change in the audit trail.

Sealing: nothing in this module reveals whether a purchase has bids before it is opened. The
purchase row is never touched by a bid (no counter, no timestamp), and the opening writes the
list of bids to the audit trail only once the deadline has passed.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding import draw, rules, vocab  # noqa: F401 - registers the labels used below
from bidding.events import PurchaseAwarded
from bidding.models import (
    Bid,
    BidStatus,
    Funding,
    Method,
    Objection,
    ObjectionStatus,
    Purchase,
    PurchaseAvoid,
    PurchaseStatus,
    Question,
    Selection,
    SelectionStatus,
)
from listings.models import CatalogItem, FeeType
from listings.services import qualified
from market import audit, clock, events, numbering
from market.actor import SYSTEM, Actor
from market.db import is_postgres, unit_of_work
from market.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied, RuleViolation
from market.i18n import format_datetime, format_money
from market.i18n import gettext as _
from market.identity.models import Organization, OrgKind
from market.settings import Settings, get_settings
from market.terms import label
from market.workdays import add_period

log = logging.getLogger("bidding")

S = PurchaseStatus
EXPLANATION_DAYS = 2  # working days a bidder has to explain an abnormally low price
TICK_BATCH = 200
INVESTMENT_CODE_RE = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$")
PUBLISHED = tuple(s.value for s in S if s != S.draft)


# --- input ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseInput:
    title: str
    catalog_code: str
    description: str
    budget_cap: Decimal
    funding: str
    method: str
    bid_deadline: datetime
    service_days: int
    price_floor: Decimal | None = None
    min_bids: int | None = None
    weights: rules.Weights | None = None
    avoid_provider_ids: tuple[uuid.UUID, ...] = field(default_factory=tuple)
    investment_code: str | None = None


def input_of(p: Purchase, avoid: list[uuid.UUID]) -> PurchaseInput:
    weights = None
    if p.method == Method.scored and p.weight_price is not None:
        weights = rules.Weights(p.weight_price, p.weight_quality or 0, p.weight_credit or 0)
    return PurchaseInput(
        title=p.title,
        catalog_code=p.catalog_code,
        description=p.description,
        budget_cap=p.budget_cap,
        funding=p.funding,
        method=p.method,
        bid_deadline=p.bid_deadline,
        service_days=p.service_days,
        price_floor=p.price_floor,
        min_bids=p.min_bids,
        weights=weights,
        avoid_provider_ids=tuple(avoid),
        investment_code=p.investment_code,
    )


def earliest_deadline(start: datetime) -> datetime:
    settings = get_settings()
    return add_period(start, settings.min_bidding_days, settings.accelerator)


async def _check(session: AsyncSession, data: PurchaseInput, *, at: datetime) -> tuple[CatalogItem | None, int]:
    """Every field rule at once; raises InvalidInput naming each bad field."""
    errors: list[FieldError] = []

    def bad(name: str, message: str) -> None:
        errors.append(FieldError(name, message))

    if len(data.title.strip()) < 4:
        bad("title", _("Give the purchase a title of at least 4 characters."))
    if len(data.description.strip()) < 10:
        bad("description", _("Describe the scope of the service (at least 10 characters)."))
    item = await session.scalar(select(CatalogItem).where(CatalogItem.code == data.catalog_code))
    if item is None:
        bad("catalog_code", _("No catalog item with this code."))
    elif not item.purchasable:
        bad("catalog_code", _("This catalog item is not retained; it cannot be purchased."))
    if data.service_days < 1:
        bad("service_days", _("At least one working day."))
    elif item is not None and data.service_days > item.time_limit_days:
        bad(
            "service_days",
            _("At most %(days)s working days, the item's service time limit.", days=item.time_limit_days),
        )
    if data.budget_cap <= 0:
        bad("budget_cap", _("The price cap must be above zero."))
    elif (
        item is not None
        and item.fee_type == FeeType.government_priced
        and item.fee_cap is not None
        and data.budget_cap > item.fee_cap
    ):
        bad(
            "budget_cap",
            _("The item is government-priced: the cap may not exceed %(cap)s.", cap=format_money(item.fee_cap)),
        )
    if data.price_floor is not None and (data.price_floor <= 0 or data.price_floor >= data.budget_cap):
        bad("price_floor", _("The floor must be above zero and below the cap."))
    if data.funding not in {f.value for f in Funding}:
        bad("funding", _("Choose the funding source: fiscal, own or mixed."))
    min_bids = data.min_bids
    if data.method not in {m.value for m in Method}:
        bad("method", _("Choose a selection method: random, lowest_price, scored or direct."))
    else:
        if min_bids is None:
            min_bids = 1 if data.method == Method.direct else 3
        if data.method == Method.scored:
            if data.weights is None:
                bad("weights", _("Scored selection needs weights for price, quality and credit."))
            else:
                try:
                    data.weights.check()
                except InvalidInput as exc:
                    errors.extend(exc.errors)
        elif data.weights is not None:
            bad("weights", _("Weights apply only to scored selection."))
    if min_bids is not None and not 1 <= min_bids <= 20:
        bad("min_bids", _("The minimum number of valid bids is between 1 and 20."))
    earliest = earliest_deadline(at)
    if data.bid_deadline < earliest:
        settings = get_settings()
        bad(
            "bid_deadline",
            _(
                "The bidding period is at least %(days)s working days: the deadline must be %(earliest)s or later.",
                days=settings.min_bidding_days,
                earliest=format_datetime(earliest),
            ),
        )
    if data.investment_code and not INVESTMENT_CODE_RE.match(data.investment_code):
        bad("investment_code", _("An investment project code looks like 2026-530100-48-01-123456."))
    if data.avoid_provider_ids:
        found = set(
            await session.scalars(
                select(Organization.id).where(
                    Organization.id.in_(data.avoid_provider_ids), Organization.kind == OrgKind.provider.value
                )
            )
        )
        if found != set(data.avoid_provider_ids):
            bad("avoid_provider_ids", _("Every firm to avoid must be a registered provider."))
    if errors:
        raise InvalidInput(_("The purchase is not valid."), _("Correct the fields named below."), errors=errors)
    return item, int(min_bids or 1)


# --- access -----------------------------------------------------------------------------------


def is_owner(actor: Actor | None, p: Purchase) -> bool:
    return actor is not None and actor.role == "owner" and actor.org_id == p.owner_id


def not_found() -> NotFound:
    return NotFound(_("No such purchase."))


async def lock(session: AsyncSession, purchase_id: uuid.UUID) -> Purchase | None:
    """The purchase row, locked until the end of the transaction (bids and the close serialise here)."""
    return await session.scalar(
        select(Purchase).where(Purchase.id == purchase_id).with_for_update().execution_options(populate_existing=True)
    )


async def get_purchase(
    session: AsyncSession, actor: Actor | None, purchase_id: uuid.UUID, *, for_update: bool = False
) -> Purchase:
    """A purchase the actor may see (drafts only by their owner), with due transitions applied."""
    p = await lock(session, purchase_id) if for_update else await session.get(Purchase, purchase_id)
    if p is None or (p.status == S.draft and not is_owner(actor, p)):
        raise not_found()
    return await refresh(session, p, locked=for_update)


async def owned(session: AsyncSession, actor: Actor, purchase_id: uuid.UUID) -> Purchase:
    """The actor's own purchase, locked, with due transitions applied."""
    p = await lock(session, purchase_id)
    if p is None or not is_owner(actor, p):
        raise not_found()
    return await refresh(session, p, locked=True)


async def get_by_ref(session: AsyncSession, ref: str) -> Purchase:
    p = await session.scalar(select(Purchase).where(Purchase.ref == ref.strip().upper()))
    if p is None:
        raise not_found()
    return await refresh(session, p)


async def avoid_ids(session: AsyncSession, purchase_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        await session.scalars(select(PurchaseAvoid.provider_id).where(PurchaseAvoid.purchase_id == purchase_id))
    )


# --- drafting and publishing -------------------------------------------------------------------


async def create_draft(session: AsyncSession, actor: Actor, data: PurchaseInput) -> Purchase:
    if actor.role != "owner" or actor.org_id is None:
        raise PermissionDenied(_("Only project owners draft purchases."))
    now = clock.now()
    item, min_bids = await _check(session, data, at=now)
    assert item is not None
    p = Purchase(owner_id=actor.org_id, created_by=actor.user_id, catalog_item_id=item.id, created_at=now)
    _apply(p, data, min_bids)
    p.updated_at = now
    session.add(p)
    await session.flush()
    await _set_avoid(session, p.id, data.avoid_provider_ids)
    audit.record(session, actor, "purchase.drafted", "purchase", p.id, _terms(p, data.avoid_provider_ids))
    return p


def _apply(p: Purchase, data: PurchaseInput, min_bids: int) -> None:
    p.title = data.title.strip()
    p.catalog_code = data.catalog_code
    p.description = data.description.strip()
    p.budget_cap = data.budget_cap
    p.price_floor = data.price_floor
    p.funding = data.funding
    p.investment_code = (data.investment_code or "").strip() or None
    p.method = data.method
    p.bid_deadline = clock.ensure_aware(data.bid_deadline)
    p.service_days = data.service_days
    p.min_bids = min_bids
    w = data.weights if data.method == Method.scored else None
    p.weight_price, p.weight_quality, p.weight_credit = (w.price, w.quality, w.credit) if w else (None, None, None)


def _terms(p: Purchase, avoid: tuple[uuid.UUID, ...] | list[uuid.UUID]) -> dict[str, Any]:
    return {
        "title": p.title,
        "catalog_code": p.catalog_code,
        "budget_cap": p.budget_cap,
        "price_floor": p.price_floor,
        "funding": p.funding,
        "method": p.method,
        "bid_deadline": p.bid_deadline,
        "service_days": p.service_days,
        "min_bids": p.min_bids,
        "weights": [p.weight_price, p.weight_quality, p.weight_credit] if p.method == Method.scored else None,
        "avoid_provider_ids": sorted(str(a) for a in avoid),
    }


async def _set_avoid(session: AsyncSession, purchase_id: uuid.UUID, ids: tuple[uuid.UUID, ...]) -> None:
    existing = {a for a in await session.scalars(select(PurchaseAvoid).where(PurchaseAvoid.purchase_id == purchase_id))}
    for row in existing:
        await session.delete(row)
    await session.flush()
    for provider_id in dict.fromkeys(ids):
        session.add(PurchaseAvoid(purchase_id=purchase_id, provider_id=provider_id))
    await session.flush()


async def update_draft(
    session: AsyncSession, actor: Actor, purchase_id: uuid.UUID, changes: dict[str, Any]
) -> Purchase:
    """Change some fields of a draft (the others stay); the whole draft is checked again."""
    p = await owned(session, actor, purchase_id)
    if p.status != S.draft:
        raise RuleViolation(_("A published purchase is frozen; only drafts can be edited."))
    current = input_of(p, await avoid_ids(session, p.id))
    known = {f.name for f in fields(PurchaseInput)}
    unknown = set(changes) - known
    if unknown:
        raise InvalidInput.field(sorted(unknown)[0], _("This field cannot be changed."))
    if "method" in changes and changes["method"] != current.method:
        if "min_bids" not in changes:
            changes = {**changes, "min_bids": None}
        if changes["method"] != Method.scored and "weights" not in changes:
            changes = {**changes, "weights": None}
    if "avoid_provider_ids" in changes:
        changes = {**changes, "avoid_provider_ids": tuple(changes["avoid_provider_ids"] or ())}
    data = replace(current, **changes)
    now = clock.now()
    item, min_bids = await _check(session, data, at=now)
    assert item is not None
    p.catalog_item_id = item.id
    _apply(p, data, min_bids)
    p.updated_at = now
    await _set_avoid(session, p.id, data.avoid_provider_ids)
    audit.record(session, actor, "purchase.edited", "purchase", p.id, _terms(p, data.avoid_provider_ids))
    return p


async def next_ref(session: AsyncSession, year: int) -> str:
    """The next gap-free reference of the year (``CG-2026-000001``), taken in the publishing
    transaction (a rollback gives the number back)."""
    return numbering.reference("CG", year, await numbering.next_number(session, "purchase", year))


async def publish(session: AsyncSession, actor: Actor, purchase_id: uuid.UUID) -> Purchase:
    p = await owned(session, actor, purchase_id)
    if p.status != S.draft:
        raise RuleViolation(_("Only a draft can be published."))
    now = clock.now()
    avoid = await avoid_ids(session, p.id)
    await _check(session, input_of(p, avoid), at=now)  # the item may have changed, time has passed
    p.ref = await next_ref(session, clock.to_local(now).year)
    secret = draw.new_secret()
    p.draw_secret, p.draw_commitment = secret, draw.commitment(secret)
    p.published_at = now
    move(
        session,
        actor,
        p,
        S.open,
        "published",
        {**_terms(p, avoid), "draw_commitment": p.draw_commitment, "round": p.round, "previous_id": p.previous_id},
    )
    await schedule(session, p)
    return p


async def cancel(session: AsyncSession, actor: Actor, purchase_id: uuid.UUID, reason: str) -> Purchase:
    p = await owned(session, actor, purchase_id)
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise InvalidInput.field("reason", _("Give the reason for cancelling (at least 5 characters)."))
    if not rules.can_move(p.status, S.cancelled):
        raise RuleViolation(
            _("A purchase in status “%(status)s” cannot be cancelled.", status=label(p.status, "purchase_status"))
        )
    p.cancel_reason = reason
    p.closed_at = clock.now()
    move(session, actor, p, S.cancelled, "cancelled", {"reason": reason})
    await schedule(session, p)
    return p


async def republish(
    session: AsyncSession, actor: Actor, purchase_id: uuid.UUID, bid_deadline: datetime | None = None
) -> Purchase:
    """A failed purchase comes back as a new draft round linked to the old one (same terms, a new
    deadline); the owner may adjust it and publishes it."""
    old = await owned(session, actor, purchase_id)
    if old.status != S.failed:
        raise RuleViolation(_("Only a failed purchase can be republished."))
    existing = await session.scalar(select(Purchase).where(Purchase.previous_id == old.id))
    if existing is not None:
        raise Conflict(
            _("This purchase has already been republished as round %(round)s.", round=existing.round),
            errors=[FieldError("purchase", str(existing.id))],
        )
    now = clock.now()
    avoid = await avoid_ids(session, old.id)
    deadline = bid_deadline or earliest_deadline(now)
    data = replace(input_of(old, avoid), bid_deadline=deadline)
    item, min_bids = await _check(session, data, at=now)
    assert item is not None
    p = Purchase(
        owner_id=old.owner_id,
        created_by=actor.user_id,
        catalog_item_id=item.id,
        round=old.round + 1,
        previous_id=old.id,
        created_at=now,
        updated_at=now,
    )
    _apply(p, data, min_bids)
    session.add(p)
    await session.flush()
    await _set_avoid(session, p.id, data.avoid_provider_ids)
    audit.record(
        session,
        actor,
        "purchase.republished",
        "purchase",
        p.id,
        {**_terms(p, avoid), "previous_id": old.id, "previous_ref": old.ref, "round": p.round},
    )
    return p


# --- the state machine and the time engine -----------------------------------------------------


def move(session: AsyncSession, actor: Actor, p: Purchase, target: str, action: str, data: dict[str, Any]) -> None:
    """Change the status along an allowed edge of the state machine, with its audit event."""
    if not rules.can_move(p.status, target):
        raise RuleViolation(
            _(
                "A purchase in status “%(status)s” cannot move to “%(target)s”.",
                status=label(p.status, "purchase_status"),
                target=label(target, "purchase_status"),
            )
        )
    previous = p.status
    p.status = target
    p.updated_at = clock.now()
    audit.record(
        session, actor, f"purchase.{action}", "purchase", p.id, {"from": previous, "to": target, "ref": p.ref, **data}
    )


async def pending_objections(session: AsyncSession, purchase_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Objection)
            .where(Objection.purchase_id == purchase_id, Objection.status == ObjectionStatus.pending.value)
        )
        or 0
    )


async def schedule(session: AsyncSession, p: Purchase) -> None:
    """Persist when the time engine must look at the purchase next."""
    if p.status == S.open:
        p.next_check_at = p.bid_deadline
    elif p.status == S.evaluating:
        p.next_check_at = p.explanation_due_at
    elif p.status == S.publicity:
        p.next_check_at = None if await pending_objections(session, p.id) else p.publicity_ends_at
    else:
        p.next_check_at = None


async def refresh(session: AsyncSession, p: Purchase, *, locked: bool = False) -> Purchase:
    """Request-time enforcement: apply whatever is due before anyone acts on or reads the purchase."""
    now = clock.now()
    if p.next_check_at is None or clock.ensure_aware(p.next_check_at) > now:
        return p
    if not locked:
        locked_p = await lock(session, p.id)
        assert locked_p is not None
        p = locked_p
    await apply_due(session, p, now)
    return p


async def apply_due(session: AsyncSession, p: Purchase, now: datetime) -> int:
    """Apply the due time transitions of one (locked) purchase; idempotent."""
    applied = 0
    if p.status == S.open and now >= p.bid_deadline:
        await _close(session, p, now)
        applied += 1
    if p.status == S.evaluating and p.explanation_due_at is not None and now >= p.explanation_due_at:
        await _expire_explanations(session, p, now)
        applied += 1
    if (
        p.status == S.publicity
        and p.publicity_ends_at is not None
        and now >= p.publicity_ends_at
        and not await pending_objections(session, p.id)
    ):
        await award(session, p, now)
        applied += 1
    await schedule(session, p)
    return applied


async def tick(factory: async_sessionmaker[AsyncSession], settings: Settings, now: datetime) -> int:
    """The worker's tick: claim due purchases one at a time (``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL, so several workers share the work) and apply each in its own transaction."""
    applied = 0
    failed: set[uuid.UUID] = set()  # one purchase whose transition fails must not block the others
    for _round in range(TICK_BATCH):
        async with unit_of_work(factory) as session:
            query = (
                select(Purchase)
                .where(Purchase.next_check_at.is_not(None), Purchase.next_check_at <= now)
                .order_by(Purchase.next_check_at)
                .limit(1)
            )
            if failed:
                query = query.where(Purchase.id.not_in(failed))
            if is_postgres(session):
                query = query.with_for_update(skip_locked=True)
            p = await session.scalar(query.execution_options(populate_existing=True))
            if p is None:
                break
            try:
                done = await apply_due(session, p, now)
            except Exception:
                log.exception("purchase %s: the due transition failed; it is retried at the next tick", p.id)
                failed.add(p.id)
                continue  # the unit of work rolls back
            if not done and p.next_check_at is not None and clock.ensure_aware(p.next_check_at) <= now:
                log.error("purchase %s is due at %s but nothing applies; unscheduled", p.id, p.next_check_at)
                p.next_check_at = None
            await session.commit()
            applied += done
    return applied


async def apply_due_now(session: AsyncSession, limit: int = 50) -> int:
    """Request-time enforcement for lists: apply what is due on up to ``limit`` purchases."""
    now = clock.now()
    query = (
        select(Purchase)
        .where(Purchase.next_check_at.is_not(None), Purchase.next_check_at <= now)
        .order_by(Purchase.next_check_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    applied = 0
    for p in list(await session.scalars(query)):
        applied += await apply_due(session, p, now)
    return applied


async def _close(session: AsyncSession, p: Purchase, now: datetime) -> None:
    """The deadline has passed: open the bids, check each one, fail or flag abnormal prices."""
    bids = list(await session.scalars(select(Bid).where(Bid.purchase_id == p.id).order_by(Bid.received_at)))
    avoid = set(await avoid_ids(session, p.id))
    on_date = clock.to_local(p.bid_deadline).date()
    for b in bids:
        if b.status != BidStatus.active:
            continue
        reason = None
        if b.provider_id in avoid:
            reason = "avoided"
        elif b.provider_id == p.owner_id:
            reason = "affiliated"
        elif not await qualified(session, b.provider_id, p.catalog_code, on_date):
            reason = "not_qualified"
        elif b.price > p.budget_cap or (p.price_floor is not None and b.price < p.price_floor):
            reason = "price_out_of_range"
        elif b.service_days > p.service_days:
            reason = "service_days"
        b.valid = reason is None
        b.invalid_reason = reason
    active = [b for b in bids if b.status == BidStatus.active]
    valid = [b for b in active if b.valid]
    p.opened_at = now
    move(session, SYSTEM, p, S.evaluating, "closed", {"bids": len(active), "valid_bids": len(valid)})
    # the bids enter the audit trail only now: every one, replaced and withdrawn ones included
    for b in bids:
        audit.record(
            session,
            SYSTEM,
            "bid.opened",
            "bid",
            b.id,
            {
                "purchase_id": p.id,
                "provider_id": b.provider_id,
                "submitted_by": b.submitted_by,
                "price": b.price,
                "service_days": b.service_days,
                "digest": b.digest,
                "received_at": b.received_at,
                "status": b.status,
                "withdrawn_at": b.withdrawn_at,
                "valid": b.valid,
                "invalid_reason": b.invalid_reason,
            },
        )
    if len(valid) < p.min_bids:
        await fail(session, p, "too_few_valid_bids", {"valid_bids": len(valid), "min_bids": p.min_bids})
        return
    settings = get_settings()
    flagged = rules.abnormally_low({b.id: b.price for b in valid}, settings.abnormal_low_ratio)
    for b in valid:
        b.abnormally_low = b.id in flagged
    if flagged:
        p.explanation_due_at = add_period(now, EXPLANATION_DAYS, settings.accelerator)
        audit.record(
            session,
            SYSTEM,
            "purchase.abnormal_prices_flagged",
            "purchase",
            p.id,
            {
                "bid_ids": sorted(str(i) for i in flagged),
                "ratio": settings.abnormal_low_ratio,
                "explanation_due_at": p.explanation_due_at,
            },
        )


async def _expire_explanations(session: AsyncSession, p: Purchase, now: datetime) -> None:
    unexplained = list(
        await session.scalars(
            select(Bid).where(
                Bid.purchase_id == p.id,
                Bid.status == BidStatus.active.value,
                Bid.valid.is_(True),
                Bid.abnormally_low.is_(True),
                Bid.explanation.is_(None),
            )
        )
    )
    for b in unexplained:
        b.valid = False
        b.invalid_reason = "abnormally_low_unexplained"
    p.explanation_due_at = None
    audit.record(
        session,
        SYSTEM,
        "purchase.explanations_expired",
        "purchase",
        p.id,
        {"invalidated_bid_ids": sorted(str(b.id) for b in unexplained)},
    )
    remaining = await pool_size(session, p.id)
    if remaining < p.min_bids:
        await fail(session, p, "too_few_valid_bids", {"valid_bids": remaining, "min_bids": p.min_bids})


async def pool_size(session: AsyncSession, purchase_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Bid)
            .where(
                Bid.purchase_id == purchase_id,
                Bid.status == BidStatus.active.value,
                Bid.valid.is_(True),
                Bid.excluded.is_(False),
            )
        )
        or 0
    )


async def fail(session: AsyncSession, p: Purchase, reason: str, data: dict[str, Any]) -> None:
    p.fail_reason = reason
    p.closed_at = clock.now()
    p.explanation_due_at = None
    move(session, SYSTEM, p, S.failed, "failed", {"reason": reason, **data})
    await schedule(session, p)


async def current_selection(session: AsyncSession, purchase_id: uuid.UUID) -> Selection | None:
    return await session.scalar(
        select(Selection)
        .where(Selection.purchase_id == purchase_id, Selection.status == SelectionStatus.current.value)
        .order_by(Selection.round.desc())
        .limit(1)
    )


async def award(session: AsyncSession, p: Purchase, now: datetime) -> None:
    """End of publicity with no pending objection: the selection stands. Emits
    :class:`~bidding.events.PurchaseAwarded` (the contracts package drafts the contract in this
    same transaction)."""
    selection = await current_selection(session, p.id)
    if selection is None:  # pragma: no cover - publicity always has a selection
        raise RuleViolation(_("There is no selection to award."))
    winner = await session.get(Bid, selection.winner_bid_id)
    item = await session.get(CatalogItem, p.catalog_item_id)
    assert winner is not None and item is not None
    p.awarded_at = now
    move(
        session,
        SYSTEM,
        p,
        S.awarded,
        "awarded",
        {
            "round": selection.round,
            "bid_id": winner.id,
            "provider_id": winner.provider_id,
            "amount": winner.price,
            "method": selection.method,
            "draw_seed": selection.draw_seed,
        },
    )
    await schedule(session, p)
    await events.emit(
        session,
        PurchaseAwarded(
            purchase_id=p.id,
            purchase_ref=p.ref or "",
            title=p.title,
            scope=p.description,
            catalog_code=p.catalog_code,
            catalog_name=item.name,
            owner_id=p.owner_id,
            provider_id=winner.provider_id,
            bid_id=winner.id,
            amount=winner.price,
            service_days=winner.service_days,
            method=selection.method,
            draw_seed=selection.draw_seed,
            awarded_at=now,
        ),
    )


# --- the contract (called by the contracts package) --------------------------------------------


async def mark_contract(
    session: AsyncSession, actor: Actor, purchase_id: uuid.UUID, contract_id: uuid.UUID, *, signed: bool
) -> Purchase:
    """Record the awarded purchase's contract; once it is signed the purchase is ``contracted``."""
    p = await lock(session, purchase_id)
    if p is None:
        raise not_found()
    if p.status not in (S.awarded, S.contracted):
        raise RuleViolation(_("Only an awarded purchase has a contract."))
    if p.contract_id is not None and p.contract_id != contract_id:
        raise Conflict(_("This purchase already has another contract."))
    if p.contract_id is None:
        p.contract_id = contract_id
        p.updated_at = clock.now()
        audit.record(session, actor, "purchase.contract_linked", "purchase", p.id, {"contract_id": contract_id})
    if signed and p.status == S.awarded:
        p.contracted_at = clock.now()
        move(session, actor, p, S.contracted, "contracted", {"contract_id": contract_id})
    return p


# --- listing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseFilter:
    status: str | None = None
    q: str | None = None
    catalog_code: str | None = None
    owner_id: uuid.UUID | None = None
    method: str | None = None


def _filtered(query: Any, f: PurchaseFilter) -> Any:
    if f.status:
        query = query.where(Purchase.status == f.status)
    if f.catalog_code:
        query = query.where(Purchase.catalog_code == f.catalog_code)
    if f.owner_id:
        query = query.where(Purchase.owner_id == f.owner_id)
    if f.method:
        query = query.where(Purchase.method == f.method)
    if f.q:
        like = f"%{f.q.strip()}%"
        query = query.where(
            or_(Purchase.title.ilike(like), Purchase.ref.ilike(like), Purchase.catalog_code.ilike(like))
        )
    return query


async def list_published(
    session: AsyncSession, f: PurchaseFilter, *, limit: int, offset: int
) -> tuple[list[Purchase], int]:
    await apply_due_now(session)
    query = _filtered(select(Purchase).where(Purchase.status.in_(PUBLISHED)), f)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(Purchase.published_at.desc(), Purchase.id).limit(limit).offset(offset))
    return list(rows), int(total or 0)


async def list_own(
    session: AsyncSession, actor: Actor, f: PurchaseFilter, *, limit: int, offset: int
) -> tuple[list[Purchase], int]:
    await apply_due_now(session)
    query = _filtered(select(Purchase).where(Purchase.owner_id == actor.org_id), f)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(Purchase.created_at.desc(), Purchase.id).limit(limit).offset(offset))
    return list(rows), int(total or 0)


async def eligible_open(session: AsyncSession, actor: Actor) -> list[Purchase]:
    """Open purchases this provider may bid on: qualified for the item, not on the avoid list."""
    await apply_due_now(session)
    now = clock.now()
    rows = list(
        await session.scalars(
            select(Purchase)
            .where(Purchase.status == S.open.value, Purchase.bid_deadline > now)
            .order_by(Purchase.bid_deadline)
        )
    )
    if not rows or actor.org_id is None:
        return []
    avoided = set(
        await session.scalars(
            select(PurchaseAvoid.purchase_id).where(
                PurchaseAvoid.provider_id == actor.org_id, PurchaseAvoid.purchase_id.in_([p.id for p in rows])
            )
        )
    )
    today = clock.today_local()
    result = []
    cache: dict[str, bool] = {}
    for p in rows:
        if p.id in avoided or p.owner_id == actor.org_id:
            continue
        if p.catalog_code not in cache:
            cache[p.catalog_code] = await qualified(session, actor.org_id, p.catalog_code, today)
        if cache[p.catalog_code]:
            result.append(p)
    return result


async def opened_counts(session: AsyncSession, p: Purchase) -> tuple[int, int] | None:
    """(bids, valid bids) once the bids are opened; ``None`` while they are sealed."""
    if p.opened_at is None:
        return None
    rows = (
        await session.execute(
            select(Bid.valid, func.count())
            .where(Bid.purchase_id == p.id, Bid.status == BidStatus.active.value)
            .group_by(Bid.valid)
        )
    ).all()
    total = sum(int(n) for _v, n in rows)
    valid = sum(int(n) for v, n in rows if v)
    return total, valid


async def names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids)))
    return {i: n for i, n in rows.all()}


async def catalog_names(session: AsyncSession, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = await session.execute(select(CatalogItem.code, CatalogItem.name).where(CatalogItem.code.in_(codes)))
    return {c: n for c, n in rows.all()}


# --- clarifications ---------------------------------------------------------------------------


async def ask(session: AsyncSession, actor: Actor, purchase_id: uuid.UUID, text: str) -> Question:
    if actor.role != "provider" or actor.org_id is None:
        raise PermissionDenied(_("Only intermediary firms ask clarification questions."))
    p = await get_purchase(session, actor, purchase_id)
    if p.status != S.open:
        raise RuleViolation(_("Questions are taken only while the purchase is open for bids."))
    text = (text or "").strip()
    if len(text) < 5:
        raise InvalidInput.field("question", _("Write your question (at least 5 characters)."))
    q = Question(
        purchase_id=p.id, asker_org_id=actor.org_id, asked_by=actor.user_id, question=text, asked_at=clock.now()
    )
    session.add(q)
    await session.flush()
    audit.record(session, actor, "question.asked", "question", q.id, {"purchase_id": p.id, "question": text})
    return q


async def answer(session: AsyncSession, actor: Actor, question_id: uuid.UUID, text: str) -> Question:
    q = await session.get(Question, question_id)
    if q is None:
        raise NotFound(_("No such question."))
    p = await owned(session, actor, q.purchase_id)
    if p.status not in (S.open, S.evaluating):
        raise RuleViolation(_("Questions can be answered while the purchase is open or being evaluated."))
    if q.answer is not None:
        raise Conflict(_("This question has already been answered."))
    text = (text or "").strip()
    if len(text) < 2:
        raise InvalidInput.field("answer", _("Write the answer."))
    q.answer, q.answered_at, q.answered_by = text, clock.now(), actor.user_id
    audit.record(session, actor, "question.answered", "question", q.id, {"purchase_id": p.id, "answer": text})
    return q


async def questions(session: AsyncSession, purchase_id: uuid.UUID) -> list[Question]:
    return list(
        await session.scalars(select(Question).where(Question.purchase_id == purchase_id).order_by(Question.asked_at))
    )


def due_text(moment: datetime | None) -> str:
    return format_datetime(moment) if moment else ""
