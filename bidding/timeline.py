"""The time engine: the state machine's moves and what time does to a purchase (SPEC §5).

One pure function, :func:`bidding.rules.due_transitions`, says which transitions a purchase
awaits and when (as Prozorro's chronograph does). Both halves of the engine are derived from it,
so that they cannot disagree:

* **scheduling** — :func:`schedule` persists the first due moment as ``next_check_at``, which the
  worker's :func:`tick` and the state-changing requests' check (:func:`refresh`) look for
  (reads never apply anything: they show :func:`bidding.rules.effective_status`);
* **applying** — :func:`apply_due` applies exactly the entries of that list that are due, under
  the purchase's row lock, until none is.

The transitions: the bid deadline opens and checks the bids (``open → evaluating``, or
``failed`` with too few valid bids); an abnormally low price not explained in time is set aside;
the end of publicity without a pending objection awards the purchase (emitting
:class:`~bidding.events.PurchaseAwarded`).

Sealing: the purchase row is never touched by a bid, and the opening writes the bids to the audit
trail only once the deadline has passed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col, select

from bidding import notices, notifications, rules
from bidding import vocab as _vocab  # noqa: F401  (registers the labels of the coded values)
from bidding.events import PurchaseAwarded
from bidding.models import (
    Bid,
    BidDraft,
    BidStatus,
    FailReason,
    InvalidReason,
    Method,
    Objection,
    ObjectionStatus,
    Purchase,
    PurchaseAvoid,
    PurchaseStatus,
    Selection,
    SelectionStatus,
)
from bidding.rules import Transition
from listings import credit
from listings.credit_rules import CreditFactKind, grade_at_least
from listings.models import CatalogItem
from listings.services import qualified_many
from market import audit, clock, events
from market.actor import SYSTEM, Actor
from market.db import is_postgres, is_read_only, unit_of_work
from market.errors import RuleViolation
from market.i18n import gettext as _
from market.settings import Settings
from market.terms import label
from market.workdays import add_period

log = logging.getLogger("bidding")

S = PurchaseStatus
EXPLANATION_DAYS = 2  # working days a bidder has to explain an abnormally low price
TICK_BATCH = 1000  # purchases a tick at most (then the other jobs run)
CLAIM_BATCH = 25  # purchases claimed and applied per transaction


# --- the row lock and the state machine -------------------------------------------------------


async def lock(session: AsyncSession, purchase_id: uuid.UUID) -> Purchase | None:
    """The purchase row, locked until the end of the transaction (bids and the close serialise here).
    A read session takes no lock (PostgreSQL refuses ``FOR UPDATE`` in a read-only transaction)."""
    query = select(Purchase).where(col(Purchase.id) == purchase_id)
    if not is_read_only(session):
        query = query.with_for_update()
    return await session.scalar(query.execution_options(populate_existing=True))


def move(
    session: AsyncSession, actor: Actor, p: Purchase, target: PurchaseStatus, action: str, data: dict[str, Any]
) -> None:
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


# --- the reads the engine needs ---------------------------------------------------------------


async def pending_objections(session: AsyncSession, purchase_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Objection)
            .where(col(Objection.purchase_id) == purchase_id, col(Objection.status) == ObjectionStatus.pending)
        )
        or 0
    )


async def pool_size(session: AsyncSession, purchase_id: uuid.UUID) -> int:
    """The valid bids left to choose from (active, valid, not excluded by an objection)."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Bid)
            .where(
                col(Bid.purchase_id) == purchase_id,
                col(Bid.status) == BidStatus.active,
                col(Bid.valid).is_(True),
                col(Bid.excluded).is_(False),
            )
        )
        or 0
    )


async def current_selection(session: AsyncSession, purchase_id: uuid.UUID) -> Selection | None:
    return await session.scalar(
        select(Selection)
        .where(col(Selection.purchase_id) == purchase_id, col(Selection.status) == SelectionStatus.current)
        .order_by(col(Selection.round).desc())
        .limit(1)
    )


# --- the schedule -----------------------------------------------------------------------------


async def timing(session: AsyncSession, p: Purchase) -> rules.Timing:
    """What :func:`bidding.rules.due_transitions` needs of the purchase."""
    pending = p.status == S.publicity and await pending_objections(session, p.id) > 0
    return rules.Timing(
        status=p.status,
        bid_deadline=p.bid_deadline,
        explanation_due_at=p.explanation_due_at,
        publicity_ends_at=p.publicity_ends_at,
        objection_pending=pending,
    )


async def schedule(session: AsyncSession, p: Purchase) -> None:
    """Persist when the time engine must look at the purchase next (the first due transition)."""
    p.next_check_at = rules.next_check(await timing(session, p))


