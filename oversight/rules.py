"""Pure oversight rules: spending, competition, savings, timeliness and red flags.

No database and no clock here: :mod:`oversight.facts` loads plain facts (bids only of
purchases whose bids have been opened, so nothing sealed can reach a report), and these
functions answer from them. Each red flag is a code, a severity, its subject (a purchase or a
firm) and the data behind it; :mod:`oversight.explain` turns it into a sentence.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bidding.rules import abnormally_low
from market.clock import to_local
from market.settings import Settings

ZERO = Decimal("0.00")
AWARDED = ("awarded", "contracted")
SELECTED = ("publicity", "awarded", "contracted")
IN_PROGRESS = ("open", "evaluating", "publicity")
# purchases that spend or may still spend money (a failed round is replaced by a new one)
LIVE = ("open", "evaluating", "publicity", "awarded", "contracted")
GROUPINGS = ("owner", "catalog", "method", "funding", "month")

HIGH, MEDIUM, LOW = "high", "medium", "low"
SEVERITIES = (HIGH, MEDIUM, LOW)

# red flags of a purchase (its contract's flags come from the invoices package's rules)
SINGLE_BID = "single_bid"
DIRECT_SELECTION = "direct_selection"
LOW_PRICE = "low_price"
SPLIT_PURCHASE = "split_purchase"
IDENTICAL_PRICES = "identical_prices"
LINKED_BIDDERS = "linked_bidders"
OBJECTION_UPHELD = "objection_upheld"
CANCELLED_AFTER_OPENING = "cancelled_after_opening"  # cancelled after the bids were opened, and its next round
QUALITY_MARKS_DECIDED = "quality_marks_decided"  # scored: the owner's marks beat the lowest valid price
CONTRACT_FLAGS = ("signing_overdue", "signed_late", "overdue", "delivered_late", "payment_overdue", "paid_late")
# red flags of a firm
CONCENTRATION = "concentration"
LINKED_FIRMS = "linked_firms"

SEVERITY: dict[str, str] = {
    SPLIT_PURCHASE: HIGH,
    IDENTICAL_PRICES: HIGH,
    LINKED_BIDDERS: HIGH,
    CANCELLED_AFTER_OPENING: HIGH,
    QUALITY_MARKS_DECIDED: HIGH,
    CONCENTRATION: HIGH,
    "payment_overdue": HIGH,
    SINGLE_BID: MEDIUM,
    DIRECT_SELECTION: MEDIUM,
    LOW_PRICE: MEDIUM,
    OBJECTION_UPHELD: MEDIUM,
    LINKED_FIRMS: MEDIUM,
    "signing_overdue": MEDIUM,
    "overdue": MEDIUM,
    "paid_late": MEDIUM,
    "signed_late": LOW,
    "delivered_late": LOW,
}
PURCHASE_FLAGS = (
    SPLIT_PURCHASE,
    IDENTICAL_PRICES,
    LINKED_BIDDERS,
    CANCELLED_AFTER_OPENING,
    SINGLE_BID,
    DIRECT_SELECTION,
    LOW_PRICE,
    QUALITY_MARKS_DECIDED,
    OBJECTION_UPHELD,
    *CONTRACT_FLAGS,
)
FIRM_FLAGS = (CONCENTRATION, LINKED_FIRMS)
FLAG_CODES = (*PURCHASE_FLAGS, *FIRM_FLAGS)


# --- facts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BidFact:
    """An active bid of a purchase whose bids are open (the deadline has passed)."""

    provider_id: uuid.UUID
    price: Decimal
    valid: bool
    excluded: bool = False  # excluded by an upheld objection (it was valid)


@dataclass(frozen=True)
class ScoreFact:
    """A bid as the current scored selection weighed it (its published evaluation)."""

    bid_id: uuid.UUID
    price: Decimal
    quality_mark: int
    credit_score: int
    score: Decimal


@dataclass(frozen=True)
class ObjectionFact:
    reason: str
    decision: str
    decided_at: datetime


@dataclass(frozen=True)
class CancellationFact:
    """A purchase cancelled after its bids were opened: the owner's request, the operator's approval."""

    purchase_id: uuid.UUID
    ref: str
    reason: str
    requested_at: datetime
    decision: str
    decided_at: datetime


@dataclass(frozen=True)
class ContractFact:
    id: uuid.UUID
    number: str
    status: str
    amount: Decimal  # the current amount (after supplementary agreements)
    sign_by: datetime
    signed_at: datetime | None = None
    due_at: datetime | None = None
    accepted_at: datetime | None = None
    invoiced: Decimal = ZERO  # net of credit notes (invoices.contracts.account_of)
    paid: Decimal = ZERO
    outstanding: Decimal = ZERO  # invoiced and not paid
    paid_on: date | None = None
    payment_deadline: datetime | None = None
    days_to_payment: int | None = None  # calendar days from acceptance to full payment
    flags: tuple[str, ...] = ()  # invoices.rules.contract_flags, now


@dataclass(frozen=True)
class PurchaseFact:
    id: uuid.UUID
    ref: str
    title: str
    owner_id: uuid.UUID
    owner_name: str
    catalog_code: str
    catalog_name: str
    method: str
    funding: str
    status: str
    cap: Decimal
    published_at: datetime
    deadline: datetime
    bids: tuple[BidFact, ...] | None = None  # None while sealed: nothing about bids is known
    winner_id: uuid.UUID | None = None  # the current selection's winner
    winner_name: str | None = None
    price: Decimal | None = None  # the current selection's price
    reason: str | None = None  # a direct selection's written reason
    selected_at: datetime | None = None
    awarded_at: datetime | None = None
    upheld: tuple[ObjectionFact, ...] = ()
    contract: ContractFact | None = None
    # this purchase's cancellation after its bids were opened, if approved
    cancelled_after_opening: CancellationFact | None = None
    # the earlier rounds it republishes that were cancelled after their bids were opened
    earlier_cancelled: tuple[CancellationFact, ...] = ()
    winner_bid_id: uuid.UUID | None = None  # the current selection's winning bid
    weight_quality: int | None = None  # scored: the published quality weight (%)
    scores: tuple[ScoreFact, ...] = ()  # scored: the current selection's evaluation

    @property
    def opened(self) -> bool:
        return self.bids is not None

    @property
    def awarded(self) -> bool:
        return self.status in AWARDED and self.price is not None

    @property
    def selected(self) -> bool:
        return self.status in SELECTED and self.winner_id is not None and self.price is not None

    @property
    def valid_bids(self) -> list[BidFact]:
        return [b for b in self.bids or () if b.valid]

    @property
    def savings(self) -> Decimal | None:
        return self.cap - self.price if self.awarded and self.price is not None else None


@dataclass(frozen=True)
class PractitionerFact:
    id_hash: str  # keyed hash of the ID number (listings.models.Practitioner.id_hash)
    name: str
    id_masked: str


@dataclass(frozen=True)
class FormerFact:
    """A value of a firm's linking data that it held and no longer holds (listings.models.FormerValue):
    a legal representative, a phone number, a practitioner (``value``: the keyed ID hash)."""

    kind: str  # legal_rep | phone | practitioner
    value: str
    label: str  # what people see: the value, or a practitioner's name and masked ID
    until: date  # the last day it held it (China time)
    replaced_by: str | None = None  # the new name or number (None: a practitioner removed)
    after_approval: bool = False


@dataclass(frozen=True)
class FirmFact:
    id: uuid.UUID
    name: str
    uscc: str = ""
    legal_rep: str = ""
    phone: str = ""
    practitioners: tuple[PractitionerFact, ...] = ()
    former: tuple[FormerFact, ...] = ()  # the linking data it held before (the links consider it too)


@dataclass(frozen=True)
class Thresholds:
    split_threshold: Decimal = Decimal("100000.00")
    split_window_days: int = 30
    concentration_share: Decimal = Decimal("0.5")
    concentration_min_awards: int = 3
    low_price_ratio: Decimal = Decimal("0.5")
    abnormal_low_ratio: Decimal = Decimal("0.5")
    accelerator: int = 1

    @property
    def split_window(self) -> timedelta:
        # SPEC §4: the accelerator shrinks every period, this one too
        return timedelta(days=self.split_window_days) / self.accelerator

    @classmethod
    def of(cls, settings: Settings) -> Thresholds:
        return cls(
            split_threshold=settings.split_threshold,
            split_window_days=settings.split_window_days,
            concentration_share=settings.concentration_share,
            concentration_min_awards=settings.concentration_min_awards,
            low_price_ratio=settings.low_price_ratio,
            abnormal_low_ratio=settings.abnormal_low_ratio,
            accelerator=settings.accelerator,
        )


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """``part`` of ``whole`` in percent with one decimal (None when there is no whole)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def month_of(moment: datetime) -> str:
    """The month in China (``2026-03``): what a county's books count in."""
    return to_local(moment).strftime("%Y-%m")


