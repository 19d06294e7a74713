"""Invoices, credit notes and payments (SPEC §5 "Invoices").

* The provider issues invoices against a signed contract; the total invoiced net of credit notes
  never exceeds the contract amount (checked under the contract's row lock, and by a CHECK on the
  contract's running total).
* Numbers are consecutive per issuer and year, one series for invoices (FP-) and another for
  credit notes (HZ-), each taken from its own counter row locked FOR UPDATE (:mod:`market.numbering`).
* Issued invoices never change (a database trigger refuses UPDATE and DELETE); a correction is
  a credit note that refers to the invoice.
* The owner records payments against an invoice; paying more than is outstanding is refused.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from invoices import bounds, documents, notifications, rules
from invoices.contracts import OVERSIGHT_ROLES, get_contract, require_side
from invoices.models import Contract, DocumentKind, Invoice, InvoiceKind, Payment
from market import audit, clock, numbering
from market.actor import Actor, require_approver
from market.errors import FieldError, InvalidInput, NotFound, RuleViolation
from market.i18n import format_money
from market.i18n import gettext as _
from market.settings import Settings

ZERO = Decimal("0.00")
# a paper fapiao number has 8 digits; a fully digital one (全电发票) has 20
TAX_INVOICE_NO = re.compile(r"^(\d{8}|\d{20})$")


def _refuse_amount(title: str, message: str) -> RuleViolation:
    return RuleViolation(title, message, errors=[FieldError("amount", message)])


@dataclass(frozen=True)
class InvoiceBalance:
    """An invoice's amount, what credit notes took off, what was paid, and what is outstanding."""

    amount: Decimal
    credited: Decimal
    paid: Decimal

    @property
    def net(self) -> Decimal:
        return self.amount - self.credited

    @property
    def outstanding(self) -> Decimal:
        return self.net - self.paid

    @property
    def state(self) -> str:
        if self.net <= 0:
            return "credited"
        if self.paid <= 0:
            return "open"
        return "paid" if self.outstanding <= 0 else "partly_paid"


async def balances(session: AsyncSession, invoices: list[Invoice]) -> dict[uuid.UUID, InvoiceBalance]:
    ids = [i.id for i in invoices if i.kind == InvoiceKind.invoice]
    credited: dict[uuid.UUID, Decimal] = {}
    paid: dict[uuid.UUID, Decimal] = {}
    if ids:
        for credited_id, total in await session.execute(
            select(col(Invoice.credits_invoice_id), func.sum(col(Invoice.amount)))
            .where(col(Invoice.credits_invoice_id).in_(ids))
            .group_by(col(Invoice.credits_invoice_id))
        ):
            if credited_id is not None:
                credited[credited_id] = total
        for inv_id, total in await session.execute(
            select(col(Payment.invoice_id), func.sum(col(Payment.amount)))
            .where(col(Payment.invoice_id).in_(ids))
            .group_by(col(Payment.invoice_id))
        ):
            paid[inv_id] = total
    return {
        i: InvoiceBalance(amount=inv.amount, credited=credited.get(i, ZERO), paid=paid.get(i, ZERO))
        for inv in invoices
        if (i := inv.id) in ids
    }


async def balance_of(session: AsyncSession, invoice: Invoice) -> InvoiceBalance:
    return (await balances(session, [invoice]))[invoice.id]


async def get_invoice(session: AsyncSession, actor: Actor, invoice_id: uuid.UUID) -> tuple[Invoice, Contract]:
    """The invoice if the actor may read its contract; NotFound otherwise."""
    invoice = await session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(_("No such invoice."))
    try:
        contract = await get_contract(session, actor, invoice.contract_id)
    except NotFound:
        raise NotFound(_("No such invoice.")) from None
    return invoice, contract


async def list_invoices(
    session: AsyncSession,
    actor: Actor,
    *,
    contract_id: uuid.UUID | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Invoice], int]:
    """A provider's issued invoices, an owner's received ones; the operator and finance see all."""
    query = select(Invoice)
    if actor.role == "provider" and actor.org_id is not None:
        query = query.where(col(Invoice.issuer_id) == actor.org_id)
    elif actor.role == "owner" and actor.org_id is not None:
        query = query.where(col(Invoice.recipient_id) == actor.org_id)
    elif actor.role not in OVERSIGHT_ROLES:
        query = query.where(col(Invoice.id).is_(None))
    if contract_id is not None:
        query = query.where(col(Invoice.contract_id) == contract_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(col(Invoice.issued_at).desc(), col(Invoice.seq).desc()).limit(limit).offset(offset)
    )
    return list(rows), int(total or 0)