async def due_moments(session: AsyncSession, now: datetime, limit: int) -> tuple[datetime | None, list[datetime]]:
    """The time engine's due moments around ``now``: the latest at or before it (a transition the
    worker has not applied yet) and the next ``limit`` after it, earliest first. Reads show the
    state as of now, so what they show changes at each of these moments even without a commit
    (:mod:`market.web.etag` derives its tags from them). Two index reads of ``next_check_at``."""
    due = col(Purchase.next_check_at)
    past = (await session.execute(select(func.max(due)).where(due <= now))).scalar()
    ahead = (await session.execute(select(due).where(due > now).order_by(due).limit(limit))).scalars().all()
    return (clock.ensure_aware(past) if past is not None else None), [
        clock.ensure_aware(moment) for moment in ahead if moment is not None
    ]


async def refresh(session: AsyncSession, settings: Settings, p: Purchase, *, locked: bool = False) -> Purchase:
    """Request-time enforcement: apply whatever is due before anyone acts on the purchase. Reads
    never write: in a read session (a GET) the purchase is returned as stored, and what a reader
    sees of the time that has passed is :attr:`~bidding.models.Purchase.effective_status`."""
    if is_read_only(session):
        return p
    now = clock.now()
    if p.next_check_at is None or clock.ensure_aware(p.next_check_at) > now:
        return p
    if not locked:
        locked_p = await lock(session, p.id)
        assert locked_p is not None
        p = locked_p
    await apply_due(session, settings, p, now)
    return p


async def apply_due(session: AsyncSession, settings: Settings, p: Purchase, now: datetime) -> int:
    """Apply the transitions of :func:`bidding.rules.due_transitions` that are due at ``now`` to
    one (locked) purchase, one after the other, then schedule it; idempotent. Returns how many
    were applied."""
    applied: list[Transition] = []
    while due := rules.due_now(await timing(session, p), now):
        if due[0] in applied:  # a transition that did not move the purchase on: never apply it twice
            raise RuntimeError(f"purchase {p.id}: {due[0]} is still due after it was applied")
        await _TRANSITIONS[due[0]](session, settings, p, now)
        applied.append(due[0])
    await schedule(session, p)
    return len(applied)


async def tick(factory: async_sessionmaker[AsyncSession], settings: Settings, now: datetime) -> int:
    """The worker's tick: claim due purchases in batches of :data:`CLAIM_BATCH` (``FOR UPDATE SKIP
    LOCKED`` on PostgreSQL, so several workers share the work and never take the same purchase;
    SQLite's write lock serialises them) and apply the batch in one transaction — each transition
    audited as ever, one commit (one turn of the audit chain's head lock) per batch. Up to
    :data:`TICK_BATCH` purchases a tick; the worker loops again at once while work remains.

    A purchase whose transition fails rolls its batch back; it is left out and the others are
    claimed again, so one broken purchase never blocks the rest (it is retried at the next tick)."""
    applied = 0
    taken = 0
    failed: set[uuid.UUID] = set()
    while taken < TICK_BATCH:
        async with unit_of_work(factory) as session:
            query = (
                select(Purchase)
                .where(col(Purchase.next_check_at).is_not(None), col(Purchase.next_check_at) <= now)
                .order_by(col(Purchase.next_check_at), col(Purchase.id))
                .limit(min(CLAIM_BATCH, TICK_BATCH - taken))
            )
            if failed:
                query = query.where(col(Purchase.id).not_in(failed))
            if is_postgres(session):
                query = query.with_for_update(skip_locked=True)
            batch = list(await session.scalars(query.execution_options(populate_existing=True)))
            if not batch:
                break
            done = 0
            broken: uuid.UUID | None = None
            for p in batch:
                try:
                    done += await apply_due(session, settings, p, now)
                except Exception:
                    log.exception("purchase %s: the due transition failed; it is retried at the next tick", p.id)
                    broken = p.id
                    break
            if broken is not None:
                failed.add(broken)
                continue  # the unit of work rolls the batch back; the others are claimed again
            await session.commit()
            applied += done
            taken += len(batch)
    return applied


# --- the transitions --------------------------------------------------------------------------


