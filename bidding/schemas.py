"""Request and response schemas of the bidding API (never table models)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from market.clock import LOCAL_TZ
from market.i18n import gettext as _
from market.schemas import Money, Out, Schema

MethodName = Literal["random", "lowest_price", "scored", "direct"]
FundingName = Literal["fiscal", "own", "mixed"]
GradeName = Literal["A", "B", "C", "D"]


def _local_if_naive(value: datetime | None) -> datetime | None:
    """Times without a zone are China time (what people type)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=LOCAL_TZ)
    return value


class WeightsIn(Schema):
    """Percentages that add up to 100."""

    price: int = Field(ge=0, le=100)
    quality: int = Field(ge=0, le=100)
    credit: int = Field(ge=0, le=100)


class PurchaseCreate(Schema):
    title: str = Field(min_length=4, max_length=200)
    catalog_code: str = Field(min_length=1, max_length=32)
    description: str = Field(min_length=10, max_length=20000, description="scope of the service")
    budget_cap: Money
    price_floor: Money | None = None
    funding: FundingName
    investment_code: str | None = Field(default=None, max_length=40)
    method: MethodName
    bid_deadline: datetime = Field(description="ISO 8601; without a zone it is China time")
    service_days: int = Field(ge=1, le=3650)
    min_bids: int | None = Field(default=None, ge=1, le=20)
    weights: WeightsIn | None = None
    avoid_provider_ids: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    min_grade: GradeName | None = Field(
        default=None, description="the lowest credit grade of the firms admitted (A best … D); none: every grade"
    )

    _deadline = field_validator("bid_deadline")(_local_if_naive)


class PurchaseUpdate(Schema):
    """A draft's fields; those left out stay as they are, ``null`` clears an optional one."""

    title: str | None = Field(default=None, min_length=4, max_length=200)
    catalog_code: str | None = Field(default=None, min_length=1, max_length=32)
    description: str | None = Field(default=None, min_length=10, max_length=20000)
    budget_cap: Money | None = None
    price_floor: Money | None = None
    funding: FundingName | None = None
    investment_code: str | None = Field(default=None, max_length=40)
    method: MethodName | None = None
    bid_deadline: datetime | None = None
    service_days: int | None = Field(default=None, ge=1, le=3650)
    min_bids: int | None = Field(default=None, ge=1, le=20)
    weights: WeightsIn | None = None
    avoid_provider_ids: list[uuid.UUID] | None = Field(default=None, max_length=200)
    min_grade: GradeName | None = None

    _deadline = field_validator("bid_deadline")(_local_if_naive)

    @field_validator(
        "title", "catalog_code", "description", "budget_cap", "funding", "method", "bid_deadline", "service_days"
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        """Every purchase has these terms: they may be changed, not cleared."""
        if value is None:
            raise ValueError(_("This field is required."))
        return value


class Created(Out):
    id: uuid.UUID
    ref: str | None
    status: str


class StatusOut(Out):
    id: uuid.UUID
    ref: str | None
    status: str
    draw_commitment: str | None


class ReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=4000)


class CancellationDecideIn(Schema):
    approved: bool
    decision: str = Field(min_length=1, max_length=8000)


class CancellationOut(Out):
    """An owner's request to cancel after the deadline and the operator's decision (public)."""

    id: uuid.UUID
    purchase_id: uuid.UUID
    purchase_ref: str | None
    purchase_title: str
    reason: str
    requested_at: datetime
    status: str
    decision: str | None
    decided_at: datetime | None


class RepublishIn(Schema):
    bid_deadline: datetime | None = None

    _deadline = field_validator("bid_deadline")(_local_if_naive)


class Weights(Out):
    price: int
    quality: int
    credit: int


class PurchaseSummary(Out):
    id: uuid.UUID
    ref: str | None
    round: int
    title: str
    owner_id: uuid.UUID
    owner_name: str
    catalog_code: str
    catalog_name: str
    budget_cap: Money
    method: str
    status: str
    bid_deadline: datetime
    published_at: datetime | None


class ChangeNoticeIn(Schema):
    """A change notice: the written reason and the terms that change (those left out stay)."""

    reason: str = Field(min_length=1, max_length=4000, description="what changes and why")
    description: str | None = Field(default=None, min_length=10, max_length=20000)
    budget_cap: Money | None = None
    bid_deadline: datetime | None = Field(default=None, description="ISO 8601; without a zone it is China time")
    service_days: int | None = Field(default=None, ge=1, le=3650)

    _deadline = field_validator("bid_deadline")(_local_if_naive)


class ChangeOut(BaseModel):
    field: str
    before: Any
    after: Any


class ChangeNoticeOut(Out):
    """A published change notice (public): each changed term before and after."""

    id: uuid.UUID
    purchase_id: uuid.UUID
    seq: int
    reason: str
    material: bool = Field(description="existing bids must be confirmed or replaced by the deadline")
    published_at: datetime
    changes: list[ChangeOut]