# --- spending -----------------------------------------------------------------------------------


@dataclass
class Spending:
    """Purchases of one group and their money: caps, awards, contracts, invoices, payments."""

    key: str
    purchases: int = 0  # published
    in_progress: int = 0
    awarded: int = 0
    failed: int = 0
    cancelled: int = 0
    cap_awarded: Decimal = ZERO  # the caps of the awarded purchases
    awarded_amount: Decimal = ZERO
    contracted: int = 0  # contracts signed by both parties
    contracted_amount: Decimal = ZERO
    invoiced: Decimal = ZERO
    paid: Decimal = ZERO

    @property
    def savings(self) -> Decimal:
        return self.cap_awarded - self.awarded_amount

    @property
    def savings_pct(self) -> Decimal | None:
        return percent(self.savings, self.cap_awarded)

    def add(self, p: PurchaseFact) -> None:
        self.purchases += 1
        if p.status in IN_PROGRESS:
            self.in_progress += 1
        elif p.status == "failed":
            self.failed += 1
        elif p.status == "cancelled":
            self.cancelled += 1
        if p.awarded and p.price is not None:
            self.awarded += 1
            self.cap_awarded += p.cap
            self.awarded_amount += p.price
        c = p.contract
        if c is not None:
            if c.signed_at is not None:
                self.contracted += 1
                self.contracted_amount += c.amount
            self.invoiced += c.invoiced
            self.paid += c.paid


