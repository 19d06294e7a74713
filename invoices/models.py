"""Tables of the invoices package.

Immutability is enforced by the database (triggers in migration 0004), not only by code:

* ``contracts``: once ``signed_at`` is set (both parties signed), the terms, the parties and the
  signatures never change; only the progress columns (status, delivery and acceptance times, the
  running totals, the current amount and due date after supplementary agreements) may.
* ``contract_agreements``: frozen once signed by both or withdrawn.
* ``deliveries``: frozen once decided (accepted or returned).
* ``invoices``, ``payments``, ``ratings``, ``delivery_files``, ``documents``: append-only.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, Integer, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from bidding import changes
from bidding.models import Method
from market import clock
from market.db import StrEnumType, UTCDateTime, new_id, one_of
from market.money import MoneyType


class ContractStatus(StrEnum):
    draft = "draft"  # awaiting the signatures
    signed = "signed"  # both signed; the service runs
    delivered = "delivered"  # deliverables submitted, awaiting acceptance
    returned = "returned"  # the owner returned the deliverables with reasons
    accepted = "accepted"  # the owner accepted the service
    void = "void"  # never signed by the winner within the signing period; the owner voided the award


class AgreementStatus(StrEnum):
    proposed = "proposed"
    signed = "signed"
    withdrawn = "withdrawn"


class DeliveryStatus(StrEnum):
    submitted = "submitted"
    accepted = "accepted"
    returned = "returned"


class RateeRole(StrEnum):
    """Who a rating is about: the owner rates the provider, the provider rates the owner."""

    provider = "provider"
    owner = "owner"


class InvoiceKind(StrEnum):
    invoice = "invoice"
    credit_note = "credit_note"  # 红字发票: refers to the invoice it corrects


class DocumentKind(StrEnum):
    contract = "contract"
    agreement = "agreement"
    invoice = "invoice"
    credit_note = "credit_note"


# columns of a signed contract that may still change (everything else is frozen by a trigger)
CONTRACT_PROGRESS_COLUMNS = (
    "status",
    "amount_current",
    "due_at_current",
    "invoiced_total",
    "paid_total",
    "delivered_at",
    "accepted_at",
    "paid_on",
    "paid_recorded_at",
    "payment_due_at",
    "updated_at",
)


class Contract(SQLModel, table=True):
    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint(one_of("status", ContractStatus), name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("amount_current > 0", name="amount_current_positive"),
        CheckConstraint("service_days > 0", name="service_days_positive"),
        CheckConstraint("payment_days > 0", name="payment_days_positive"),
        CheckConstraint("invoiced_total >= 0 AND invoiced_total <= amount_current", name="invoiced_within_amount"),
        CheckConstraint("paid_total >= 0 AND paid_total <= invoiced_total", name="paid_within_invoiced"),
        CheckConstraint(
            "signed_at IS NULL OR (owner_signed_at IS NOT NULL AND provider_signed_at IS NOT NULL "
            "AND due_at IS NOT NULL AND due_at_current IS NOT NULL)",
            name="signed_by_both",
        ),
        CheckConstraint("status IN ('draft', 'void') OR signed_at IS NOT NULL", name="signed_before_progress"),
        CheckConstraint("owner_id <> provider_id", name="two_parties"),
        CheckConstraint(
            "(status = 'void' AND voided_at IS NOT NULL AND voided_by IS NOT NULL AND void_reason IS NOT NULL "
            "AND signed_at IS NULL AND provider_signed_at IS NULL) "
            "OR (status <> 'void' AND voided_at IS NULL AND voided_by IS NULL AND void_reason IS NULL)",
            name="void_unsigned_with_reason",
        ),
        # one contract per award: a voided draft stays beside the contract of the rerun's award
        Index(
            "uq_contracts_live_purchase_id",
            "purchase_id",
            unique=True,
            sqlite_where=text("status <> 'void'"),
            postgresql_where=text("status <> 'void'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    number: str = Field(max_length=20, unique=True)
    # the award this contract comes from (one contract per purchase that is not void)
    purchase_id: uuid.UUID = Field(foreign_key="purchases.id", index=True)
    purchase_ref: str = Field(max_length=32, index=True)
    bid_id: uuid.UUID = Field(foreign_key="bids.id")
    title: str = Field(max_length=200)
    scope: str = Field(sa_column=Column(Text, nullable=False))
    catalog_code: str = Field(max_length=32)
    catalog_name: str = Field(max_length=200)
    method: Method = Field(sa_type=StrEnumType(Method, 16))  # the purchase's (checked there)
    draw_seed: str | None = Field(default=None, max_length=64)
    awarded_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # the parties, snapshotted at drafting
    owner_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    owner_name: str = Field(max_length=200)
    owner_uscc: str = Field(max_length=18)
    owner_address: str = Field(max_length=300)
    owner_legal_rep: str = Field(max_length=60)
    provider_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    provider_name: str = Field(max_length=200)
    provider_uscc: str = Field(max_length=18)
    provider_address: str = Field(max_length=300)
    provider_legal_rep: str = Field(max_length=60)
    # terms
    amount: Decimal = Field(sa_type=MoneyType)
    amount_in_words: str = Field(max_length=80)
    service_days: int
    payment_days: int
    template: str = Field(default="standard-2026", max_length=32)
    drafted_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    sign_by: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # signatures: who, when, from where
    owner_signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    owner_signed_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    owner_signed_ip: str | None = Field(default=None, max_length=64)
    provider_signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    provider_signed_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    provider_signed_ip: str | None = Field(default=None, max_length=64)
    signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # progress (may change after signing)
    status: ContractStatus = Field(default=ContractStatus.draft, sa_type=StrEnumType(ContractStatus, 16), index=True)
    amount_current: Decimal = Field(sa_type=MoneyType)
    due_at_current: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    invoiced_total: Decimal = Field(default=Decimal("0.00"), sa_type=MoneyType)
    paid_total: Decimal = Field(default=Decimal("0.00"), sa_type=MoneyType)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paid_on: date | None = None  # the payment date that completed the price
    paid_recorded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # the payment term's end (invoices.rules.payment_deadline), stored at acceptance so that reports
    # and flags filter on it in SQL instead of computing it per row
    payment_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(
        default_factory=clock.now, sa_type=UTCDateTime, nullable=False, sa_column_kwargs={"onupdate": clock.now}
    )
    # the owner voided the award: the winner had not signed by ``sign_by`` (invoices.contracts.void_contract);
    # a voided contract never changes again (trigger, migration 0018_walkaway)
    voided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    voided_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    void_reason: str | None = Field(default=None, sa_column=Column(Text))


class ContractAgreement(SQLModel, table=True):
    """A supplementary agreement (补充协议): the only way to change a signed contract's terms."""

    __tablename__ = "contract_agreements"
    __table_args__ = (
        UniqueConstraint("contract_id", "seq"),
        CheckConstraint(one_of("status", AgreementStatus), name="status"),
        CheckConstraint("new_amount IS NULL OR new_amount > 0", name="new_amount_positive"),
        CheckConstraint("extra_days >= 0", name="extra_days_not_negative"),
        CheckConstraint(
            "signed_at IS NULL OR (owner_signed_at IS NOT NULL AND provider_signed_at IS NOT NULL)",
            name="signed_by_both",
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    contract_id: uuid.UUID = Field(foreign_key="contracts.id", index=True)
    seq: int
    number: str = Field(max_length=32, unique=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    new_amount: Decimal | None = Field(default=None, sa_type=MoneyType)
    extra_days: int = 0
    status: AgreementStatus = Field(default=AgreementStatus.proposed, sa_type=StrEnumType(AgreementStatus, 16))
    proposed_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    proposed_by: uuid.UUID = Field(foreign_key="users.id")
    proposed_by_org: uuid.UUID = Field(foreign_key="organizations.id")
    owner_signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    owner_signed_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    owner_signed_ip: str | None = Field(default=None, max_length=64)
    provider_signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    provider_signed_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    provider_signed_ip: str | None = Field(default=None, max_length=64)
    signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    withdraw_reason: str | None = Field(default=None, sa_column=Column(Text))


class Delivery(SQLModel, table=True):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("contract_id", "seq"),
        CheckConstraint(one_of("status", DeliveryStatus), name="status"),
        CheckConstraint("status <> 'returned' OR length(COALESCE(reason, '')) > 0", name="returned_with_reason"),
        CheckConstraint("(status = 'submitted') = (decided_at IS NULL)", name="decided"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    contract_id: uuid.UUID = Field(foreign_key="contracts.id", index=True)
    seq: int
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    submitted_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    submitted_by: uuid.UUID = Field(foreign_key="users.id")
    status: DeliveryStatus = Field(default=DeliveryStatus.submitted, sa_type=StrEnumType(DeliveryStatus, 16))
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    reason: str | None = Field(default=None, sa_column=Column(Text))


class DeliveryFile(SQLModel, table=True):
    __tablename__ = "delivery_files"
    __table_args__ = (UniqueConstraint("delivery_id", "sha256"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    delivery_id: uuid.UUID = Field(foreign_key="deliveries.id", index=True)
    sha256: str = Field(foreign_key="stored_files.sha256", max_length=64, index=True)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=60)
    size: int


class Rating(SQLModel, table=True):
    """After acceptance the owner rates the provider (quality, timeliness, attitude, price) and the
    provider may rate the owner (clarity, payment); 1 to 5 each, once per contract and side."""

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("contract_id", "ratee_role"),
        CheckConstraint(one_of("ratee_role", RateeRole), name="ratee_role"),
        CheckConstraint(
            "(ratee_role = 'provider' AND COALESCE(quality, 0) BETWEEN 1 AND 5 "
            "AND COALESCE(timeliness, 0) BETWEEN 1 AND 5 AND COALESCE(attitude, 0) BETWEEN 1 AND 5 "
            "AND COALESCE(price, 0) BETWEEN 1 AND 5 AND clarity IS NULL AND payment IS NULL) "
            "OR (ratee_role = 'owner' AND COALESCE(clarity, 0) BETWEEN 1 AND 5 "
            "AND COALESCE(payment, 0) BETWEEN 1 AND 5 "
            "AND quality IS NULL AND timeliness IS NULL AND attitude IS NULL AND price IS NULL)",
            name="scores",
        ),
        Index("ix_ratings_ratee", "ratee_org_id", "ratee_role"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    contract_id: uuid.UUID = Field(foreign_key="contracts.id", index=True)
    ratee_role: RateeRole = Field(sa_type=StrEnumType(RateeRole, 16))
    ratee_org_id: uuid.UUID = Field(foreign_key="organizations.id")
    rater_org_id: uuid.UUID = Field(foreign_key="organizations.id")
    rated_by: uuid.UUID = Field(foreign_key="users.id")
    quality: int | None = None
    timeliness: int | None = None
    attitude: int | None = None
    price: int | None = None
    clarity: int | None = None
    payment: int | None = None
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)


class Invoice(SQLModel, table=True):
    """An invoice or a credit note issued by the provider against a signed contract. Numbers are
    consecutive per issuer, kind and year (FP- and HZ- are two series). Rows are never changed."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("issuer_id", "kind", "year", "seq"),
        UniqueConstraint("issuer_id", "number"),
        CheckConstraint(one_of("kind", InvoiceKind), name="kind"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("seq > 0", name="seq_positive"),
        CheckConstraint(
            "(kind = 'invoice' AND credits_invoice_id IS NULL) "
            "OR (kind = 'credit_note' AND credits_invoice_id IS NOT NULL AND length(COALESCE(reason, '')) > 0)",
            name="credit_note_refers",
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    kind: InvoiceKind = Field(default=InvoiceKind.invoice, sa_type=StrEnumType(InvoiceKind, 16))
    contract_id: uuid.UUID = Field(foreign_key="contracts.id", index=True)
    issuer_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    recipient_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    year: int
    seq: int
    number: str = Field(max_length=24)
    amount: Decimal = Field(sa_type=MoneyType)
    credits_invoice_id: uuid.UUID | None = Field(default=None, foreign_key="invoices.id", index=True)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    tax_invoice_no: str | None = Field(default=None, sa_column=Column(String(20)))
    issued_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    issued_by: uuid.UUID = Field(foreign_key="users.id")
    issued_ip: str | None = Field(default=None, max_length=64)


class Payment(SQLModel, table=True):
    """A payment the owner recorded against an invoice. Rows are never changed."""

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    invoice_id: uuid.UUID = Field(foreign_key="invoices.id", index=True)
    contract_id: uuid.UUID = Field(foreign_key="contracts.id", index=True)
    amount: Decimal = Field(sa_type=MoneyType)
    paid_on: date
    reference: str = Field(max_length=100)
    recorded_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    recorded_by: uuid.UUID = Field(foreign_key="users.id")
    recorded_ip: str | None = Field(default=None, max_length=64)


class Document(SQLModel, table=True):
    """A rendered PDF, stored content-addressed; its SHA-256 is what anyone can verify.
    One per entity and language, rendered once and never again (append-only)."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("kind", "entity_id", "lang"),
        CheckConstraint(one_of("kind", DocumentKind), name="kind"),
        CheckConstraint("lang IN ('zh', 'en')", name="lang"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    sha256: str = Field(foreign_key="stored_files.sha256", max_length=64, unique=True)
    kind: DocumentKind = Field(sa_type=StrEnumType(DocumentKind, 16))
    entity_id: uuid.UUID = Field(index=True)
    lang: str = Field(max_length=2)
    number: str = Field(max_length=32)
    size: int = Field(sa_column=Column(Integer, nullable=False))
    rendered_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)


class DocumentQueue(SQLModel, table=True):
    """A final document whose Chinese PDF is still to be rendered: the worker's documents queue
    (:func:`invoices.documents.render_pending`, run in its own loop so rendering never holds up
    the deadlines). A row is added in the transaction that makes the document final (a contract
    or an agreement signed by both parties, an invoice or a credit note issued) and removed once
    its PDF is stored, so finding the work reads this small table, not every contract and invoice.
    ``claimed_until``: a worker rendering it (another leaves it alone until then)."""

    __tablename__ = "document_queue"
    __table_args__ = (CheckConstraint(one_of("kind", DocumentKind), name="kind"),)

    kind: DocumentKind = Field(sa_type=StrEnumType(DocumentKind, 16), primary_key=True)
    entity_id: uuid.UUID = Field(primary_key=True)
    enqueued_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False, index=True)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


# the open data feed: a contract, its invoices and its payments are part of the purchase's release
changes.follow(Contract, lambda c: c.purchase_id)
changes.follow_through(Invoice, lambda i: i.contract_id, Contract.__table__.c.id, Contract.__table__.c.purchase_id)  # type: ignore[attr-defined]
changes.follow_through(Payment, lambda p: p.contract_id, Contract.__table__.c.id, Contract.__table__.c.purchase_id)  # type: ignore[attr-defined]
