"""Pure bidding rules: the state machine, the time engine's schedule, the validity of a bid at the
opening, the selection methods, abnormally low prices, the bid digest. No database and no clock
here, so that they can be tested exhaustively.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from typing import Any

from bidding.draw import Draw, draw
from bidding.models import InvalidReason, Method, PurchaseStatus
from listings.models import FeeType
from market.errors import InvalidInput
from market.i18n import gettext as _
from market.jsonutil import canonical
from market.money import MAX_AMOUNT, to_money
from market.schemas import check_text

S = PurchaseStatus

# Allowed moves of SPEC §5. A `publicity → publicity` move is a rerun after an upheld objection; an
# `awarded → publicity | evaluating | failed` move follows an award voided because its winner did not
# sign the contract in time (bidding.selecting.void_award).
TRANSITIONS: dict[PurchaseStatus, frozenset[PurchaseStatus]] = {
    S.draft: frozenset({S.open, S.cancelled}),
    S.open: frozenset({S.evaluating, S.cancelled}),
    S.evaluating: frozenset({S.publicity, S.failed, S.cancelled}),
    S.publicity: frozenset({S.awarded, S.publicity, S.evaluating, S.failed}),
    S.awarded: frozenset({S.contracted, S.publicity, S.evaluating, S.failed}),
    S.contracted: frozenset(),
    S.cancelled: frozenset(),
    S.failed: frozenset(),
}


def can_move(current: PurchaseStatus, target: PurchaseStatus) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


SCORE_STEP = Decimal("0.01")
MAX_DAYS = 3650  # no service period, bid or purchase, is longer than ten years


# --- domain bounds of what people type ----------------------------------------------------------


def text(value: str | None, field: str, *, shortest: int, longest: int, too_short: str) -> str:
    """``value`` trimmed, between ``shortest`` and ``longest`` characters and without control
    characters; raises :class:`InvalidInput` naming ``field`` otherwise (``too_short`` says what
    is missing)."""
    value = (value or "").strip()
    if len(value) < shortest:
        raise InvalidInput.field(field, too_short)
    if len(value) > longest:
        raise InvalidInput.field(field, _("At most %(n)s characters.", n=longest))
    try:
        check_text(value)
    except ValueError as exc:
        raise InvalidInput.field(field, str(exc)) from None
    return value


def amount_in_range(value: Decimal) -> bool:
    """Whether ``value`` fits NUMERIC(14,2) (the schemas refuse more; services check again)."""
    return value.is_finite() and abs(value) <= MAX_AMOUNT


# fees the government prices (政府定价) or guides (政府指导价): the item's fee cap binds the purchase
CAPPED_FEES = frozenset({FeeType.government_priced, FeeType.government_guided})


def above_fee_standard(budget_cap: Decimal, fee_type: str, fee_cap: Decimal | None) -> bool:
    """Whether a purchase's price cap exceeds the fee standard of its catalog item: a government-
    priced or government-guided fee with a cap binds the purchase; a market-regulated one does not."""
    return fee_type in CAPPED_FEES and fee_cap is not None and budget_cap > fee_cap


# --- the time engine's schedule ----------------------------------------------------------------


class Transition(StrEnum):
    """What time does to a purchase (SPEC §5: "time moves states too")."""

    close = "close"  # the bid deadline: open the bids, check them → evaluating (or failed)
    expire_explanations = "expire_explanations"  # unexplained abnormally low prices are set aside
    award = "award"  # the end of publicity without a pending objection → awarded


@dataclass(frozen=True)
class Timing:
    """What the schedule of a purchase depends on."""

    status: PurchaseStatus
    bid_deadline: datetime
    explanation_due_at: datetime | None = None
    publicity_ends_at: datetime | None = None
    objection_pending: bool = False


def due_transitions(t: Timing) -> list[tuple[datetime, Transition]]:
    """Every time transition the purchase awaits, with the moment it is due, earliest first.

    The one source of the time engine (as Prozorro's chronograph): the persisted ``next_check_at``
    is the first moment of this list, and the engine applies exactly the entries that are due.
    """
    due: list[tuple[datetime, Transition]] = []
    if t.status == S.open:
        due.append((t.bid_deadline, Transition.close))
    elif t.status == S.evaluating and t.explanation_due_at is not None:
        due.append((t.explanation_due_at, Transition.expire_explanations))
    elif t.status == S.publicity and t.publicity_ends_at is not None and not t.objection_pending:
        due.append((t.publicity_ends_at, Transition.award))
    return sorted(due)


def next_check(t: Timing) -> datetime | None:
    """When the time engine must look at the purchase next (``None``: nothing awaits)."""
    due = due_transitions(t)
    return due[0][0] if due else None


def due_now(t: Timing, now: datetime) -> list[Transition]:
    """The transitions due at ``now``, in the order they fall due."""
    return [transition for at, transition in due_transitions(t) if at <= now]


CLOSING = "closing"  # a reading, not a stored status: the deadline has passed, the bids are not opened yet


def effective_status(t: Timing, now: datetime) -> str:
    """The status a read shows at ``now``, computed without writing (reads never apply due
    transitions; the worker and state-changing requests do).

    An open purchase whose bid deadline has passed reads as :data:`CLOSING` (bidding closed,
    awaiting the opening) until the time engine has opened its bids: the opening checks the bids
    and writes them to the audit trail, so a read can neither show them nor the outcome (evaluating
    or failed) before it has happened. The later transitions (explanations, award) change nothing a
    reader could act on before they are recorded, so those statuses read as stored.
    """
    if Transition.close in due_now(t, now):
        return CLOSING
    return str(t.status)


# --- the validity of a bid at the opening ------------------------------------------------------


@dataclass(frozen=True)
class BidFacts:
    """What the opening knows of one active bid."""

    price: Decimal
    service_days: int
    avoided: bool
    affiliated: bool
    qualified: bool
    # received before the last material change notice and neither confirmed nor replaced since
    unconfirmed: bool = False
    # the bidder's credit grade at the deadline is below the purchase's minimum grade
    below_min_grade: bool = False


@dataclass(frozen=True)
class BidLimits:
    """The purchase's terms a bid must keep."""

    budget_cap: Decimal
    price_floor: Decimal | None
    service_days: int


def invalid_reason(bid: BidFacts, limits: BidLimits) -> InvalidReason | None:
    """Why the bid is invalid at the opening (the first reason that applies), or ``None``."""
    if bid.unconfirmed:
        return InvalidReason.not_confirmed_after_change
    if bid.avoided:
        return InvalidReason.avoided
    if bid.affiliated:
        return InvalidReason.affiliated
    if not bid.qualified:
        return InvalidReason.not_qualified
    if bid.below_min_grade:
        return InvalidReason.below_min_grade
    if bid.price > limits.budget_cap or (limits.price_floor is not None and bid.price < limits.price_floor):
        return InvalidReason.price_out_of_range
    if bid.service_days > limits.service_days:
        return InvalidReason.service_days
    return None


# --- the bid digest -----------------------------------------------------------------------------


def bid_content(
    *,
    bid_id: uuid.UUID,
    purchase_id: uuid.UUID,
    purchase_ref: str,
    provider_id: uuid.UUID,
    price: Decimal,
    service_days: int,
    note: str,
    received_at: datetime,
) -> str:
    """The canonical JSON of a bid: what its receipt digest covers (and what the bidder can check)."""
    return canonical(
        {
            "bid_id": bid_id,
            "purchase_id": purchase_id,
            "purchase_ref": purchase_ref,
            "provider_id": provider_id,
            "price": to_money(price),
            "service_days": service_days,
            "note": note,
            "received_at": received_at,
        }
    )


def digest_of(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


# --- abnormally low prices ---------------------------------------------------------------------


def abnormally_low(prices: dict[Any, Decimal], ratio: Decimal) -> set[Any]:
    """Bids whose price is below ``ratio`` × the mean price of the *other* bids."""
    flagged: set[Any] = set()
    if len(prices) < 2:
        return flagged
    total = sum(prices.values(), Decimal(0))
    others = len(prices) - 1
    for key, price in prices.items():
        # price < ratio * (total - price) / others, without dividing
        if price * others < ratio * (total - price):
            flagged.add(key)
    return flagged


# --- selection ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    bid_id: uuid.UUID
    digest: str
    price: Decimal
    quality_mark: int | None = None
    credit_score: int | None = None


@dataclass(frozen=True)
class Weights:
    price: int
    quality: int
    credit: int

    def check(self) -> Weights:
        values = (self.price, self.quality, self.credit)
        if any(v < 0 or v > 100 for v in values) or sum(values) != 100:
            raise InvalidInput.field("weights", _("The weights are percentages from 0 to 100 that add up to 100."))
        return self


@dataclass(frozen=True)
class Outcome:
    method: str
    winner: Candidate
    pool: list[Candidate]
    scores: dict[str, Decimal]  # digest -> score (scored only)
    draw: Draw | None
    reason: str | None = None

    def evaluation(self) -> list[dict[str, Any]]:
        rows = []
        for c in sorted(self.pool, key=lambda c: c.digest):
            row: dict[str, Any] = {"bid_id": str(c.bid_id), "digest": c.digest, "price": f"{to_money(c.price):.2f}"}
            if self.method == Method.scored:
                row.update(
                    quality_mark=c.quality_mark, credit_score=c.credit_score, score=f"{self.scores[c.digest]:.2f}"
                )
            rows.append(row)
        return rows


def score(candidate: Candidate, lowest: Decimal, weights: Weights) -> Decimal:
    """price weight × 100 × lowest / price + quality weight × mark + credit weight × credit (weights in %)."""
    if candidate.quality_mark is None or candidate.credit_score is None:
        raise InvalidInput.field("quality_marks", _("Every valid bid needs a quality mark from 0 to 100."))
    with localcontext() as ctx:
        ctx.prec = 40
        value = (
            Decimal(weights.price) * lowest / candidate.price
            + Decimal(weights.quality) * Decimal(candidate.quality_mark) / 100
            + Decimal(weights.credit) * Decimal(candidate.credit_score) / 100
        )
        return value.quantize(SCORE_STEP, rounding=ROUND_HALF_UP)


def select(
    method: str,
    pool: list[Candidate],
    *,
    secret: str,
    purchase_ref: str,
    weights: Weights | None = None,
    chosen_bid_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> Outcome:
    """Apply a selection method to the valid bids. Ties (and ``random``) are drawn with ``secret``."""
    if not pool:
        raise InvalidInput.field("bids", _("There is no valid bid to select from."))
    reason = (reason or "").strip() or None
    if method != Method.direct and (chosen_bid_id is not None or reason is not None):
        raise InvalidInput.field(
            "bid_id", _("With this selection method the rules choose the winner; the owner may not name a bid.")
        )
    scores: dict[str, Decimal] = {}
    if method == Method.direct:
        if chosen_bid_id is None:
            raise InvalidInput.field("bid_id", _("Direct selection needs the bid you choose."))
        if reason is None or len(reason) < 10:
            raise InvalidInput.field("reason", _("Direct selection needs a written reason (at least 10 characters)."))
        chosen = next((c for c in pool if c.bid_id == chosen_bid_id), None)
        if chosen is None:
            raise InvalidInput.field("bid_id", _("Choose one of the valid bids."))
        return Outcome(method=method, winner=chosen, pool=list(pool), scores={}, draw=None, reason=reason)
    if method == Method.random:
        tied = list(pool)
    elif method == Method.lowest_price:
        lowest = min(c.price for c in pool)
        tied = [c for c in pool if c.price == lowest]
    elif method == Method.scored:
        if weights is None:
            raise InvalidInput.field("weights", _("Scored selection needs weights."))
        lowest = min(c.price for c in pool)
        scores = {c.digest: score(c, lowest, weights) for c in pool}
        best = max(scores.values())
        tied = [c for c in pool if scores[c.digest] == best]
    else:
        raise InvalidInput.field("method", _("Unknown selection method."))
    the_draw = draw(secret, purchase_ref, [c.digest for c in tied])
    winner = next(c for c in tied if c.digest == the_draw.winner)
    return Outcome(method=method, winner=winner, pool=list(pool), scores=scores, draw=the_draw)


# --- what an upheld objection does, and the draw commitments of the rounds ----------------------


class UpheldAction(StrEnum):
    rerun = "rerun"  # the rules select again among the remaining valid bids, with a fresh draw
    reselect = "reselect"  # direct selection: the owner selects again among the remaining bids
    fail = "fail"  # fewer valid bids than the minimum remain: the purchase fails (流标)


@dataclass(frozen=True)
class UpheldEffect:
    action: UpheldAction
    remaining: int  # valid bids left once the winner is excluded
    min_bids: int


def upheld_effect(method: str, remaining: int, min_bids: int) -> UpheldEffect:
    """What upholding an objection will do, said on the decision form before the operator submits:
    ``remaining`` valid bids are left once the current winner is excluded."""
    if remaining < min_bids:
        action = UpheldAction.fail
    elif method == Method.direct:
        action = UpheldAction.reselect
    else:
        action = UpheldAction.rerun
    return UpheldEffect(action, remaining, min_bids)


@dataclass(frozen=True)
class Commitment:
    """A draw commitment as published: the selection round it is for, and the round whose result
    published it (``None``: published with the announcement, before any bid)."""

    round: int
    commitment: str
    published_with: int | None
    drawn: bool  # its secret has been revealed by that round's draw


def commitments(drawn: list[tuple[int, str]], pending: str | None, last_round: int) -> list[Commitment]:
    """Every commitment of a purchase, oldest first.

    ``drawn``: (selection round, commitment) of each round that made a draw, in round order;
    ``pending``: the commitment of the next draw, if one may still come; ``last_round``: the last
    selection round (0 before any). A commitment stays what it was when published: the first one
    is published with the announcement, each later one with the result of the round before it.
    """
    out: list[Commitment] = []
    published_with: int | None = None
    for number, value in drawn:
        out.append(Commitment(number, value, published_with, True))
        published_with = number
    if pending is not None and pending not in {c.commitment for c in out}:
        out.append(Commitment(last_round + 1, pending, published_with, False))
    return out


# --- change notices (变更公告) -------------------------------------------------------------------

# what a change notice may amend, in the order a notice lists them
AMENDABLE = ("description", "budget_cap", "bid_deadline", "service_days")
# a change of any of these is material: the bids were made for other terms
MATERIAL = frozenset({"description", "budget_cap", "service_days"})


@dataclass(frozen=True)
class Amendable:
    """The terms of an open purchase a change notice may amend."""

    description: str
    budget_cap: Decimal
    bid_deadline: datetime
    service_days: int


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


def changes(before: Amendable, after: Amendable) -> list[Change]:
    """The fields that differ, in :data:`AMENDABLE` order."""
    out = []
    for name in AMENDABLE:
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            out.append(Change(name, old, new))
    return out


def is_material(found: list[Change]) -> bool:
    """Whether existing bids must be confirmed or replaced (cap, scope or service days changed)."""
    return any(c.field in MATERIAL for c in found)


def deadline_after_change(requested: datetime, *, material: bool, earliest: datetime) -> datetime:
    """The deadline a notice sets: what the owner asks, moved later when the change is material
    so that at least the minimum bidding period (``earliest``, counted from the notice) remains."""
    return max(requested, earliest) if material else requested


def cap_problem(budget_cap: Decimal, price_floor: Decimal | None, fee_type: str, fee_cap: Decimal | None) -> str | None:
    """What is wrong with an amended price cap: ``"not_positive"``, ``"too_large"``,
    ``"fee_standard"`` (above the catalog's government fee cap), ``"below_floor"``; or ``None``."""
    if budget_cap <= 0:
        return "not_positive"
    if not amount_in_range(budget_cap):
        return "too_large"
    if above_fee_standard(budget_cap, fee_type, fee_cap):
        return "fee_standard"
    if price_floor is not None and budget_cap <= price_floor:
        return "below_floor"
    return None


def needs_confirmation(
    received_at: datetime, material_notices: list[tuple[Any, datetime]], confirmed: set[Any]
) -> bool:
    """Whether an active bid still waits for its bidder's confirmation: it was received before
    the last material notice (given as ``(notice_id, published_at)``) and was not confirmed for it.
    A bid received after the notice (a replacement) needs none."""
    if not material_notices:
        return False
    last_id, last_at = max(material_notices, key=lambda n: n[1])
    return received_at < last_at and last_id not in confirmed
