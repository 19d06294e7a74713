"""Pure rules of the invoices package (no database): amounts in Chinese capitals, document
number prefixes, due dates and the flags that tell people a contract or a payment is late."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import cn2an

from invoices.models import ContractStatus, InvoiceKind
from market.clock import LOCAL_TZ, ensure_aware
from market.money import to_money
from market.workdays import (
    SECONDS_PER_DAY,
    add_period,
    add_working_days_to_date,
    calendar_due_date,
    due_date,
    end_of_local_day,
)

CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_CAPITALS_RE = re.compile(r"^[零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整]+$")


def amount_in_capitals(amount: Decimal) -> str:
    """The amount written in Chinese capitals, as on a cheque or a contract (人民币大写).

    ``cn2an`` (RMB mode) does the conversion; its output is normalised to the form of the
    People's Bank of China's settlement rules (《支付结算办法》附一):

    * whole yuan end in 元整 (cn2an already does: 壹万贰仟捌佰元整);
    * an amount ending in 角 is also closed with 整 (壹拾元伍角整), which the rules allow and
      which leaves no room to append digits; an amount with 分 has no 整 (壹元零伍分);
    * less than one yuan starts at the first non-zero unit (伍角整, 伍分), never 零元;
    * zero is 零元整.

    The prefix 人民币 is left to the caller ("人民币大写：…").
    """
    value = to_money(amount)
    if value < 0:
        raise ValueError("an amount in capitals cannot be negative")
    text = str(cn2an.an2cn(format(value, "f"), "rmb"))
    if text.endswith("角"):
        text += "整"
    if not _CAPITALS_RE.match(text):  # guard against a library change
        raise ValueError(f"unexpected capitals {text!r} for {value}")
    return text


# the prefixes of the gap-free series (numbered by market.numbering.reference): contracts, and the
# invoices and the credit notes of an issuer, two series each consecutive per year
CONTRACT_PREFIX = "HT"
INVOICE_PREFIXES = {InvoiceKind.invoice: "FP", InvoiceKind.credit_note: "HZ"}
INVOICE_SERIES = {InvoiceKind.invoice: "invoice", InvoiceKind.credit_note: "credit_note"}  # number_counters.series


def agreement_number(contract_no: str, seq: int) -> str:
    return f"{contract_no}-BC{seq}"


def local_year(moment: datetime) -> int:
    return ensure_aware(moment).astimezone(LOCAL_TZ).year


def service_due(signed_at: datetime, service_days: int, accelerator: int = 1) -> datetime:
    """Signing date plus the service days in China working days: due at the end of the last
    working day (adjusted weekend working days count, holidays do not); accelerated per SPEC §4."""
    return due_date(signed_at, service_days, accelerator)


def extend_due(due_at: datetime, extra_days: int, accelerator: int = 1) -> datetime:
    """A due date moved by a supplementary agreement's extra working days."""
    if extra_days <= 0:
        return due_at
    if accelerator > 1:
        return ensure_aware(due_at) + timedelta(seconds=extra_days * SECONDS_PER_DAY / accelerator)
    local_day = ensure_aware(due_at).astimezone(LOCAL_TZ).date()
    return end_of_local_day(add_working_days_to_date(local_day, extra_days))


def signing_deadline(drafted_at: datetime, signing_days: int, accelerator: int = 1) -> datetime:
    return add_period(drafted_at, signing_days, accelerator)


# 保障中小企业款项支付条例 art. 8: public bodies pay within 30 days of acceptance; a contract may
# agree a longer term, never beyond 60 days. Calendar days, not working days.
DEFAULT_PAYMENT_DAYS = 30
MAX_PAYMENT_DAYS = 60


def payment_deadline(accepted_at: datetime, payment_days: int, accelerator: int = 1) -> datetime:
    """Public bodies pay within the payment term after acceptance (保障中小企业款项支付条例): in
    calendar days, so the end of the local day ``payment_days`` days after the acceptance date
    (weekends and holidays count); accelerated like every rule period."""
    return calendar_due_date(accepted_at, payment_days, accelerator)


def paid_by_deadline(paid_on: date, recorded_at: datetime, deadline: datetime, accelerator: int = 1) -> bool:
    """Was a payment made in time? Unaccelerated, by its payment date; accelerated (where a day
    lasts seconds and a date says nothing), by the moment it was recorded."""
    if accelerator > 1:
        return ensure_aware(recorded_at) <= ensure_aware(deadline)
    return paid_on <= ensure_aware(deadline).astimezone(LOCAL_TZ).date()