def group_key(p: PurchaseFact, group_by: str) -> str:
    if group_by == "owner":
        return str(p.owner_id)
    if group_by == "catalog":
        return p.catalog_code
    if group_by == "method":
        return p.method
    if group_by == "funding":
        return p.funding
    if group_by == "month":
        return month_of(p.published_at)
    raise ValueError(f"unknown grouping {group_by!r}")


def spending(purchases: Iterable[PurchaseFact], group_by: str) -> list[Spending]:
    """One row per group; months in calendar order, other groups by awarded amount (largest first)."""
    rows: dict[str, Spending] = {}
    for p in purchases:
        key = group_key(p, group_by)
        rows.setdefault(key, Spending(key)).add(p)
    if group_by == "month":
        return sorted(rows.values(), key=lambda r: r.key)
    return sorted(rows.values(), key=lambda r: (-r.awarded_amount, -r.purchases, r.key))


def total(purchases: Iterable[PurchaseFact]) -> Spending:
    row = Spending("total")
    for p in purchases:
        row.add(p)
    return row


# --- competition --------------------------------------------------------------------------------


@dataclass
class Competition:
    """Competition, counted only where the bids have been opened (after the deadline)."""

    opened: int = 0  # purchases whose bids are open
    bids: int = 0  # their active bids
    valid_bids: int = 0
    single_bid: int = 0  # opened purchases with exactly one valid bid
    no_valid_bid: int = 0
    selected: int = 0  # purchases with a selection (in publicity, awarded, contracted)
    direct: int = 0  # of which chosen directly by the owner
    selected_amount: Decimal = ZERO
    direct_amount: Decimal = ZERO

    @property
    def bids_per_purchase(self) -> Decimal | None:
        return (Decimal(self.bids) / self.opened).quantize(Decimal("0.1")) if self.opened else None

    @property
    def valid_bids_per_purchase(self) -> Decimal | None:
        return (Decimal(self.valid_bids) / self.opened).quantize(Decimal("0.1")) if self.opened else None

    @property
    def single_bid_share(self) -> Decimal | None:
        return percent(self.single_bid, self.opened)

    @property
    def direct_share(self) -> Decimal | None:
        return percent(self.direct, self.selected)

    @property
    def direct_amount_share(self) -> Decimal | None:
        return percent(self.direct_amount, self.selected_amount)


