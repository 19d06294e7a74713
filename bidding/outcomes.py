"""What a bid came to, as its bidder reads it (SPEC §5 "Bidders know their outcome"): 中选 won,
未中选 not won, 流标 failed, 已撤回 withdrawn, 已取消 cancelled — or pending while the purchase is
still open or evaluated. Pure: the caller gives the bid's and the purchase's status and whether
the bid wins the purchase's current selection."""

from __future__ import annotations

from enum import StrEnum

from bidding.models import BidStatus, PurchaseStatus

S = PurchaseStatus
RESULT_PUBLISHED = frozenset({S.publicity, S.awarded, S.contracted})


class Outcome(StrEnum):
    won = "won"  # 中选
    not_won = "not_won"  # 未中选
    failed = "failed"  # 流标
    withdrawn = "withdrawn"  # 已撤回
    cancelled = "cancelled"  # 已取消
    pending = "pending"  # 待定: the purchase has no result yet


def outcome(bid_status: str, purchase_status: str, *, won: bool, valid: bool | None, excluded: bool) -> Outcome | None:
    """The outcome of a bid (``None`` for a bid its bidder replaced: the new one has the outcome).

    A withdrawn bid stays withdrawn whatever the purchase became; a cancelled or failed purchase
    is the outcome of every bid left in it; once a result is published a bid has won only if it
    wins the *current* selection (a bid excluded by an upheld objection has not won); an invalid
    bid cannot win, which is known at the opening."""
    if bid_status == BidStatus.replaced:
        return None
    if bid_status == BidStatus.withdrawn:
        return Outcome.withdrawn
    if purchase_status == S.cancelled:
        return Outcome.cancelled
    if purchase_status == S.failed:
        return Outcome.failed
    if purchase_status in RESULT_PUBLISHED:
        return Outcome.won if won and not excluded else Outcome.not_won
    if purchase_status == S.evaluating and (valid is False or excluded):
        return Outcome.not_won
    return Outcome.pending
