"""Scored selection in two envelopes (issue 9 §4).

After the deadline of a ``scored`` purchase the owner first sees each valid bid's technical part
(its note and service time, no price and nothing derived from one), gives each a quality mark
from 0 to 100 with a written reason, and locks the marks. Locking cannot be undone (a trigger
keeps locked marks, migration 0009); only then are the prices opened to the owner: the abnormally
low check runs and the selection computes the scores with the locked marks. The marks and their
reasons are published with the result.

Until the lock, the owner is refused every price (the opened bids, a bid, its document): see
:func:`prices_sealed_for`. The operator and the finance bureau see the opened bids as usual.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bidding import purchases, queries, rules, timeline
from bidding.models import Bid, BidStatus, InvalidReason, Method, Purchase, PurchaseStatus, QualityMark
from market import audit, clock
from market.actor import Actor, require_approver
from market.errors import InvalidInput, NotFound, PermissionDenied, RuleViolation
from market.i18n import gettext as _
from market.settings import Settings

S = PurchaseStatus
MIN_REASON = 10
MAX_REASON = 4000
READERS = ("owner", "admin", "finance")
# invalid reasons that say something about the price: not shown to the owner before the lock
PRICE_REASONS = frozenset({InvalidReason.price_out_of_range, InvalidReason.abnormally_low_unexplained})


def blind(p: Purchase) -> bool:
    """Whether the purchase's prices are still closed to its owner: scored, opened, marks not locked."""
    return p.method == Method.scored and p.marks_locked_at is None


def prices_sealed_for(actor: Actor, p: Purchase) -> bool:
    """Whether ``actor`` (the owner of a scored purchase whose marks are not locked) may not see prices."""
    return actor.role == "owner" and blind(p)


def sealed_prices() -> PermissionDenied:
    return PermissionDenied(
        _("The prices are opened after the quality marks are locked."),
        _("Mark every valid bid's technical part with a written reason, then lock the marks."),
    )


@dataclass
class TechnicalPart:
    """What the owner sees of a bid before the prices are opened."""

    bid: Bid
    provider_name: str
    mark: QualityMark | None

    @property
    def to_mark(self) -> bool:
        return _in_pool(self.bid)

    @property
    def invalid_reason(self) -> str | None:
        reason = self.bid.invalid_reason
        return None if reason in PRICE_REASONS else reason


@dataclass
class Evaluation:
    purchase: Purchase
    parts: list[TechnicalPart]

    @property
    def to_mark(self) -> list[TechnicalPart]:
        return [t for t in self.parts if t.to_mark]

    @property
    def missing(self) -> int:
        return sum(1 for t in self.to_mark if t.mark is None)

    @property
    def locked_at(self) -> datetime | None:
        return self.purchase.marks_locked_at


def _in_pool(b: Bid) -> bool:
    return b.status == BidStatus.active and b.valid is True and not b.excluded


async def _scored(session: AsyncSession, settings: Settings, actor: Actor, purchase_id: uuid.UUID) -> Purchase:
    if actor.role not in READERS:
        raise PermissionDenied(_("Only the owner, the operator and the finance bureau see the evaluation."))
    p = await purchases.get_purchase(session, settings, actor, purchase_id)
    if actor.role == "owner" and not purchases.is_owner(actor, p):
        raise purchases.not_found()
    if p.method != Method.scored:
        raise NotFound(_("This purchase is not a scored selection; it has no quality marks."))
    if p.opened_at is None:
        raise PermissionDenied(_("Bids are sealed until the deadline."))
    return p


async def marks_of(session: AsyncSession, purchase_id: uuid.UUID) -> dict[uuid.UUID, QualityMark]:
    rows = await session.scalars(select(QualityMark).where(col(QualityMark.purchase_id) == purchase_id))
    return {m.bid_id: m for m in rows}


async def evaluation(session: AsyncSession, actor: Actor, settings: Settings, purchase_id: uuid.UUID) -> Evaluation:
    """The technical parts of the opened bids with their marks (never a price)."""
    p = await _scored(session, settings, actor, purchase_id)
    bids = list(
        await session.scalars(
            select(Bid)
            .where(col(Bid.purchase_id) == p.id, col(Bid.status) == BidStatus.active)
            .order_by(col(Bid.received_at))
        )
    )
    names = await queries.names(session, {b.provider_id for b in bids})
    marks = await marks_of(session, p.id)
    return Evaluation(p, [TechnicalPart(b, names.get(b.provider_id, ""), marks.get(b.id)) for b in bids])