def competition(purchases: Iterable[PurchaseFact]) -> Competition:
    c = Competition()
    for p in purchases:
        if p.bids is not None:
            c.opened += 1
            c.bids += len(p.bids)
            valid = len(p.valid_bids)
            c.valid_bids += valid
            c.single_bid += valid == 1
            c.no_valid_bid += valid == 0
        if p.selected and p.price is not None:
            c.selected += 1
            c.selected_amount += p.price
            if p.method == "direct":
                c.direct += 1
                c.direct_amount += p.price
    return c


# --- delivery and payment timeliness --------------------------------------------------------------


@dataclass
class Timeliness:
    contracts: int = 0
    signed: int = 0
    signed_late: int = 0
    signing_overdue: int = 0
    accepted: int = 0
    overdue: int = 0
    delivered_late: int = 0
    paid_in_full: int = 0
    paid_late: int = 0
    payment_overdue: int = 0
    # calendar days from acceptance to full payment, over the contracts paid in full: their sum and count
    days_to_payment: int = 0
    paid_counted: int = 0

    @property
    def average_days_to_payment(self) -> Decimal | None:
        if not self.paid_counted:
            return None
        return (Decimal(self.days_to_payment) / self.paid_counted).quantize(Decimal("0.1"))

    @property
    def paid_on_time_share(self) -> Decimal | None:
        return percent(self.paid_in_full - self.paid_late, self.paid_in_full)


def timeliness(purchases: Iterable[PurchaseFact]) -> Timeliness:
    t = Timeliness()
    for p in purchases:
        c = p.contract
        if c is None:
            continue
        t.contracts += 1
        t.signed += c.signed_at is not None
        t.accepted += c.accepted_at is not None
        t.paid_in_full += c.paid_on is not None
        for name in ("signed_late", "signing_overdue", "overdue", "delivered_late", "paid_late", "payment_overdue"):
            if name in c.flags:
                setattr(t, name, getattr(t, name) + 1)
        if c.days_to_payment is not None:
            t.days_to_payment += c.days_to_payment
            t.paid_counted += 1
    return t


# --- red flags ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """A red flag: what it is, how serious, about which purchase or firm, and the data behind it."""

    code: str
    subject: str  # "purchase" or "firm"
    subject_id: uuid.UUID
    data: dict[str, Any]

    @property
    def severity(self) -> str:
        return SEVERITY[self.code]

    def sort_key(self) -> tuple[int, int, str]:
        return (SEVERITIES.index(self.severity), FLAG_CODES.index(self.code), str(self.subject_id))


# splitting: several purchases of one owner and item, each capped under the threshold, together above it


@dataclass(frozen=True)
class SplitItem:
    id: uuid.UUID
    owner_id: uuid.UUID
    catalog_code: str
    cap: Decimal
    published_at: datetime


def split_groups(items: Iterable[SplitItem], threshold: Decimal, window: timedelta) -> list[tuple[SplitItem, ...]]:
    """The maximal groups of purchases of one owner and one catalog item published within
    ``window`` of the group's first, each capped below ``threshold`` and together above it.

    Any set of purchases that meets the condition lies inside one returned group (the one
    that starts with its earliest purchase, or a larger one), so no split goes unseen.
    """
    by_key: dict[tuple[uuid.UUID, str], list[SplitItem]] = defaultdict(list)
    for item in items:
        if item.cap < threshold:
            by_key[(item.owner_id, item.catalog_code)].append(item)
    groups: list[tuple[SplitItem, ...]] = []
    for key in sorted(by_key, key=lambda k: (str(k[0]), k[1])):
        run = sorted(by_key[key], key=lambda i: (i.published_at, str(i.id)))
        last_end = -1
        end = 0
        for start in range(len(run)):
            end = max(end, start)
            while end + 1 < len(run) and run[end + 1].published_at - run[start].published_at <= window:
                end += 1
            # a window that ends where the previous one ended is inside it
            if end > last_end:
                members = tuple(run[start : end + 1])
                if len(members) >= 2 and sum((m.cap for m in members), ZERO) > threshold:
                    groups.append(members)
                    last_end = end
    return groups