class BidConfirmationOut(Out):
    bid_id: uuid.UUID
    notice_id: uuid.UUID
    confirmed_at: datetime
    digest: str = Field(description="the bid's digest, unchanged: its receipt stays valid")


class PurchaseOut(PurchaseSummary):
    previous_id: uuid.UUID | None
    next_round_id: uuid.UUID | None
    description: str
    price_floor: Money | None
    funding: str
    investment_code: str | None
    service_days: int
    min_bids: int
    weights: Weights | None
    avoid_provider_ids: list[uuid.UUID]
    min_grade: str | None = Field(description="the lowest credit grade admitted (A … D), or null")
    draw_commitment: str | None = Field(description="commitment (sha256 of the secret) of the next draw")
    opened_at: datetime | None
    explanation_due_at: datetime | None
    selected_at: datetime | None
    publicity_ends_at: datetime | None
    awarded_at: datetime | None
    contracted_at: datetime | None
    cancel_reason: str | None
    fail_reason: str | None
    contract_id: uuid.UUID | None
    cancellation_requests: list[CancellationOut] = Field(
        default_factory=list, description="requests to cancel after the deadline, and their decisions"
    )
    change_notices: list[ChangeNoticeOut] = Field(default_factory=list, description="change notices, in order")
    bid_count: int | None = Field(description="only once the bids are opened")
    valid_bid_count: int | None = Field(description="only once the bids are opened")
    marks_locked_at: datetime | None = Field(
        default=None, description="scored: when the owner locked the quality marks (the prices opened to it then)"
    )


class QuestionIn(Schema):
    question: str = Field(min_length=1, max_length=4000)


class AnswerIn(Schema):
    answer: str = Field(min_length=1, max_length=8000)


class QuestionOut(Out):
    """A clarification; the asker is never shown."""

    id: uuid.UUID
    purchase_id: uuid.UUID
    question: str
    asked_at: datetime
    answer: str | None
    answered_at: datetime | None


class BidIn(Schema):
    price: Money
    service_days: int = Field(ge=1, le=3650)
    note: str | None = Field(default=None, max_length=2000)


class BidDraftOut(Out):
    """A firm's bid being prepared: seen by that firm only (a clerk prepares, an approver submits)."""

    id: uuid.UUID
    purchase_id: uuid.UUID
    price: Money
    service_days: int
    note: str
    prepared_by: uuid.UUID | None
    prepared_by_name: str = ""
    created_at: datetime
    updated_at: datetime


class Receipt(Out):
    id: uuid.UUID
    digest: str = Field(description="SHA-256 of the bid's canonical content (GET /api/v1/bids/{id}/document)")
    received_at: datetime


class BidOut(Out):
    id: uuid.UUID
    outcome: str | None = Field(
        default=None, description="won, not_won, failed, withdrawn, cancelled; pending until the result"
    )
    purchase_id: uuid.UUID
    purchase_ref: str | None
    purchase_title: str
    provider_id: uuid.UUID
    price: Money
    service_days: int
    note: str
    digest: str
    received_at: datetime
    status: str
    withdrawn_at: datetime | None
    valid: bool | None
    invalid_reason: str | None
    abnormally_low: bool
    explanation: str | None
    explanation_due_at: datetime | None
    excluded: bool
    awaiting_confirmation: bool = Field(
        default=False, description="a material change notice followed the bid: confirm or replace it by the deadline"
    )


class OpenedBidOut(Out):
    id: uuid.UUID
    provider_id: uuid.UUID
    provider_name: str
    price: Money
    service_days: int
    note: str
    digest: str
    received_at: datetime
    valid: bool | None
    invalid_reason: str | None
    abnormally_low: bool
    explanation: str | None
    excluded: bool
    quality_mark: int | None
    credit_score: int | None
    credit_grade: str | None = Field(default=None, description="the bidder's credit grade at the deadline")


class OpenedBids(Out):
    purchase_id: uuid.UUID
    ref: str | None
    opened_at: datetime
    items: list[OpenedBidOut]
    total: int


class ExplanationIn(Schema):
    explanation: str = Field(min_length=1, max_length=8000)


class SelectIn(Schema):
    bid_id: uuid.UUID | None = Field(default=None, description="direct selection only")
    reason: str | None = Field(default=None, max_length=4000, description="direct selection only")
    quality_marks: dict[str, int] | None = Field(default=None, description="scored only: {bid_id: 0-100}")


class DrawProof(BaseModel):
    commitment: str
    secret: str
    seed: str
    candidates: list[str]
    index: int