async def _markable(session: AsyncSession, actor: Actor, settings: Settings, purchase_id: uuid.UUID) -> Purchase:
    p = await purchases.owned(session, settings, actor, purchase_id)
    if p.method != Method.scored:
        raise RuleViolation(_("Quality marks apply only to scored selection."))
    if p.status != S.evaluating:
        raise RuleViolation(_("Quality marks are given after the deadline, before the selection."))
    if p.marks_locked_at is not None:
        raise RuleViolation(_("The quality marks are locked; they can no longer change."))
    return p


async def mark(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    purchase_id: uuid.UUID,
    bid_id: uuid.UUID,
    *,
    value: int,
    reason: str,
) -> QualityMark:
    """The owner marks one valid bid's technical part (0-100) with a written reason; a mark may be
    changed until the marks are locked."""
    p = await _markable(session, actor, settings, purchase_id)
    bid = await session.get(Bid, bid_id)
    if bid is None or bid.purchase_id != p.id or not _in_pool(bid):
        raise InvalidInput.field("bid_id", _("Choose one of the valid bids."))
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise InvalidInput.field("mark", _("A quality mark is a whole number from 0 to 100."))
    reason = rules.text(
        reason,
        "reason",
        shortest=MIN_REASON,
        longest=MAX_REASON,
        too_short=_("Give the reason for this mark (at least %(n)s characters); it is published.", n=MIN_REASON),
    )
    now = clock.now()
    row = await session.scalar(select(QualityMark).where(col(QualityMark.bid_id) == bid.id))
    if row is None:
        row = QualityMark(bid_id=bid.id, purchase_id=p.id, mark=value, reason=reason, marked_at=now)
        session.add(row)
    row.mark, row.reason, row.marked_at, row.marked_by = value, reason, now, actor.user_id
    await session.flush()
    audit.record(
        session, actor, "bid.quality_marked", "bid", bid.id, {"purchase_id": p.id, "mark": value, "reason": reason}
    )
    return row


async def lock(session: AsyncSession, actor: Actor, settings: Settings, purchase_id: uuid.UUID) -> Purchase:
    """Lock the marks for good, then open the prices: the abnormally low check runs now."""
    require_approver(actor)
    p = await _markable(session, actor, settings, purchase_id)
    pool = list(
        await session.scalars(
            select(Bid).where(
                col(Bid.purchase_id) == p.id,
                col(Bid.status) == BidStatus.active,
                col(Bid.valid).is_(True),
                col(Bid.excluded).is_(False),
            )
        )
    )
    marks = await marks_of(session, p.id)
    missing = [b for b in pool if b.id not in marks]
    if missing:
        raise InvalidInput.field(
            "quality_marks",
            _("Give every valid bid a quality mark with its reason before locking (%(n)s missing).", n=len(missing)),
        )
    now = clock.now()
    for m in marks.values():
        m.locked_at = now
    p.marks_locked_at, p.marks_locked_by = now, actor.user_id
    p.updated_at = now
    await session.flush()
    audit.record(
        session,
        actor,
        "purchase.quality_marks_locked",
        "purchase",
        p.id,
        {
            "ref": p.ref,
            "marks": [
                {"bid_id": m.bid_id, "mark": m.mark, "reason": m.reason}
                for m in sorted(marks.values(), key=lambda m: str(m.bid_id))
            ],
        },
    )
    # the price envelope opens: abnormally low prices are flagged now (not at the deadline)
    timeline.flag_abnormal(session, settings, p, pool, now)
    await timeline.schedule(session, p)
    return p


async def locked_marks(session: AsyncSession, p: Purchase, bids: list[Bid]) -> dict[uuid.UUID, int]:
    """The locked marks of ``bids`` (the selection's pool); refused before the lock."""
    if p.marks_locked_at is None:
        raise RuleViolation(
            _("Lock the quality marks first."),
            _("The owner marks each valid bid's technical part with a reason and locks the marks; then prices open."),
        )
    marks = await marks_of(session, p.id)
    if any(b.id not in marks for b in bids):  # pragma: no cover - the lock needs a mark for every valid bid
        raise RuleViolation(_("A valid bid has no quality mark."))
    return {b.id: marks[b.id].mark for b in bids}