# concentration: one firm winning a large share of one owner's awards


@dataclass(frozen=True)
class AwardItem:
    owner_id: uuid.UUID
    provider_id: uuid.UUID
    amount: Decimal


@dataclass(frozen=True)
class Concentration:
    owner_id: uuid.UUID
    provider_id: uuid.UUID
    wins: int
    awards: int  # the owner's awards
    amount: Decimal  # the firm's awarded amount from this owner
    owner_total: Decimal

    @property
    def share(self) -> Decimal:
        return percent(self.amount, self.owner_total) or ZERO


def concentration(awards: Iterable[AwardItem], share: Decimal, min_awards: int) -> list[Concentration]:
    """Firms that won at least ``share`` of one owner's awarded amount, where the owner made at
    least ``min_awards`` awards and the firm won more than one of them."""
    by_owner: dict[uuid.UUID, list[AwardItem]] = defaultdict(list)
    for a in awards:
        by_owner[a.owner_id].append(a)
    found: list[Concentration] = []
    for owner_id, rows in by_owner.items():
        owner_total = sum((r.amount for r in rows), ZERO)
        if len(rows) < min_awards or owner_total <= 0:
            continue
        per_firm: dict[uuid.UUID, list[AwardItem]] = defaultdict(list)
        for r in rows:
            per_firm[r.provider_id].append(r)
        for provider_id, won in per_firm.items():
            amount = sum((r.amount for r in won), ZERO)
            if len(won) >= 2 and amount >= share * owner_total:
                found.append(Concentration(owner_id, provider_id, len(won), len(rows), amount, owner_total))
    return sorted(found, key=lambda c: (-c.amount / c.owner_total, str(c.owner_id), str(c.provider_id)))


# links between firms: a shared practitioner, legal representative or phone number

_DIGITS = re.compile(r"\D+")
_WORD = re.compile(r"\w", re.UNICODE)


def phone_key(phone: str) -> str | None:
    """The digits of a phone number as dialled inside China without the trunk prefix: "0871-6532 1108"
    and "+86 871 65321108" are one number. None for placeholders and fragments."""
    digits = _DIGITS.sub("", phone or "")
    if digits.startswith("86") and len(digits) > 11:
        digits = digits[2:]
    digits = digits.lstrip("0")
    return digits if len(digits) >= 7 else None


def person_key(name: str) -> str | None:
    """A legal representative's name without spaces; None for placeholders such as "—"."""
    compact = "".join((name or "").split())
    return compact if len(_WORD.findall(compact)) >= 2 else None


@dataclass(frozen=True)
class Link:
    """Two firms tied by a person or a number, now or in the past. ``a`` sorts before ``b``.
    Each detail is (what firm a has or had, what firm b has or had, the last day a held it, the
    last day b held it); a last day (an ISO date) is ``None`` for a value the firm still holds."""

    a: uuid.UUID
    b: uuid.UUID
    kind: str  # practitioner | legal_rep | phone
    detail: tuple[tuple[str, str, str | None, str | None], ...]

    @property
    def former(self) -> bool:
        """Does a firm no longer hold what ties them (a number changed, a practitioner who left)?"""
        return any(d[2] is not None or d[3] is not None for d in self.detail)


def _key(kind: str, value: str) -> str | None:
    if kind == "phone":
        return phone_key(value)
    if kind == "legal_rep":
        return person_key(value)
    return value or None


