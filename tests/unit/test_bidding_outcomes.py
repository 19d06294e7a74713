"""Pure bidding rules of issue 9: a bid's outcome as its bidder reads it, and the fee standard
that binds a purchase's price cap."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bidding.models import BidStatus, PurchaseStatus
from bidding.outcomes import Outcome, outcome
from bidding.rules import above_fee_standard

S = PurchaseStatus


@pytest.mark.parametrize(
    ("bid", "purchase", "won", "valid", "excluded", "expected"),
    [
        # a withdrawn bid stays withdrawn, whatever the purchase became
        (BidStatus.withdrawn, S.open, False, None, False, Outcome.withdrawn),
        (BidStatus.withdrawn, S.awarded, False, None, False, Outcome.withdrawn),
        (BidStatus.withdrawn, S.cancelled, False, None, False, Outcome.withdrawn),
        # a replaced bid has no outcome of its own
        (BidStatus.replaced, S.awarded, False, True, False, None),
        # the purchase's end is every remaining bid's outcome
        (BidStatus.active, S.cancelled, False, True, False, Outcome.cancelled),
        (BidStatus.active, S.failed, False, True, False, Outcome.failed),
        # no result yet
        (BidStatus.active, S.open, False, None, False, Outcome.pending),
        (BidStatus.active, S.evaluating, False, True, False, Outcome.pending),
        # invalid at the opening: it cannot win
        (BidStatus.active, S.evaluating, False, False, False, Outcome.not_won),
        # a published result: won only as the current selection's winner
        (BidStatus.active, S.publicity, True, True, False, Outcome.won),
        (BidStatus.active, S.publicity, False, True, False, Outcome.not_won),
        (BidStatus.active, S.awarded, True, True, False, Outcome.won),
        (BidStatus.active, S.contracted, True, True, False, Outcome.won),
        (BidStatus.active, S.contracted, False, False, False, Outcome.not_won),
        # excluded by an upheld objection: never shown as won
        (BidStatus.active, S.publicity, True, True, True, Outcome.not_won),
        (BidStatus.active, S.awarded, False, True, True, Outcome.not_won),
    ],
)
def test_a_bids_outcome(bid, purchase, won, valid, excluded, expected):
    assert outcome(bid, purchase, won=won, valid=valid, excluded=excluded) == expected


def test_every_outcome_is_labelled_in_both_languages():
    from bidding import vocab as _vocab  # noqa: F401
    from market import i18n
    from market.terms import label

    for lang, words in (("zh", {"中选", "未中选", "流标", "已撤回", "已取消"}), ("en", {"Won", "Not won"})):
        token = i18n.set_locale(lang)
        try:
            labels = {label(o.value, "bid_outcome") for o in Outcome}
        finally:
            i18n.reset_locale(token)
        assert words <= labels, (lang, labels)


@pytest.mark.parametrize(
    ("cap", "fee_type", "fee_cap", "above"),
    [
        ("90000.00", "government_guided", "80000.00", True),  # YLZJ-006: guided, ¥80,000
        ("80000.01", "government_guided", "80000.00", True),
        ("80000.00", "government_guided", "80000.00", False),
        ("30000.01", "government_priced", "30000.00", True),
        ("30000.00", "government_priced", "30000.00", False),
        ("999999.00", "market_regulated", "30000.00", False),  # the market sets it
        ("999999.00", "government_guided", None, False),  # no figure to hold it to
    ],
)
def test_the_fee_standard_binds_the_price_cap(cap, fee_type, fee_cap, above):
    assert above_fee_standard(Decimal(cap), fee_type, Decimal(fee_cap) if fee_cap else None) is above