class ResultBid(BaseModel):
    digest: str
    price: Money
    service_days: int
    abnormally_low: bool
    excluded: bool
    winner: bool = Field(description="the winner of the selection that stands (never a bid excluded by an objection)")
    score: str | None
    quality_mark: int | None
    quality_reason: str | None = Field(default=None, description="scored: the owner's written reason for the mark")
    credit_score: int | None = Field(
        description="scored: the bidder's credit score at the bid deadline (snapshotted at the opening, whole)"
    )
    credit_grade: str | None = Field(
        default=None, description="scored or with a minimum grade: the bidder's credit grade at the bid deadline"
    )
    provider_name: str | None = Field(description="the winner's; every bidder's once awarded")


class ResultObjection(BaseModel):
    id: uuid.UUID
    round: int | None
    status: str
    filed_at: datetime
    decided_at: datetime | None
    decision: str | None


class ResultRound(BaseModel):
    round: int
    status: str = Field(
        description="current; overturned by an upheld objection; or voided by the owner because its winner "
        "did not sign the contract within the signing period"
    )
    method: str | None = None
    winner_bid_id: uuid.UUID | None = None
    winner_digest: str | None
    winner_provider_name: str | None = None
    price: Money
    reason: str | None = None
    selected_at: datetime
    publicity_ends_at: datetime | None = None
    draw: DrawProof | None
    objections: list[ResultObjection] = Field(default_factory=list, description="objections to this round's result")
    voided_at: datetime | None = Field(default=None, description="when the owner voided this round's award")
    void_reason: str | None = Field(default=None, description="the owner's written reason for voiding the award")


class ResultCommitment(BaseModel):
    round: int = Field(description="the selection round whose draw uses it")
    commitment: str
    published_with_round: int | None = Field(
        description="the round whose result published it; null: published with the announcement, before any bid"
    )
    drawn: bool = Field(description="its secret has been revealed by that round's draw")


class ResultOut(BaseModel):
    purchase_id: uuid.UUID
    ref: str
    status: str
    round: int = Field(description="the selection that stands, or the last round if none stands")
    method: str
    winner_bid_id: uuid.UUID | None = Field(description="null when no selection stands (after an upheld objection)")
    winner_digest: str | None
    winner_provider_id: uuid.UUID | None
    winner_provider_name: str | None
    price: Money | None
    service_days: int | None
    reason: str | None = Field(description="the written reason of a direct selection")
    selected_at: datetime | None
    publicity_ends_at: datetime | None
    awarded_at: datetime | None
    draw: DrawProof | None
    next_draw_commitment: str | None
    bids: list[ResultBid]
    rounds: list[ResultRound]
    objections: list[ResultObjection]
    commitments: list[ResultCommitment] = Field(default_factory=list)


class ObjectionIn(Schema):
    reason: str = Field(min_length=1, max_length=8000)


class DecideIn(Schema):
    upheld: bool
    decision: str = Field(min_length=1, max_length=8000)


class IfUpheld(BaseModel):
    """What upholding a pending objection will do (said before the operator decides)."""

    action: Literal["rerun", "reselect", "fail"] = Field(
        description="rerun: the rules select again among the remaining valid bids; reselect: the owner "
        "selects again (direct); fail: fewer valid bids than the minimum remain, the purchase fails"
    )
    remaining: int = Field(description="valid bids left once the selected bid is excluded")
    min_bids: int


class ObjectionOut(Out):
    id: uuid.UUID
    purchase_id: uuid.UUID
    purchase_ref: str | None
    purchase_title: str
    provider_id: uuid.UUID
    provider_name: str
    round: int | None
    reason: str
    filed_at: datetime
    status: str
    decision: str | None
    decided_at: datetime | None
    if_upheld: IfUpheld | None = Field(default=None, description="pending objections only")


class DrawCheckOut(BaseModel):
    round: int
    status: str
    ok: bool
    checks: dict[str, bool]
    seed: str | None
    index: int | None
    winner_digest: str | None


class DrawVerifyOut(BaseModel):
    ref: str
    purchase_id: uuid.UUID
    ok: bool
    draws: list[DrawCheckOut]


# --- scored selection: blind quality marks (bidding.scoring) --------------------------------------


class MarkIn(Schema):
    mark: int = Field(ge=0, le=100, description="the quality mark of the bid's technical part, 0-100")
    reason: str = Field(
        min_length=1, max_length=4000, description="the written reason (at least 10 characters; published)"
    )


class TechnicalPartOut(Out):
    """A bid as the owner sees it before the prices open: no price, nothing derived from one."""

    bid_id: uuid.UUID
    provider_id: uuid.UUID
    provider_name: str
    service_days: int
    note: str
    received_at: datetime
    valid: bool | None
    invalid_reason: str | None
    excluded: bool
    to_mark: bool
    mark: int | None
    reason: str | None
    marked_at: datetime | None


class EvaluationOut(Out):
    purchase_id: uuid.UUID
    ref: str | None
    status: str
    opened_at: datetime | None
    marks_locked_at: datetime | None
    missing: int = Field(description="valid bids still without a mark")
    items: list[TechnicalPartOut]
