"""Pure bidding rules: the state machine, the selection methods, abnormally low prices, the
bid digest. No database and no clock here, so that they can be tested exhaustively.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from bidding.draw import Draw, draw
from bidding.models import Method, PurchaseStatus
from market.errors import InvalidInput
from market.i18n import gettext as _
from market.jsonutil import canonical
from market.money import to_money

S = PurchaseStatus

# Allowed moves of SPEC §5. A `publicity → publicity` move is a rerun after an upheld objection.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.draft: frozenset({S.open, S.cancelled}),
    S.open: frozenset({S.evaluating, S.cancelled}),
    S.evaluating: frozenset({S.publicity, S.failed, S.cancelled}),
    S.publicity: frozenset({S.awarded, S.publicity, S.evaluating, S.failed}),
    S.awarded: frozenset({S.contracted}),
    S.contracted: frozenset(),
    S.cancelled: frozenset(),
    S.failed: frozenset(),
}


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


SCORE_STEP = Decimal("0.01")


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