async def close(session: AsyncSession, settings: Settings, p: Purchase, now: datetime) -> None:
    """The deadline has passed: open the bids, check each one, fail or flag abnormal prices."""
    bids = list(await session.scalars(select(Bid).where(col(Bid.purchase_id) == p.id).order_by(col(Bid.received_at))))
    avoid = set(await session.scalars(select(PurchaseAvoid.provider_id).where(col(PurchaseAvoid.purchase_id) == p.id)))
    on_date = clock.to_local(p.bid_deadline).date()
    limits = rules.BidLimits(budget_cap=p.budget_cap, price_floor=p.price_floor, service_days=p.service_days)
    active = [b for b in bids if b.status == BidStatus.active]
    # one query for every bidder's qualification, one for every bid's confirmations
    qualification = await qualified_many(session, [b.provider_id for b in active], p.catalog_code, on_date)
    unconfirmed = await notices.unconfirmed(session, p, active)
    await snapshot_credit(session, p, active)
    confirmed = await notices.confirmed_by_bid(session, [b.id for b in bids])
    for b in active:
        reason = rules.invalid_reason(
            rules.BidFacts(
                price=b.price,
                service_days=b.service_days,
                avoided=b.provider_id in avoid,
                affiliated=b.provider_id == p.owner_id,
                qualified=qualification[b.provider_id],
                unconfirmed=b.id in unconfirmed,
                below_min_grade=p.min_grade is not None
                and b.credit_grade is not None
                and not grade_at_least(b.credit_grade, p.min_grade),
            ),
            limits,
        )
        b.valid = reason is None
        b.invalid_reason = reason
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
                "credit_score": b.credit_score,
                "credit_grade": b.credit_grade,
                "confirmed_notices": sorted(str(n) for n in confirmed[b.id]),
            },
        )
    # so do the firms' bid drafts (bidding.drafts): who prepared what, and what became of it
    for d in await session.scalars(
        select(BidDraft).where(col(BidDraft.purchase_id) == p.id).order_by(col(BidDraft.created_at))
    ):
        audit.record(
            session,
            SYSTEM,
            "bid_draft.opened",
            "bid_draft",
            d.id,
            {
                "purchase_id": p.id,
                "provider_id": d.provider_id,
                "prepared_by": d.prepared_by,
                "price": d.price,
                "service_days": d.service_days,
                "created_at": d.created_at,
                "updated_at": d.updated_at,
                "status": d.status,
                "bid_id": d.bid_id,
                "submitted_at": d.submitted_at,
                "submitted_by": d.submitted_by,
            },
        )
    if len(valid) < p.min_bids:
        await fail(session, p, FailReason.too_few_valid_bids, {"valid_bids": len(valid), "min_bids": p.min_bids})
        return
    await notifications.bids_ready(session, p, len(valid))
    if p.method == Method.scored:
        return  # two envelopes: the prices open to the owner when the quality marks are locked
    flag_abnormal(session, settings, p, valid, now)


async def snapshot_credit(session: AsyncSession, p: Purchase, bids: list[Bid]) -> None:
    """Each bidder's credit as of the bid deadline (listings.credit.standing), kept on its bid when the
    purchase is scored (the score counts) or admits a minimum grade (the grade counts)."""
    if p.method != Method.scored and p.min_grade is None:
        return
    found = await credit.standings(session, [b.provider_id for b in bids], p.bid_deadline)
    for b in bids:
        standing = found[b.provider_id]
        b.credit_score = credit.whole_score(standing.score)
        b.credit_grade = standing.grade


def flag_abnormal(session: AsyncSession, settings: Settings, p: Purchase, valid: list[Bid], now: datetime) -> None:
    """Flag abnormally low prices among the valid bids; their bidders have until the due time to
    explain (at the deadline; for scored selection when the quality marks are locked)."""
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


async def expire_explanations(session: AsyncSession, settings: Settings, p: Purchase, now: datetime) -> None:
    """The explanation period is over: abnormally low prices not explained are set aside."""
    unexplained = list(
        await session.scalars(
            select(Bid).where(
                col(Bid.purchase_id) == p.id,
                col(Bid.status) == BidStatus.active,
                col(Bid.valid).is_(True),
                col(Bid.abnormally_low).is_(True),
                col(Bid.explanation).is_(None),
            )
        )
    )
    for b in unexplained:
        b.valid = False
        b.invalid_reason = InvalidReason.abnormally_low_unexplained
        # the firm's credit: an abnormally low bid not explained in time
        await credit.record_fact(
            session,
            provider_id=b.provider_id,
            kind=CreditFactKind.abnormally_low_unexplained,
            occurred_at=now,
            value=1,
            source_id=b.id,
            link=f"/purchases/{p.id}",
            note=p.ref or "",
        )
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
        await fail(session, p, FailReason.too_few_valid_bids, {"valid_bids": remaining, "min_bids": p.min_bids})


async def fail(session: AsyncSession, p: Purchase, reason: FailReason, data: dict[str, Any]) -> None:
    """流标: fewer valid bids than the minimum (the owner may republish it as a new round)."""
    p.fail_reason = reason
    p.closed_at = clock.now()
    p.explanation_due_at = None
    move(session, SYSTEM, p, S.failed, "failed", {"reason": reason, **data})
    await schedule(session, p)
    await notifications.result(session, p)


async def award(session: AsyncSession, settings: Settings, p: Purchase, now: datetime) -> None:
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
    await notifications.result(session, p, winner.provider_id)
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


_TRANSITIONS: dict[Transition, Callable[[AsyncSession, Settings, Purchase, datetime], Awaitable[None]]] = {
    Transition.close: close,
    Transition.expire_explanations: expire_explanations,
    Transition.award: award,
}