@dataclass(frozen=True)
class Account:
    """What a contract's invoices and payments come to: the one definition of invoiced, paid and
    outstanding that every page, flag, export and OCDS release shows (see
    :func:`invoices.contracts.account_of` and :func:`invoices.contracts.accounts`)."""

    amount: Decimal  # the contract price now (after supplementary agreements)
    invoiced: Decimal  # invoices net of credit notes
    paid: Decimal

    @property
    def outstanding(self) -> Decimal:
        """Invoiced and not paid: what the purchaser owes now."""
        return self.invoiced - self.paid

    @property
    def uninvoiced(self) -> Decimal:
        """Of the price, what the provider has not invoiced (net of credit notes)."""
        return self.amount - self.invoiced

    @property
    def paid_up(self) -> bool:
        return self.paid >= self.amount


@dataclass(frozen=True)
class ContractFacts:
    """What the flags need to know about a contract (read from the row by the caller)."""

    status: ContractStatus
    sign_by: datetime
    signed_at: datetime | None
    due_at: datetime | None
    delivered_at: datetime | None  # the latest submission
    accepted_at: datetime | None
    amount: Decimal
    invoiced: Decimal  # net of credit notes
    paid_total: Decimal
    paid_on: date | None  # the date of the payment that completed the price
    paid_recorded_at: datetime | None
    payment_days: int
    payment_due_at: datetime | None = None  # stored at acceptance; computed here when not


FLAG_SIGNING_OVERDUE = "signing_overdue"  # not signed by both within the signing period
FLAG_SIGNED_LATE = "signed_late"  # signed by both, after the signing period
FLAG_OVERDUE = "overdue"  # the service is past its due date and not accepted
FLAG_DELIVERED_LATE = "delivered_late"  # accepted, but the accepted delivery came after the due date
FLAG_PAYMENT_OVERDUE = "payment_overdue"  # accepted, an invoiced amount unpaid past the payment term
FLAG_PAID_LATE = "paid_late"  # paid in full after the payment term

FLAGS = (
    FLAG_SIGNING_OVERDUE,
    FLAG_SIGNED_LATE,
    FLAG_OVERDUE,
    FLAG_DELIVERED_LATE,
    FLAG_PAYMENT_OVERDUE,
    FLAG_PAID_LATE,
)


def contract_flags(facts: ContractFacts, now: datetime, accelerator: int = 1) -> list[str]:
    flags: list[str] = []
    if facts.status == ContractStatus.void:  # the award was voided: nothing of it is late any more
        return flags
    now = ensure_aware(now)
    sign_by = ensure_aware(facts.sign_by)
    if facts.signed_at is None:
        if now > sign_by:
            flags.append(FLAG_SIGNING_OVERDUE)
        return flags
    if ensure_aware(facts.signed_at) > sign_by:
        flags.append(FLAG_SIGNED_LATE)
    due = ensure_aware(facts.due_at) if facts.due_at else None
    if facts.accepted_at is None:
        waiting_on_owner = (
            facts.status == ContractStatus.delivered
            and facts.delivered_at is not None
            and due is not None
            and ensure_aware(facts.delivered_at) <= due
        )
        if due is not None and now > due and not waiting_on_owner:
            flags.append(FLAG_OVERDUE)
        return flags
    if due is not None and facts.delivered_at is not None and ensure_aware(facts.delivered_at) > due:
        flags.append(FLAG_DELIVERED_LATE)
    deadline = (
        ensure_aware(facts.payment_due_at)
        if facts.payment_due_at is not None
        else payment_deadline(facts.accepted_at, facts.payment_days, accelerator)
    )
    if facts.paid_total < facts.amount:
        # the purchaser owes what was invoiced (net of credit notes) and is unpaid: the outstanding amount
        if now > deadline and facts.invoiced > facts.paid_total:
            flags.append(FLAG_PAYMENT_OVERDUE)
    elif (
        facts.paid_on is not None
        and facts.paid_recorded_at is not None
        and not paid_by_deadline(facts.paid_on, facts.paid_recorded_at, deadline, accelerator)
    ):
        flags.append(FLAG_PAID_LATE)
    return flags


def days_to_payment(accepted_at: datetime, paid_on: date) -> int:
    """Calendar days from the acceptance date to the payment date (0 when paid on the day or before),
    the days the payment term counts."""
    accepted_day = ensure_aware(accepted_at).astimezone(LOCAL_TZ).date()
    return max(0, (paid_on - accepted_day).days)


# --- documents -------------------------------------------------------------------------------

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def is_sha256(value: str) -> bool:
    return bool(_SHA256_RE.match(value))
