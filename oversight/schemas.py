"""Response schemas of the oversight API (amounts are strings with two decimals, percentages
strings with one, e.g. ``"12.5"``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from market.schemas import Money
from oversight import rules


class SpendingOut(BaseModel):
    key: str
    label: str
    purchases: int = Field(description="published purchases")
    in_progress: int = Field(description="open, evaluating or in publicity")
    awarded: int = Field(description="awarded or contracted")
    failed: int
    cancelled: int
    cap_awarded: Money = Field(description="the price caps of the awarded purchases")
    awarded_amount: Money
    savings: Money = Field(description="cap − awarded price, summed over the awarded purchases")
    savings_pct: Decimal | None = Field(description="savings in percent of the caps")
    contracted: int = Field(description="contracts signed by both parties")
    contracted_amount: Money
    invoiced: Money = Field(description="invoiced, net of credit notes")
    paid: Money

    @classmethod
    def of(cls, row: rules.Spending, label: str) -> SpendingOut:
        return cls(
            key=row.key,
            label=label,
            purchases=row.purchases,
            in_progress=row.in_progress,
            awarded=row.awarded,
            failed=row.failed,
            cancelled=row.cancelled,
            cap_awarded=row.cap_awarded,
            awarded_amount=row.awarded_amount,
            savings=row.savings,
            savings_pct=row.savings_pct,
            contracted=row.contracted,
            contracted_amount=row.contracted_amount,
            invoiced=row.invoiced,
            paid=row.paid,
        )


class CompetitionOut(BaseModel):
    opened: int = Field(description="purchases whose bids are open (the deadline has passed)")
    bids: int
    valid_bids: int
    bids_per_purchase: Decimal | None
    valid_bids_per_purchase: Decimal | None
    single_bid: int = Field(description="opened purchases with exactly one valid bid")
    single_bid_share: Decimal | None
    no_valid_bid: int
    selected: int = Field(description="purchases with a selection: in publicity, awarded or contracted")
    direct: int
    direct_share: Decimal | None
    selected_amount: Money
    direct_amount: Money
    direct_amount_share: Decimal | None

    @classmethod
    def of(cls, c: rules.Competition) -> CompetitionOut:
        return cls(
            opened=c.opened,
            bids=c.bids,
            valid_bids=c.valid_bids,
            bids_per_purchase=c.bids_per_purchase,
            valid_bids_per_purchase=c.valid_bids_per_purchase,
            single_bid=c.single_bid,
            single_bid_share=c.single_bid_share,
            no_valid_bid=c.no_valid_bid,
            selected=c.selected,
            direct=c.direct,
            direct_share=c.direct_share,
            selected_amount=c.selected_amount,
            direct_amount=c.direct_amount,
            direct_amount_share=c.direct_amount_share,
        )


class TimelinessOut(BaseModel):
    contracts: int
    signed: int
    signed_late: int
    signing_overdue: int
    accepted: int
    overdue: int
    delivered_late: int
    paid_in_full: int
    paid_late: int
    payment_overdue: int
    average_days_to_payment: Decimal | None = Field(description="calendar days from acceptance to full payment")
    paid_on_time_share: Decimal | None

    @classmethod
    def of(cls, t: rules.Timeliness) -> TimelinessOut:
        return cls(
            contracts=t.contracts,
            signed=t.signed,
            signed_late=t.signed_late,
            signing_overdue=t.signing_overdue,
            accepted=t.accepted,
            overdue=t.overdue,
            delivered_late=t.delivered_late,
            paid_in_full=t.paid_in_full,
            paid_late=t.paid_late,
            payment_overdue=t.payment_overdue,
            average_days_to_payment=t.average_days_to_payment,
            paid_on_time_share=t.paid_on_time_share,
        )


class PeriodOut(BaseModel):
    """The period the figures cover, named as the query names it (``from``/``to``, China dates)."""

    model_config = ConfigDict(populate_by_name=True)

    start: date | None = Field(alias="from")
    end: date | None = Field(alias="to")


class SummaryOut(BaseModel):
    """Spending grouped one way (``items`` is the list of groups), with the totals, competition,
    savings, timeliness and the number of red flags of the period."""

    group_by: str
    period: PeriodOut
    totals: SpendingOut
    competition: CompetitionOut
    timeliness: TimelinessOut
    flags: dict[str, int] = Field(description="red flags by code")
    flags_by_severity: dict[str, int]
    items: list[SpendingOut]
    total: int
    limit: int
    offset: int


class SubjectOut(BaseModel):
    type: str = Field(description="purchase or firm")
    id: uuid.UUID
    name: str
    ref: str | None = None
    url: str


class LinkOut(BaseModel):
    label: str
    url: str


class FlagOut(BaseModel):
    code: str
    title: str
    severity: str
    subject: SubjectOut
    explanation: str
    data: dict[str, Any] = Field(description="the facts behind the flag")
    links: list[LinkOut]


class FlagPage(BaseModel):
    items: list[FlagOut]
    total: int
    limit: int
    offset: int
    counts: dict[str, int] = Field(description="flags of the period (before filtering) by code")


class AuditEventOut(BaseModel):
    """One event of the audit trail, with what people read: labels in the request's language,
    the names of the user and organisation that acted, and the page of its record."""

    seq: int
    occurred_at: datetime
    actor_user_id: uuid.UUID | None
    actor_user_name: str | None
    actor_org_id: uuid.UUID | None
    actor_org_name: str | None
    actor_role: str
    action: str
    action_label: str
    entity_type: str
    entity_label: str
    entity_id: str
    url: str | None = Field(description="the page of the record, where there is one")
    data: dict[str, Any]
    prev_hash: str
    hash: str


class OcdsPublisher(BaseModel):
    name: str
    uri: str


class OcdsLinks(BaseModel):
    next: str


class OcdsReleasePackage(BaseModel):
    """An OCDS 1.1 release package (standard.open-contracting.org/1.1/en/schema/release_package);
    each release follows the OCDS release schema."""

    uri: str
    version: str
    publishedDate: str
    publisher: OcdsPublisher
    releases: list[dict[str, Any]]
    links: OcdsLinks | None = Field(default=None, description="`next`: the following page, when there is one")


class GradeChangeOut(BaseModel):
    """A move of a firm's credit grade (listings.credit)."""

    id: uuid.UUID
    provider_id: uuid.UUID
    provider_name: str
    changed_at: datetime
    old_score: str
    new_score: str
    old_grade: str
    new_grade: str
    cause: str
    cause_label: str
    fact_id: uuid.UUID | None
    fact_kind: str | None
    fact_label: str | None
    url: str = Field(description="the firm's public page, where its facts are listed")
