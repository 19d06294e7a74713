"""Tables of the bidding package.

Database guarantees beside the code (see migration 0003):

* a purchase's terms are frozen once it leaves ``draft`` (trigger);
* a bid's sealed content (price, days, note, digest, receive time) never changes and no bid is
  ever deleted (trigger); one *active* bid per provider and purchase (partial unique index);
* a selection (with its draw proof) never changes except its status (trigger);
* one objection per bidder per selection round; one new round per failed purchase;
* reference numbers come from a per-year counter row that is locked while it is incremented.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from listings.credit_rules import Grade
from market import clock
from market.db import StrEnumType, UTCDateTime, new_id, one_of
from market.money import MoneyType


class PurchaseStatus(StrEnum):
    draft = "draft"
    open = "open"
    evaluating = "evaluating"
    publicity = "publicity"
    awarded = "awarded"
    contracted = "contracted"
    cancelled = "cancelled"
    failed = "failed"  # 流标


class Method(StrEnum):
    random = "random"  # 随机抽取
    lowest_price = "lowest_price"  # 最低价
    scored = "scored"  # 综合评审
    direct = "direct"  # 直接选取


class Funding(StrEnum):
    fiscal = "fiscal"
    own = "own"
    mixed = "mixed"


class BidStatus(StrEnum):
    active = "active"
    replaced = "replaced"
    withdrawn = "withdrawn"


class FailReason(StrEnum):
    """Why a purchase failed (流标)."""

    too_few_valid_bids = "too_few_valid_bids"  # fewer valid bids than the minimum at the opening
    objection_upheld = "objection_upheld"  # too few bids left after an upheld objection excluded the winner
    award_voided = "award_voided"  # too few bids left after the owner voided an award its winner did not sign


class InvalidReason(StrEnum):
    """Why a bid is invalid (set at the opening, or when an explanation is due)."""

    avoided = "avoided"  # the owner must avoid the bidder (回避)
    affiliated = "affiliated"  # the bidder is the owner
    not_qualified = "not_qualified"  # no valid qualification for the item on the deadline's date
    price_out_of_range = "price_out_of_range"  # above the cap or below the floor
    service_days = "service_days"  # more days than the purchase allows
    abnormally_low_unexplained = "abnormally_low_unexplained"  # set aside when the explanation is due
    # received before a material change notice and neither confirmed nor replaced by the deadline
    not_confirmed_after_change = "not_confirmed_after_change"
    below_min_grade = "below_min_grade"  # the bidder's credit grade at the deadline is below the purchase's minimum


class SelectionStatus(StrEnum):
    current = "current"
    overturned = "overturned"  # its winner was excluded by an upheld objection
    voided = "voided"  # its winner did not sign the contract in time; the owner voided the award


class ObjectionStatus(StrEnum):
    pending = "pending"
    upheld = "upheld"
    dismissed = "dismissed"
    superseded = "superseded"  # another upheld objection overturned the same selection first


# the columns the public purchase search looks in (bidding.queries), each with a trigram index on PostgreSQL
SEARCHED = ("title", "ref", "catalog_code")


class Purchase(SQLModel, table=True):
    """A purchase of an intermediary service (采购项目). Frozen once published."""

    __tablename__ = "purchases"
    __table_args__ = (
        CheckConstraint(one_of("status", PurchaseStatus), name="status"),
        CheckConstraint(one_of("method", Method), name="method"),
        CheckConstraint(one_of("funding", Funding), name="funding"),
        CheckConstraint("budget_cap > 0", name="cap_positive"),
        CheckConstraint(
            "price_floor IS NULL OR (price_floor > 0 AND price_floor < budget_cap)", name="floor_below_cap"
        ),
        CheckConstraint("service_days > 0", name="service_days_positive"),
        CheckConstraint("min_bids >= 1", name="min_bids_positive"),
        CheckConstraint(one_of("min_grade", Grade), name="min_grade"),
        CheckConstraint("round >= 1", name="round_positive"),
        CheckConstraint(
            "(method = 'scored' AND weight_price IS NOT NULL AND weight_quality IS NOT NULL "
            "AND weight_credit IS NOT NULL AND weight_price >= 0 AND weight_quality >= 0 AND weight_credit >= 0 "
            "AND weight_price + weight_quality + weight_credit = 100) "
            "OR (method <> 'scored' AND weight_price IS NULL AND weight_quality IS NULL AND weight_credit IS NULL)",
            name="weights",
        ),
        CheckConstraint("status = 'draft' OR ref IS NOT NULL", name="published_has_ref"),
        CheckConstraint("status <> 'cancelled' OR cancel_reason IS NOT NULL", name="cancel_has_reason"),
        Index("ix_purchases_change_seq", "change_seq", "id"),  # the open data feed's keyset
        # the public list's order (newest first, then id) with the status it filters on: a page, however
        # deep, is found by an index-only walk backwards (bidding.queries._page)
        Index("ix_purchases_published_order", "published_at", "id", "status"),
        Index("ix_purchases_status_bid_deadline", "status", "bid_deadline"),  # the open purchases, soonest first
        # the split-purchase red flag: one owner's purchases of one item within a window (oversight.candidates)
        Index("ix_purchases_owner_id_catalog_code_published_at", "owner_id", "catalog_code", "published_at"),
        # the searched columns with the status, narrow beside the whole rows: counting a short text's
        # hits (q=项目, no trigram) reads this index alone instead of the table (bidding.queries)
        Index("ix_purchases_search", "status", *SEARCHED),
        # the public search (``q``: ILIKE '%…%' on title, reference and catalog code), PostgreSQL only:
        # trigram GIN indexes (pg_trgm); SQLite keeps its plain LIKE scan
        *(
            Index(
                f"ix_purchases_{name}_trgm", name, postgresql_using="gin", postgresql_ops={name: "gin_trgm_ops"}
            ).ddl_if(dialect="postgresql")
            for name in SEARCHED
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    ref: str | None = Field(default=None, max_length=16, unique=True)  # CG-2026-000001, given at publish
    round: int = Field(default=1)
    previous_id: uuid.UUID | None = Field(default=None, foreign_key="purchases.id", unique=True)
    owner_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    catalog_item_id: uuid.UUID = Field(foreign_key="catalog_items.id", index=True)
    catalog_code: str = Field(max_length=32, index=True)
    title: str = Field(max_length=200)
    description: str = Field(sa_column=Column(Text, nullable=False))  # scope of the service
    budget_cap: Decimal = Field(sa_type=MoneyType)  # 最高限价
    price_floor: Decimal | None = Field(default=None, sa_type=MoneyType)
    funding: Funding = Field(sa_type=StrEnumType(Funding, 16))
    investment_code: str | None = Field(default=None, max_length=40)  # 投资项目代码
    method: Method = Field(sa_type=StrEnumType(Method, 16), index=True)
    bid_deadline: datetime = Field(sa_type=UTCDateTime, nullable=False)
    service_days: int
    min_bids: int
    weight_price: int | None = None  # percentages, scored only
    weight_quality: int | None = None
    weight_credit: int | None = None
    # the lowest credit grade admitted (listings.credit; None: every grade); a published term
    min_grade: Grade | None = Field(default=None, sa_type=StrEnumType(Grade, 1))
    status: PurchaseStatus = Field(default=PurchaseStatus.draft, sa_type=StrEnumType(PurchaseStatus, 16), index=True)
    # the commitment (sha256 of a 32-byte secret) of the next draw; the secret stays hidden until used,
    # encrypted at rest (bidding.sealing: AES-GCM with a key derived from MARKET_SECRET_KEY)
    draw_commitment: str | None = Field(default=None, max_length=64)
    draw_secret: str | None = Field(default=None, max_length=64)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # bids opened (deadline passed)
    explanation_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    selected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    publicity_ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    awarded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    contracted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # cancelled or failed
    cancel_reason: str | None = Field(default=None, sa_column=Column(Text))
    # no CHECK constraint in the database (unlike status): only the time engine writes it, with a member
    fail_reason: FailReason | None = Field(default=None, sa_type=StrEnumType(FailReason, 40))
    contract_id: uuid.UUID | None = None  # set by the contracts package (no FK: later layer)
    # scored selection, two envelopes (bidding.scoring): the owner's quality marks are locked
    # (irreversibly, a trigger keeps them) before the prices are opened to the owner
    marks_locked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    marks_locked_by: uuid.UUID | None = None  # the user (no FK: added by ALTER TABLE, which SQLite keeps plain)
    # when the time engine must look at this purchase next (deadline, explanation due, end of publicity)
    next_check_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    # the number of the last audit event of the last commit that changed this purchase or what hangs off
    # it (bidding.changes): grows in commit order, so the open data feed pages by it without skipping
    change_seq: int = Field(default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})

    @property
    def effective_status(self) -> str:
        """The status as of now, as reads show it (:func:`bidding.rules.effective_status`)."""
        from bidding.rules import Timing, effective_status  # rules builds on these models

        return effective_status(Timing(status=self.status, bid_deadline=self.bid_deadline), clock.now())


class PurchaseAvoid(SQLModel, table=True):
    """Firms the owner must avoid (回避单位) for this purchase."""

    __tablename__ = "purchase_avoids"

    purchase_id: uuid.UUID = Field(foreign_key="purchases.id", primary_key=True)
    provider_id: uuid.UUID = Field(foreign_key="organizations.id", primary_key=True)


class Bid(SQLModel, table=True):
    """A sealed bid. The content the digest covers never changes; replacing makes a new row."""

    __tablename__ = "bids"
    __table_args__ = (
        CheckConstraint(one_of("status", BidStatus), name="status"),
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("service_days > 0", name="service_days_positive"),
        CheckConstraint("quality_mark IS NULL OR (quality_mark >= 0 AND quality_mark <= 100)", name="quality_mark"),
        CheckConstraint("credit_score IS NULL OR (credit_score >= 0 AND credit_score <= 100)", name="credit_score"),
        CheckConstraint(one_of("credit_grade", Grade), name="credit_grade"),
        Index(
            "uq_bids_one_active",
            "purchase_id",
            "provider_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        # the finance summary's per-purchase bid figures (count, valid, highest valid price, prices
        # shared: oversight.sums.bid_summary) read from this index alone, in order, never the table
        Index("ix_bids_summary", "purchase_id", "price", "status", "valid"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    purchase_id: uuid.UUID = Field(foreign_key="purchases.id", index=True)
    provider_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    submitted_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    price: Decimal = Field(sa_type=MoneyType)
    service_days: int
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    digest: str = Field(max_length=64, unique=True)  # sha256 of the canonical content
    status: BidStatus = Field(default=BidStatus.active, sa_type=StrEnumType(BidStatus, 16), index=True)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # evaluation, after the opening
    valid: bool | None = None
    # no CHECK constraint in the database (unlike status): only the time engine writes it, with a member
    invalid_reason: InvalidReason | None = Field(default=None, sa_type=StrEnumType(InvalidReason, 40))
    abnormally_low: bool = False
    explanation: str | None = Field(default=None, sa_column=Column(Text))
    explained_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    excluded: bool = False  # by an upheld objection
    quality_mark: int | None = None  # owner's 0-100 mark (scored)
    # the bidder's credit at the bid deadline (listings.credit.standing), snapshotted at the opening when
    # the purchase is scored or admits a minimum grade: the score rounded to a whole number, and the grade
    credit_score: int | None = None
    credit_grade: Grade | None = Field(default=None, sa_type=StrEnumType(Grade, 1))


class BidDraftStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    discarded = "discarded"


class BidDraft(SQLModel, table=True):
    """A firm's bid being prepared (a clerk prepares, an approver submits): seen by its own
    organisation only, never counted, never opened. Submitting makes an ordinary sealed bid and
    keeps the draft as the record of who prepared it; the opening writes the drafts of a purchase
    into the audit trail with its bids (nothing before, as for the bids)."""

    __tablename__ = "bid_drafts"
    __table_args__ = (
        CheckConstraint(one_of("status", BidDraftStatus), name="status"),
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("service_days > 0", name="service_days_positive"),
        CheckConstraint(
            "(status = 'submitted') = (bid_id IS NOT NULL AND submitted_at IS NOT NULL)", name="submitted_has_bid"
        ),
        Index(
            "uq_bid_drafts_one_open",
            "purchase_id",
            "provider_id",
            unique=True,
            sqlite_where=text("status = 'draft'"),
            postgresql_where=text("status = 'draft'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    purchase_id: uuid.UUID = Field(foreign_key="purchases.id", index=True)
    provider_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    prepared_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    price: Decimal = Field(sa_type=MoneyType)
    service_days: int
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    status: BidDraftStatus = Field(default=BidDraftStatus.draft, sa_type=StrEnumType(BidDraftStatus, 16))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    bid_id: uuid.UUID | None = Field(default=None, foreign_key="bids.id")
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")


class Selection(SQLModel, table=True):
    """One selection round and its proof. Rows never change except ``status`` (and, when the owner
    voids the award, ``voided_at`` and ``void_reason`` with it; a voided row never changes again)."""

    __tablename__ = "selections"
    __table_args__ = (
        UniqueConstraint("purchase_id", "round"),
        CheckConstraint(one_of("status", SelectionStatus), name="status"),
        CheckConstraint(one_of("method", Method), name="method"),
        CheckConstraint("method <> 'direct' OR reason IS NOT NULL", name="direct_has_reason"),
        CheckConstraint(
            "(draw_seed IS NULL AND draw_index IS NULL) OR (draw_secret IS NOT NULL AND draw_commitment IS NOT NULL)",
            name="draw_complete",
        ),
        CheckConstraint(
            "(status = 'voided' AND voided_at IS NOT NULL AND void_reason IS NOT NULL) "
            "OR (status <> 'voided' AND voided_at IS NULL AND void_reason IS NULL)",
            name="voided_with_reason",
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    purchase_id: uuid.UUID = Field(foreign_key="purchases.id", index=True)
    round: int
    method: Method = Field(sa_type=StrEnumType(Method, 16))
    winner_bid_id: uuid.UUID = Field(foreign_key="bids.id")
    price: Decimal = Field(sa_type=MoneyType)
    reason: str | None = Field(default=None, sa_column=Column(Text))  # direct selection's written reason
    # canonical JSON: [{bid_id, digest, price, quality_mark?, credit_score?, score?}] of the bids considered
    evaluation: str = Field(sa_column=Column(Text, nullable=False))
    draw_commitment: str | None = Field(default=None, max_length=64)
    draw_secret: str | None = Field(default=None, max_length=64)
    draw_seed: str | None = Field(default=None, max_length=64)
    draw_candidates: str | None = Field(default=None, sa_column=Column(Text))  # canonical JSON list
    draw_index: int | None = None
    selected_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    selected_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    publicity_ends_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    status: SelectionStatus = Field(default=SelectionStatus.current, sa_type=StrEnumType(SelectionStatus, 16))
    # the owner voided the award: its winner did not sign the contract within the signing period
    # (set once with status ``voided``; a trigger keeps a voided selection, migration 0018_walkaway)
    voided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    void_reason: str | None = Field(default=None, sa_column=Column(Text))


class QualityMark(SQLModel, table=True):
    """The owner's quality mark of a bid's technical part (scored selection), with its written
    reason; given blind (before the prices are opened to the owner) and published with the result.

    Once ``locked_at`` is set the row never changes and is never deleted, and no mark is added to a
    purchase whose marks are locked (triggers, migration 0009).
    """

    __tablename__ = "quality_marks"
    __table_args__ = (
        CheckConstraint("mark >= 0 AND mark <= 100", name="mark_range"),
        CheckConstraint("length(reason) >= 10", name="reason_given"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    bid_id: uuid.UUID = Field(foreign_key="bids.id", unique=True)
    purchase_id: uuid.UUID = Field(foreign_key="purchases.id", index=True)
    mark: int
    reason: str = Field(sa_column=Column(Text, nullable=False))
    marked_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    marked_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    locked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Question(SQLModel, table=True):
    """A clarification question; the asker is kept for the record but never shown."""

    __tablename__ = "questions"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    purchase_id: uuid.UUID = Field(foreign_key="purchases.id", index=True)
    asker_org_id: uuid.UUID = Field(foreign_key="organizations.id")
    asked_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    question: str = Field(sa_column=Column(Text, nullable=False))
    asked_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    answer: str | None = Field(default=None, sa_column=Column(Text))
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")


class Objection(SQLModel, table=True):
    """A bidder's objection (质疑) to a selection during its publicity, decided by the operator."""

    __tablename__ = "objections"
    __table_args__ = (
        UniqueConstraint("selection_id", "provider_id"),
        CheckConstraint(one_of("status", ObjectionStatus), name="status"),
        CheckConstraint("status = 'pending' OR (decision IS NOT NULL AND decided_at IS NOT NULL)", name="decided"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    purchase_id: uuid.UUID = Field(foreign_key="purchases.id", index=True)
    selection_id: uuid.UUID = Field(foreign_key="selections.id", index=True)
    provider_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    filed_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    reason: str = Field(sa_column=Column(Text, nullable=False))
    filed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    status: ObjectionStatus = Field(
        default=ObjectionStatus.pending, sa_type=StrEnumType(ObjectionStatus, 16), index=True
    )
    decision: str | None = Field(default=None, sa_column=Column(Text))
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")


class CancellationStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    refused = "refused"


class CancellationRequest(SQLModel, table=True):
    """An owner's request to cancel a purchase after its deadline (the bids were opened), decided
    in writing by the operator; request and decision are published with the purchase
    (``bidding.cancellation``). At most one request of a purchase is pending (partial unique index)."""

    __tablename__ = "cancellation_requests"
    __table_args__ = (
        CheckConstraint(one_of("status", CancellationStatus), name="status"),
        CheckConstraint("length(reason) >= 5", name="reason_given"),
        CheckConstraint(
            "(status = 'pending' AND decision IS NULL AND decided_at IS NULL) "
            "OR (status <> 'pending' AND decision IS NOT NULL AND decided_at IS NOT NULL)",
            name="decided",
        ),
        Index(
            "uq_cancellation_requests_one_pending",
            "purchase_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    purchase_id: uuid.UUID = Field(foreign_key="purchases.id", index=True)
    requested_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    reason: str = Field(sa_column=Column(Text, nullable=False))
    requested_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    status: CancellationStatus = Field(
        default=CancellationStatus.pending, sa_type=StrEnumType(CancellationStatus, 16), index=True
    )
    decision: str | None = Field(default=None, sa_column=Column(Text))
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")


class ChangeNotice(SQLModel, table=True):
    """A change notice (变更公告): the owner amends an open purchase before its deadline, with a
    written reason; ``changes`` keeps each changed field before and after (canonical JSON list of
    ``{field, before, after}``). Append-only (trigger, migration 0017)."""

    __tablename__ = "purchase_change_notices"
    __table_args__ = (
        UniqueConstraint("purchase_id", "seq"),
        CheckConstraint("length(reason) >= 5", name="reason_given"),
        CheckConstraint("seq >= 1", name="seq_positive"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    purchase_id: uuid.UUID = Field(foreign_key="purchases.id", index=True)
    seq: int
    reason: str = Field(sa_column=Column(Text, nullable=False))
    changes: str = Field(sa_column=Column(Text, nullable=False))
    material: bool  # existing bids must be confirmed or replaced
    published_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    published_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")


class BidConfirmation(SQLModel, table=True):
    """A bidder confirms its (unchanged, still sealed) bid after a material change notice.
    Append-only (trigger, migration 0017)."""

    __tablename__ = "bid_confirmations"
    __table_args__ = (UniqueConstraint("bid_id", "notice_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    bid_id: uuid.UUID = Field(foreign_key="bids.id", index=True)
    notice_id: uuid.UUID = Field(foreign_key="purchase_change_notices.id", index=True)
    confirmed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    confirmed_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
