"""Owners have a record too (issue 13.5): each owner's public payment record, its cancellations
after opening and its direct selections — the firms' side of accountability.

It lives in the invoices package because the payment record is made of contracts: the lowest layer
that sees contracts, and the one that owns the single definition of invoiced / paid / outstanding
(:func:`invoices.contracts.account_of`, the contract's running totals) and of the payment term's end
(``contracts.payment_due_at``, :func:`invoices.rules.paid_by_deadline`). The purchases' facts
(approved cancellations after opening, direct selections) are bidding's, which invoices may read.
Oversight (finance's reports and red flags) may reuse it; the public record does not depend on it.

Every figure is an SQL aggregate over the owner's rows (a province has tens of thousands of
contracts): no contract is loaded to count it. The same figures computed contract by contract with
:func:`~invoices.contracts.account_of`, :func:`~invoices.contracts.flags_of` and
:func:`~invoices.contracts.days_to_payment` agree (``tests/integration/test_owner_record.py``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Date, String, and_, case, cast, func, literal, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from bidding.models import (
    CancellationRequest,
    CancellationStatus,
    Method,
    Purchase,
    PurchaseStatus,
    Selection,
)
from invoices.models import Contract, ContractStatus
from market import clock
from market.errors import NotFound
from market.i18n import gettext as _
from market.identity.models import Organization, OrgKind, OrgStatus
from market.money import MoneyType
from market.settings import Settings

LIST_LIMIT = 20  # the latest cancellations and direct selections shown with their totals
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class PaymentRecord:
    accepted: int  # contracts accepted (the payment clock runs from acceptance)
    paid_in_full: int
    paid_within_term: int  # paid in full by the end of the payment term
    overdue: int  # an invoiced amount unpaid past the term now (the payment_overdue flag)
    overdue_amount: Decimal  # the outstanding amount of those contracts
    outstanding_amount: Decimal  # invoiced and unpaid, over all the owner's contracts
    average_days_to_payment: Decimal | None  # acceptance to full payment, calendar days

    @property
    def judged(self) -> int:
        """The contracts the share is taken of: paid in full, or overdue now."""
        return self.paid_in_full + self.overdue

    @property
    def share_within_term(self) -> Decimal | None:
        """Paid within the term, of the contracts paid in full or overdue now (None: none yet)."""
        if not self.judged:
            return None
        return (Decimal(self.paid_within_term) / Decimal(self.judged)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


@dataclass(frozen=True)
class CancellationRow:
    purchase_id: uuid.UUID
    ref: str
    title: str
    reason: str
    decision: str
    decided_at: datetime | None


@dataclass(frozen=True)
class DirectRow:
    purchase_id: uuid.UUID
    ref: str
    title: str
    round: int
    price: Decimal
    reason: str
    selected_at: datetime


@dataclass(frozen=True)
class OwnerRecord:
    owner: Organization
    as_of: datetime
    purchases_published: int
    payment: PaymentRecord
    cancellations_after_opening: int
    cancellations: list[CancellationRow]
    direct_selections: int
    directs: list[DirectRow]


async def public_owner(session: AsyncSession, owner_id: uuid.UUID) -> Organization:
    """An owner whose record is public: an owner organisation that has been approved (also when
    suspended later). Anything else is not found, like an unknown id."""
    org = await session.get(Organization, owner_id)
    if org is None or org.kind != OrgKind.owner or org.status in (OrgStatus.pending, OrgStatus.rejected):
        raise NotFound(_("No such project owner."))
    return org


def _local_date(column: Any, dialect: str) -> ColumnElement[Any]:
    """The China date of a UTC moment (UTC+8 all year)."""
    if dialect == "postgresql":
        return type_coerce(func.date(func.timezone("Asia/Shanghai", column)), Date)
    return func.date(column, "+8 hours")


def _days_between(later_date: Any, earlier_date: Any, dialect: str) -> ColumnElement[Any]:
    """Whole days from one date to another (dates, not moments)."""
    if dialect == "postgresql":
        difference: ColumnElement[Any] = later_date - earlier_date
        return difference
    return func.julianday(later_date) - func.julianday(earlier_date)


def _term_end_date(dialect: str) -> ColumnElement[Any]:
    """The China date on which the payment term ends (the deadline is the end of that day): the
    stored ``payment_due_at``, or — for a contract accepted without it stored — the acceptance date
    plus the contract's payment days, as :func:`invoices.contracts.payment_deadline_of` computes it."""
    stored = _local_date(col(Contract.payment_due_at), dialect)
    accepted = col(Contract.accepted_at)
    if dialect == "postgresql":
        computed: ColumnElement[Any] = _local_date(accepted, dialect) + col(Contract.payment_days)
    else:
        days = literal("+") + cast(col(Contract.payment_days), String) + literal(" days")
        computed = func.date(accepted, "+8 hours", days)
    return func.coalesce(stored, computed)