def firm_links(firms: Iterable[FirmFact]) -> list[Link]:
    """Every pair of firms that share, or have shared, a practitioner (same keyed ID hash), a
    legal representative (same name) or a phone number: former values count as current ones, so
    that changing a number after approval does not untie two firms."""
    index: dict[tuple[str, str], dict[uuid.UUID, tuple[str, str | None]]] = defaultdict(dict)

    def hold(kind: str, value: str, firm: uuid.UUID, text: str, until: date | None) -> None:
        key = _key(kind, value)
        if not key:
            return
        holders = index[(kind, key)]
        current = holders.get(firm)
        # what a firm holds now wins over what it held; of former values, the latest
        if current is None or (current[1] is not None and (until is None or until.isoformat() > current[1])):
            holders[firm] = (text, until.isoformat() if until is not None else None)

    for f in firms:
        for person in f.practitioners:
            hold("practitioner", person.id_hash, f.id, f"{person.name} ({person.id_masked})", None)
        hold("legal_rep", f.legal_rep, f.id, f.legal_rep.strip(), None)
        hold("phone", f.phone, f.id, f.phone.strip(), None)
        for former in f.former:
            hold(former.kind, former.value, f.id, former.label.strip(), former.until)
    pairs: dict[tuple[uuid.UUID, uuid.UUID, str], list[tuple[str, str, str | None, str | None]]] = defaultdict(list)
    for (kind, _value), holders in index.items():
        ids = sorted(holders, key=str)
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                pairs[(a, b, kind)].append((holders[a][0], holders[b][0], holders[a][1], holders[b][1]))
    return [
        Link(a, b, kind, tuple(sorted(detail, key=lambda d: (d[0], d[1], d[2] or "", d[3] or ""))))
        for (a, b, kind), detail in sorted(pairs.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]), kv[0][2]))
    ]


def identical_prices(bids: Sequence[BidFact]) -> dict[Decimal, list[uuid.UUID]]:
    """Prices offered by more than one firm in the same purchase."""
    by_price: dict[Decimal, set[uuid.UUID]] = defaultdict(set)
    for b in bids:
        by_price[b.price].add(b.provider_id)
    return {price: sorted(ids, key=str) for price, ids in sorted(by_price.items()) if len(ids) > 1}


# the flags of each purchase and each firm


def _name(firms: dict[uuid.UUID, FirmFact], firm_id: uuid.UUID) -> str:
    firm = firms.get(firm_id)
    return firm.name if firm else str(firm_id)


def _firm(firms: dict[uuid.UUID, FirmFact], firm_id: uuid.UUID) -> dict[str, Any]:
    return {"id": firm_id, "name": _name(firms, firm_id)}


