"""Request and response schemas of the invoices API (never table models)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from litestar.datastructures import UploadFile
from pydantic import BaseModel, Field

from invoices import bounds
from market.schemas import Money, Out, Schema


class PartyOut(BaseModel):
    id: uuid.UUID
    name: str
    uscc: str
    address: str
    legal_rep: str
    signed_at: datetime | None
    signed_by: uuid.UUID | None
    signed_ip: str | None


class DocumentOut(BaseModel):
    sha256: str
    lang: str
    number: str
    size: int
    rendered_at: datetime
    download_url: str
    verify_url: str


class ContractOut(BaseModel):
    id: uuid.UUID
    number: str
    status: str
    flags: list[str]
    purchase_id: uuid.UUID
    purchase_ref: str
    bid_id: uuid.UUID
    title: str
    scope: str
    catalog_code: str
    catalog_name: str
    method: str
    draw_seed: str | None
    awarded_at: datetime
    owner: PartyOut
    provider: PartyOut
    amount: Money
    amount_in_words: str
    amount_current: Money
    service_days: int
    payment_days: int
    drafted_at: datetime
    sign_by: datetime
    signed_at: datetime | None
    due_at: datetime | None
    due_at_current: datetime | None
    invoiced_total: Money = Field(description="invoices net of credit notes")
    paid_total: Money
    outstanding: Money = Field(description="invoiced (net of credit notes) and not paid")
    delivered_at: datetime | None
    accepted_at: datetime | None
    payment_deadline: datetime | None
    paid_on: date | None
    days_to_payment: int | None = Field(description="calendar days from acceptance to full payment")
    documents: list[DocumentOut]
    voided_at: datetime | None = Field(
        default=None,
        description="void: the winner did not sign within the signing period and the owner voided the award",
    )
    void_reason: str | None = None


class AgreementIn(Schema):
    text: str = Field(min_length=1, max_length=bounds.AGREEMENT_TEXT[1], description="The change, in words")
    new_amount: Money | None = Field(default=None, description="The new contract amount, if it changes")
    extra_days: int = Field(
        default=0, ge=0, le=bounds.MAX_EXTRA_DAYS, description="Working days added to the time limit"
    )


class AgreementOut(BaseModel):
    id: uuid.UUID
    contract_id: uuid.UUID
    number: str
    status: str
    text: str
    new_amount: Money | None
    extra_days: int
    proposed_at: datetime
    proposed_by_org: uuid.UUID
    owner_signed_at: datetime | None
    provider_signed_at: datetime | None
    signed_at: datetime | None
    withdrawn_at: datetime | None
    withdraw_reason: str | None
    documents: list[DocumentOut] = []


class ReasonIn(Schema):
    """Why a delivery is returned or an agreement withdrawn."""

    reason: str = Field(min_length=1, max_length=bounds.RETURN_REASON[1])


class VoidIn(Schema):
    """Why the owner voids the award of a contract the winner did not sign in time (published)."""

    reason: str = Field(min_length=1, max_length=bounds.VOID_REASON[1])


class DeliveryFileOut(Out):
    sha256: str
    filename: str
    content_type: str
    size: int
    download_url: str = ""


class DeliveryOut(BaseModel):
    id: uuid.UUID
    contract_id: uuid.UUID
    seq: int
    status: str
    note: str
    submitted_at: datetime
    decided_at: datetime | None
    reason: str | None
    files: list[DeliveryFileOut]


@dataclass
class DeliveryForm:
    """multipart/form-data: one or more ``files`` (PDF, PNG, JPEG) and an optional ``note``."""

    files: list[UploadFile] = field(default_factory=list)
    note: str = ""
    csrf_token: str | None = None


class DeliveryIn(Schema):
    """The text part of a delivery (the files come beside it, checked by their content)."""

    note: str = Field(default="", max_length=bounds.DELIVERY_NOTE)


class RatingIn(Schema):
    """The owner rates the provider (quality, timeliness, attitude, price); the provider rates the
    owner (clarity, payment). Scores are whole numbers from 1 to 5."""

    quality: int | None = Field(default=None, ge=1, le=5)
    timeliness: int | None = Field(default=None, ge=1, le=5)
    attitude: int | None = Field(default=None, ge=1, le=5)
    price: int | None = Field(default=None, ge=1, le=5)
    clarity: int | None = Field(default=None, ge=1, le=5)
    payment: int | None = Field(default=None, ge=1, le=5)
    comment: str = Field(default="", max_length=bounds.RATING_COMMENT)


class RatingOut(Out):
    id: uuid.UUID
    contract_id: uuid.UUID
    ratee_role: str
    ratee_org_id: uuid.UUID
    rater_org_id: uuid.UUID
    quality: int | None
    timeliness: int | None
    attitude: int | None
    price: int | None
    clarity: int | None
    payment: int | None
    comment: str
    created_at: datetime


class RecentRatingOut(BaseModel):
    contract_number: str
    created_at: datetime
    average: str
    comment: str


class RatingSummaryOut(BaseModel):
    provider_id: uuid.UUID
    count: int
    averages: dict[str, str | None]
    overall: str | None
    recent: list[RecentRatingOut]


class InvoiceIn(Schema):
    amount: Money
    tax_invoice_no: str | None = Field(
        default=None, max_length=bounds.TAX_INVOICE_NO, description="The tax fapiao number, if any"
    )


class InvoiceCreated(BaseModel):
    id: uuid.UUID
    number: str


class CreditNoteIn(Schema):
    reason: str = Field(min_length=1, max_length=bounds.CREDIT_REASON[1])
    amount: Money | None = Field(default=None, description="Defaults to the invoice's unpaid remainder")


class PaymentIn(Schema):
    amount: Money
    paid_on: date
    reference: str = Field(min_length=1, max_length=bounds.PAYMENT_REFERENCE[1])


class PaymentOut(Out):
    id: uuid.UUID
    invoice_id: uuid.UUID
    contract_id: uuid.UUID
    amount: Money
    paid_on: date
    reference: str
    recorded_at: datetime


class InvoiceOut(BaseModel):
    id: uuid.UUID
    kind: str
    number: str
    contract_id: uuid.UUID
    contract_number: str
    issuer_id: uuid.UUID
    issuer_name: str
    recipient_id: uuid.UUID
    recipient_name: str
    amount: Money
    credits_invoice_id: uuid.UUID | None
    reason: str | None
    tax_invoice_no: str | None
    issued_at: datetime
    state: str
    credited: Money | None
    paid: Money | None
    outstanding: Money | None
    documents: list[DocumentOut]


class VerifiedOut(BaseModel):
    sha256: str
    kind: str
    number: str
    lang: str
    size: int
    rendered_at: datetime
    verify_url: str
    summary: dict[str, Any]


class PublicDocumentOut(BaseModel):
    """A final document's hash, for anyone to check at its verification page."""

    sha256: str
    lang: str
    number: str
    verify_url: str