async def invoices_of(session: AsyncSession, contract_id: uuid.UUID) -> list[Invoice]:
    rows = await session.scalars(
        select(Invoice).where(col(Invoice.contract_id) == contract_id).order_by(col(Invoice.seq))
    )
    return list(rows)


async def payments_of(session: AsyncSession, invoice_ids: list[uuid.UUID]) -> list[Payment]:
    if not invoice_ids:
        return []
    rows = await session.scalars(
        select(Payment)
        .where(col(Payment.invoice_id).in_(invoice_ids))
        .order_by(col(Payment.paid_on), col(Payment.recorded_at))
    )
    return list(rows)


def _tax_no(value: str | None) -> str | None:
    value = bounds.text("tax_invoice_no", value, most=bounds.TAX_INVOICE_NO)
    if not value:
        return None
    if not TAX_INVOICE_NO.match(value):
        raise InvalidInput.field("tax_invoice_no", _("A tax invoice (fapiao) number has 8 or 20 digits."))
    return value


async def _numbered(session: AsyncSession, kind: InvoiceKind, issuer_id: uuid.UUID) -> tuple[int, int, str]:
    year = rules.local_year(clock.now())
    seq = await numbering.next_number(session, rules.INVOICE_SERIES[kind], year, scope=str(issuer_id))
    return year, seq, numbering.reference(rules.INVOICE_PREFIXES[kind], year, seq)


async def issue_invoice(
    session: AsyncSession,
    actor: Actor,
    contract_id: uuid.UUID,
    *,
    amount: Decimal,
    tax_invoice_no: str | None = None,
) -> Invoice:
    contract = await get_contract(session, actor, contract_id, lock=True)
    user_id = require_side(contract, actor, "provider")
    if contract.signed_at is None:
        raise RuleViolation(_("Invoices are issued against a contract signed by both parties."))
    amount = bounds.amount("amount", amount)
    tax_no = _tax_no(tax_invoice_no)
    remaining = contract.amount_current - contract.invoiced_total
    if remaining <= 0:
        raise _refuse_amount(
            _("The contract amount has been invoiced in full."),
            _("Nothing is left to invoice on this contract."),
        )
    if amount > remaining:
        raise _refuse_amount(
            _("The invoice would exceed the contract amount."),
            _("Only %(remaining)s of the contract amount is left to invoice.", remaining=format_money(remaining)),
        )
    year, seq, number = await _numbered(session, InvoiceKind.invoice, contract.provider_id)
    invoice = Invoice(
        kind=InvoiceKind.invoice,
        contract_id=contract.id,
        issuer_id=contract.provider_id,
        recipient_id=contract.owner_id,
        year=year,
        seq=seq,
        number=number,
        amount=amount,
        tax_invoice_no=tax_no,
        issued_at=clock.now(),
        issued_by=user_id,
        issued_ip=actor.ip,
    )
    session.add(invoice)
    contract.invoiced_total = contract.invoiced_total + amount
    await session.flush()
    documents.enqueue(session, DocumentKind.invoice, invoice.id)
    audit.record(
        session,
        actor,
        "invoice.issued",
        "invoice",
        invoice.id,
        {"number": number, "contract_id": contract.id, "amount": amount, "tax_invoice_no": tax_no},
    )
    await notifications.invoice_issued(session, contract, invoice)
    return invoice