def low_price(p: PurchaseFact, t: Thresholds) -> dict[str, Any] | None:
    """Is the winning price abnormally low: below a share of the cap, or below ``abnormal_low_ratio``
    × the mean of the other valid bids (the bidding package's rule)?"""
    if not p.selected or p.price is None or p.winner_id is None:
        return None
    data: dict[str, Any] = {}
    if p.price < t.low_price_ratio * p.cap:
        data["of_cap"] = percent(p.price, p.cap)
        data["cap_ratio"] = percent(t.low_price_ratio, 1)
    prices = {b.provider_id: b.price for b in p.valid_bids}
    others = [price for firm, price in prices.items() if firm != p.winner_id]
    if others and p.winner_id in abnormally_low(prices, t.abnormal_low_ratio):
        mean = (sum(others, ZERO) / len(others)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        data["others_mean"] = mean
        data["of_mean"] = percent(p.price, mean)
        data["mean_ratio"] = percent(t.abnormal_low_ratio, 1)
    if not data:
        return None
    return {"price": p.price, "cap": p.cap, **data}


def quality_marks_decided(p: PurchaseFact) -> dict[str, Any] | None:
    """Scored selection: the winner is not the lowest valid price and the owner's quality marks
    decided it — on the price and credit parts alone another bid would have ranked first."""
    if p.method != "scored" or not p.selected or not p.scores or p.weight_quality is None:
        return None
    winner = next((s for s in p.scores if s.bid_id == p.winner_bid_id), None)
    lowest = min(s.price for s in p.scores)
    if winner is None or winner.price <= lowest:
        return None
    weight = Decimal(p.weight_quality)

    def without_marks(s: ScoreFact) -> Decimal:
        return s.score - weight * Decimal(s.quality_mark) / 100

    first = max(p.scores, key=lambda s: (without_marks(s), -s.price))
    if without_marks(winner) >= without_marks(first):
        return None  # price and credit alone made it win
    cheapest = min(p.scores, key=lambda s: (s.price, str(s.bid_id)))
    return {
        "price": winner.price,
        "lowest": lowest,
        "above_lowest": percent(winner.price - lowest, lowest),
        "winner_mark": winner.quality_mark,
        "lowest_mark": cheapest.quality_mark,
        "weight_quality": p.weight_quality,
    }


def purchase_flags(
    purchases: Sequence[PurchaseFact], firms: dict[uuid.UUID, FirmFact], t: Thresholds, links: Sequence[Link]
) -> list[Flag]:
    flags: list[Flag] = []

    def flag(p: PurchaseFact, code: str, **data: Any) -> None:
        flags.append(Flag(code, "purchase", p.id, data))

    by_id = {p.id: p for p in purchases}
    linked: dict[frozenset[uuid.UUID], list[Link]] = defaultdict(list)
    for link in links:
        linked[frozenset((link.a, link.b))].append(link)

    # splitting
    best: dict[uuid.UUID, tuple[SplitItem, ...]] = {}
    items = [SplitItem(p.id, p.owner_id, p.catalog_code, p.cap, p.published_at) for p in purchases if p.status in LIVE]
    for group in split_groups(items, t.split_threshold, t.split_window):
        group_total = sum((m.cap for m in group), ZERO)
        for m in group:
            if m.id not in best or group_total > sum((x.cap for x in best[m.id]), ZERO):
                best[m.id] = group
    for pid, group in best.items():
        flag(
            by_id[pid],
            SPLIT_PURCHASE,
            threshold=t.split_threshold,
            window_days=t.split_window_days,
            total=sum((m.cap for m in group), ZERO),
            purchases=[
                {"id": m.id, "ref": by_id[m.id].ref, "cap": m.cap, "published_at": m.published_at} for m in group
            ],
        )

    for p in purchases:
        if p.bids is not None:
            valid = p.valid_bids
            if len(valid) == 1 and p.status in (*SELECTED, "evaluating"):
                flag(p, SINGLE_BID, bids=len(p.bids), valid_bids=1)
            for price, ids in identical_prices(p.bids).items():
                flag(p, IDENTICAL_PRICES, price=price, firms=[_firm(firms, i) for i in ids])
            bidders = sorted({b.provider_id for b in p.bids}, key=str)
            pairs = []
            for i, a in enumerate(bidders):
                for b in bidders[i + 1 :]:
                    for link in linked.get(frozenset((a, b)), []):
                        pairs.append(
                            {
                                "kind": link.kind,
                                "a": _firm(firms, link.a),
                                "b": _firm(firms, link.b),
                                "detail": [list(d) for d in link.detail],
                            }
                        )
            if pairs:
                flag(p, LINKED_BIDDERS, links=pairs)
        if p.selected and p.method == "direct" and p.price is not None:
            lowest = min((b.price for b in p.valid_bids), default=p.price)
            flag(
                p,
                DIRECT_SELECTION,
                reason=p.reason or "",
                price=p.price,
                lowest=lowest,
                above_lowest=percent(p.price - lowest, lowest) if p.price > lowest else None,
                winner=_firm(firms, p.winner_id) if p.winner_id else None,
                valid_bids=len(p.valid_bids),
            )
        decided = quality_marks_decided(p)
        if decided:
            flag(p, QUALITY_MARKS_DECIDED, winner=_firm(firms, p.winner_id) if p.winner_id else None, **decided)
        found = low_price(p, t)
        if found:
            flag(p, LOW_PRICE, winner=_firm(firms, p.winner_id) if p.winner_id else None, **found)
        for o in p.upheld:
            flag(p, OBJECTION_UPHELD, reason=o.reason, decision=o.decision, decided_at=o.decided_at)
        for k in (p.cancelled_after_opening, *p.earlier_cancelled):
            if k is not None:
                flag(
                    p,
                    CANCELLED_AFTER_OPENING,
                    cancelled={"id": k.purchase_id, "ref": k.ref},
                    this_round=k.purchase_id == p.id,
                    reason=k.reason,
                    requested_at=k.requested_at,
                    decision=k.decision,
                    decided_at=k.decided_at,
                    purchases=[] if k.purchase_id == p.id else [{"id": k.purchase_id, "ref": k.ref}],
                )
        c = p.contract
        if c is not None:
            for name in CONTRACT_FLAGS:
                if name in c.flags:
                    flag(
                        p,
                        name,
                        contract={"id": c.id, "number": c.number},
                        sign_by=c.sign_by,
                        signed_at=c.signed_at,
                        due_at=c.due_at,
                        accepted_at=c.accepted_at,
                        payment_deadline=c.payment_deadline,
                        amount=c.amount,
                        invoiced=c.invoiced,
                        paid=c.paid,
                        outstanding=c.outstanding,
                        paid_on=c.paid_on,
                        days_to_payment=c.days_to_payment,
                    )
    return sorted(flags, key=Flag.sort_key)


def firm_flags(
    purchases: Sequence[PurchaseFact], firms: dict[uuid.UUID, FirmFact], t: Thresholds, links: Sequence[Link]
) -> list[Flag]:
    flags: list[Flag] = []
    owners = {p.owner_id: p.owner_name for p in purchases}
    awards = [AwardItem(p.owner_id, p.winner_id, p.price) for p in purchases if p.awarded and p.winner_id and p.price]
    for c in concentration(awards, t.concentration_share, t.concentration_min_awards):
        flags.append(
            Flag(
                CONCENTRATION,
                "firm",
                c.provider_id,
                {
                    "firm": _firm(firms, c.provider_id),
                    "owner": {"id": c.owner_id, "name": owners.get(c.owner_id, str(c.owner_id))},
                    "wins": c.wins,
                    "awards": c.awards,
                    "amount": c.amount,
                    "owner_total": c.owner_total,
                    "share": c.share,
                    "threshold": percent(t.concentration_share, 1),
                    "purchases": [
                        {"id": p.id, "ref": p.ref, "price": p.price}
                        for p in purchases
                        if p.awarded and p.owner_id == c.owner_id and p.winner_id == c.provider_id
                    ],
                },
            )
        )
    bid_on: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for p in purchases:
        for b in p.bids or ():
            bid_on[b.provider_id].add(p.id)
    refs = {p.id: p.ref for p in purchases}
    per_firm: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for link in links:
        together = [{"id": i, "ref": refs[i]} for i in sorted(bid_on[link.a] & bid_on[link.b], key=refs.__getitem__)]
        for me, other, mine, theirs in ((link.a, link.b, 0, 1), (link.b, link.a, 1, 0)):
            per_firm[me].append(
                {
                    "kind": link.kind,
                    "other": _firm(firms, other),
                    "detail": [[d[mine], d[theirs], d[2 + mine], d[2 + theirs]] for d in link.detail],
                    "bid_together": together,
                }
            )
    for firm_id, rows in per_firm.items():
        flags.append(Flag(LINKED_FIRMS, "firm", firm_id, {"firm": _firm(firms, firm_id), "links": rows}))
    return sorted(flags, key=Flag.sort_key)


def mentions(flag: Flag, firm_id: uuid.UUID) -> bool:
    """Does the flag's data name the firm (as the winner, among firms at one price, in a link)?"""
    d = flag.data
    named = [d.get("winner"), d.get("firm"), *d.get("firms", [])]
    for link in d.get("links", []):
        named += [link.get("a"), link.get("b"), link.get("other")]
    return any(isinstance(x, dict) and x.get("id") == firm_id for x in named)


def all_flags(purchases: Sequence[PurchaseFact], firms: Sequence[FirmFact], t: Thresholds) -> list[Flag]:
    by_id = {f.id: f for f in firms}
    links = firm_links(firms)
    return sorted(
        [*purchase_flags(purchases, by_id, t, links), *firm_flags(purchases, by_id, t, links)], key=Flag.sort_key
    )


def count_by(flags: Iterable[Flag], key: Callable[[Flag], str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for f in flags:
        counts[key(f)] += 1
    return dict(counts)