class ContractSummaryOut(BaseModel):
    """The public summary of a contract signed by both parties (SPEC §1, §6): what was agreed, by
    which organisations, and the hash of its PDF. No personal data: no legal representatives, no
    signers, no IP addresses, no addresses."""

    id: uuid.UUID
    number: str
    status: str
    purchase_id: uuid.UUID
    purchase_ref: str
    title: str
    catalog_code: str
    catalog_name: str
    owner_name: str = Field(description="The purchaser (an organisation)")
    provider_name: str = Field(description="The service provider (an organisation)")
    amount: Money = Field(description="The amount signed")
    amount_in_words: str = Field(description="The amount signed in Chinese capitals (人民币大写)")
    amount_current: Money = Field(description="The amount after supplementary agreements")
    amount_current_in_words: str
    service_days: int
    signed_at: datetime
    due_at: datetime = Field(description="The due date fixed at signing")
    due_at_current: datetime = Field(description="The due date after supplementary agreements")
    documents: list[PublicDocumentOut]


# --- an owner's public record (issue 13.5) ---------------------------------------------------------


class OwnerPaymentOut(BaseModel):
    accepted_contracts: int = Field(description="contracts accepted: the payment term runs from acceptance")
    paid_in_full: int
    paid_within_term: int = Field(description="paid in full by the end of the payment term")
    judged: int = Field(description="paid in full, or an invoiced amount unpaid past the term now")
    share_within_term: Decimal | None = Field(description="paid_within_term / judged, 0–1 (null while there is none)")
    average_days_to_payment: Decimal | None = Field(
        description="calendar days from acceptance to full payment, on average"
    )
    overdue_contracts: int = Field(description="contracts with an invoiced amount unpaid past the term now")
    overdue_amount: Money = Field(description="what those contracts owe (invoiced net of credit notes − paid)")
    outstanding_amount: Money = Field(description="invoiced and unpaid over all accepted contracts")


class OwnerCancellationOut(BaseModel):
    purchase_id: uuid.UUID
    ref: str
    title: str
    reason: str
    decision: str
    decided_at: datetime | None


class OwnerDirectOut(BaseModel):
    purchase_id: uuid.UUID
    ref: str
    title: str
    round: int
    price: Money
    reason: str
    selected_at: datetime


class OwnerRecordOut(BaseModel):
    id: uuid.UUID
    name: str
    as_of: datetime
    purchases_published: int
    payment: OwnerPaymentOut
    cancellations_after_opening: int = Field(description="purchases cancelled after their bids were opened")
    cancellations: list[OwnerCancellationOut] = Field(description="the latest ones, with their reasons")
    direct_selections: int = Field(description="selections in which the owner chose the firm, with a reason")
    directs: list[OwnerDirectOut] = Field(description="the latest ones, with their written reasons")