async def issue_credit_note(
    session: AsyncSession,
    actor: Actor,
    invoice_id: uuid.UUID,
    *,
    reason: str,
    amount: Decimal | None = None,
) -> Invoice:
    """A credit note (红字发票) against an invoice: by default for everything not yet paid on it."""
    original, _contract = await get_invoice(session, actor, invoice_id)
    contract = await get_contract(session, actor, original.contract_id, lock=True)
    user_id = require_side(contract, actor, "provider")
    if original.kind != InvoiceKind.invoice:
        raise RuleViolation(_("A credit note corrects an invoice, not another credit note."))
    least, most = bounds.CREDIT_REASON
    reason = bounds.text("reason", reason, least=least, most=most, too_short=_("Give the reason for the correction."))
    if amount is not None:
        amount = bounds.amount("amount", amount)
    balance = await balance_of(session, original)
    creditable = balance.net - balance.paid
    if creditable <= 0:
        raise _refuse_amount(
            _("Nothing on this invoice can be credited."),
            _("The invoice is paid or credited in full."),
        )
    amount = creditable if amount is None else amount
    if amount > creditable:
        raise _refuse_amount(
            _("The credit note would exceed what can be credited."),
            _("At most %(amount)s of this invoice can be credited (its unpaid part).", amount=format_money(creditable)),
        )
    year, seq, number = await _numbered(session, InvoiceKind.credit_note, contract.provider_id)
    note = Invoice(
        kind=InvoiceKind.credit_note,
        contract_id=contract.id,
        issuer_id=contract.provider_id,
        recipient_id=contract.owner_id,
        year=year,
        seq=seq,
        number=number,
        amount=amount,
        credits_invoice_id=original.id,
        reason=reason,
        issued_at=clock.now(),
        issued_by=user_id,
        issued_ip=actor.ip,
    )
    session.add(note)
    contract.invoiced_total = contract.invoiced_total - amount
    await session.flush()
    documents.enqueue(session, DocumentKind.credit_note, note.id)
    audit.record(
        session,
        actor,
        "invoice.credit_note_issued",
        "invoice",
        note.id,
        {"number": number, "credits": original.number, "contract_id": contract.id, "amount": amount, "reason": reason},
    )
    return note


async def record_payment(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    invoice_id: uuid.UUID,
    *,
    amount: Decimal,
    paid_on: date,
    reference: str,
) -> Payment:
    require_approver(actor)
    original, _contract = await get_invoice(session, actor, invoice_id)
    contract = await get_contract(session, actor, original.contract_id, lock=True)
    user_id = require_side(contract, actor, "owner")
    if original.kind != InvoiceKind.invoice:
        raise RuleViolation(_("A credit note is not paid; pay the invoice it corrects."))
    amount = bounds.amount("amount", amount)
    least, most = bounds.PAYMENT_REFERENCE
    reference = bounds.text(
        "reference", reference, least=least, most=most, too_short=_("Give the bank transfer's reference.")
    )
    today = clock.today_local()
    if paid_on > today:
        raise InvalidInput.field("paid_on", _("The payment date cannot be in the future."))
    drafted_on = clock.to_local(contract.drafted_at).date()
    if paid_on < drafted_on:
        raise InvalidInput.field("paid_on", _("The payment date cannot be before the contract."))
    balance = await balance_of(session, original)
    if amount > balance.outstanding:
        raise _refuse_amount(
            _("Overpayment refused."),
            _("Only %(amount)s is outstanding on this invoice.", amount=format_money(max(balance.outstanding, ZERO))),
        )
    now = clock.now()
    payment = Payment(
        invoice_id=original.id,
        contract_id=contract.id,
        amount=amount,
        paid_on=paid_on,
        reference=reference,
        recorded_at=now,
        recorded_by=user_id,
        recorded_ip=actor.ip,
    )
    session.add(payment)
    contract.paid_total = contract.paid_total + amount
    data: dict[str, object] = {
        "invoice": original.number,
        "contract_id": contract.id,
        "amount": amount,
        "paid_on": paid_on,
        "reference": reference,
    }
    if contract.paid_total >= contract.amount_current and contract.paid_on is None:
        last_date = await session.scalar(
            select(func.max(col(Payment.paid_on))).where(col(Payment.contract_id) == contract.id)
        )
        contract.paid_on = max(d for d in (last_date, paid_on) if d is not None)
        contract.paid_recorded_at = now
        data["paid_in_full"] = True
        if contract.accepted_at is not None:
            deadline = contract.payment_due_at or rules.payment_deadline(
                contract.accepted_at, contract.payment_days, settings.accelerator
            )
            data["days_from_acceptance"] = rules.days_to_payment(contract.accepted_at, contract.paid_on)
            data["late"] = not rules.paid_by_deadline(contract.paid_on, now, deadline, settings.accelerator)
    await session.flush()
    audit.record(session, actor, "payment.recorded", "invoice", original.id, data)
    await notifications.payment_recorded(session, contract, original, amount)
    return payment