def _in_time_and_overdue(
    settings: Settings, dialect: str, now: datetime
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """SQL twins of the contract flags' payment rules (:func:`invoices.rules.contract_flags`,
    :func:`invoices.rules.paid_by_deadline`): (paid by the end of the term, its end has passed).
    Unaccelerated, by China dates (the term ends at the end of a day); when the accelerator makes a
    day last seconds, by the stored moment (every acceptance through the services stores it)."""
    due = col(Contract.payment_due_at)
    if settings.accelerator > 1:
        return col(Contract.paid_recorded_at) <= due, due < now
    end = _term_end_date(dialect)
    today = clock.to_local(now).date()
    return col(Contract.paid_on) <= end, literal(today, Date) > end


async def payment_record(
    session: AsyncSession, settings: Settings, owner_id: uuid.UUID, now: datetime | None = None
) -> PaymentRecord:
    """The owner's payment record in one aggregate query over its accepted contracts (void ones
    are no contracts). The amounts are the contracts' running totals, which
    :func:`invoices.contracts.account_of` reads: outstanding = invoiced (net of credit notes) − paid."""
    now = now or clock.now()
    dialect = session.get_bind().dialect.name
    paid_full = col(Contract.paid_on).is_not(None)
    owed = col(Contract.invoiced_total) - col(Contract.paid_total)
    in_time, term_over = _in_time_and_overdue(settings, dialect, now)
    overdue = and_(
        col(Contract.paid_total) < col(Contract.amount_current),
        col(Contract.invoiced_total) > col(Contract.paid_total),
        term_over,
    )
    days = _days_between(col(Contract.paid_on), _local_date(col(Contract.accepted_at), dialect), dialect)
    row = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((paid_full, 1), else_=0)), 0),
                func.coalesce(func.sum(case((and_(paid_full, in_time), 1), else_=0)), 0),
                func.coalesce(func.sum(case((overdue, 1), else_=0)), 0),
                type_coerce(func.sum(case((overdue, owed), else_=0)), MoneyType),
                type_coerce(func.sum(owed), MoneyType),
                func.avg(case((paid_full, case((days < 0, 0), else_=days)), else_=None)),
            ).where(
                col(Contract.owner_id) == owner_id,
                col(Contract.status) != ContractStatus.void,
                col(Contract.accepted_at).is_not(None),
            )
        )
    ).one()
    accepted, paid, in_time, late_now, late_amount, outstanding, average = row
    return PaymentRecord(
        accepted=int(accepted or 0),
        paid_in_full=int(paid or 0),
        paid_within_term=int(in_time or 0),
        overdue=int(late_now or 0),
        overdue_amount=late_amount or ZERO,
        outstanding_amount=outstanding or ZERO,
        average_days_to_payment=None
        if average is None
        else Decimal(str(average)).quantize(Decimal("0.1"), ROUND_HALF_UP),
    )


async def owner_record(
    session: AsyncSession, settings: Settings, owner_id: uuid.UUID, *, limit: int = LIST_LIMIT
) -> OwnerRecord:
    """The public record of an owner: its payment record, the purchases it cancelled after their
    bids were opened (the operator approved the request) and its direct selections, each with the
    latest ``limit`` rows and the total."""
    owner = await public_owner(session, owner_id)
    now = clock.now()
    published = await session.scalar(
        select(func.count())
        .select_from(Purchase)
        .where(col(Purchase.owner_id) == owner_id, col(Purchase.status) != PurchaseStatus.draft)
    )
    cancelled = (
        select(CancellationRequest, Purchase)
        .join(Purchase, col(Purchase.id) == col(CancellationRequest.purchase_id))
        .where(
            col(Purchase.owner_id) == owner_id,
            col(CancellationRequest.status) == CancellationStatus.approved,
        )
    )
    cancelled_total = await session.scalar(select(func.count()).select_from(cancelled.subquery()))
    cancellations = [
        CancellationRow(
            purchase_id=p.id,
            ref=p.ref or "",
            title=p.title,
            reason=r.reason,
            decision=r.decision or "",
            decided_at=r.decided_at,
        )
        for r, p in (
            await session.execute(cancelled.order_by(col(CancellationRequest.decided_at).desc()).limit(limit))
        ).all()
    ]
    direct = (
        select(Selection, Purchase)
        .join(Purchase, col(Purchase.id) == col(Selection.purchase_id))
        .where(col(Purchase.owner_id) == owner_id, col(Selection.method) == Method.direct)
    )
    direct_total = await session.scalar(select(func.count()).select_from(direct.subquery()))
    directs = [
        DirectRow(
            purchase_id=p.id,
            ref=p.ref or "",
            title=p.title,
            round=s.round,
            price=s.price,
            reason=s.reason or "",
            selected_at=s.selected_at,
        )
        for s, p in (await session.execute(direct.order_by(col(Selection.selected_at).desc()).limit(limit))).all()
    ]
    return OwnerRecord(
        owner=owner,
        as_of=now,
        purchases_published=int(published or 0),
        payment=await payment_record(session, settings, owner_id, now),
        cancellations_after_opening=int(cancelled_total or 0),
        cancellations=cancellations,
        direct_selections=int(direct_total or 0),
        directs=directs,
    )
