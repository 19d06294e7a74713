"""What the contracts and invoices tell people (issue 11.2), in the transaction of the fact: a
contract to sign, a delivery submitted or returned or accepted, an invoice issued, a payment
recorded."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from invoices import rules
from invoices.models import Contract, ContractStatus, Invoice
from market import clock, notify
from market.settings import Settings
from market.terms import N_
from market.workdays import SECONDS_PER_DAY, add_period

PAYMENT_WARNING_DAYS = 5

KINDS = [
    notify.Kind(
        "contracts.to_sign",
        N_("Contract %(number)s waits for your signature"),
        N_("The contract %(number)s for %(ref)s “%(title)s” (¥%(amount)s) waits for your signature by %(sign_by)s."),
        "provider",
        label=N_("A contract waits for my firm's signature"),
    ),
    notify.Kind(
        "contracts.to_sign_owner",
        N_("Contract %(number)s waits for your signature"),
        N_("The contract %(number)s for %(ref)s “%(title)s” (¥%(amount)s) waits for your signature by %(sign_by)s."),
        "owner",
        label=N_("A contract waits for my signature"),
    ),
    notify.Kind(
        "contracts.delivery_submitted",
        N_("Delivery submitted on %(number)s"),
        N_("%(provider)s submitted the deliverables of contract %(number)s “%(title)s”. Accept or return them."),
        "owner",
        label=N_("Deliverables submitted for my review"),
    ),
    notify.Kind(
        "contracts.delivery_returned",
        N_("Delivery returned on %(number)s"),
        N_("The purchaser returned your delivery on contract %(number)s “%(title)s”: %(reason)s"),
        "provider",
        label=N_("My firm's delivery is returned"),
    ),
    notify.Kind(
        "contracts.delivery_accepted",
        N_("Delivery accepted on %(number)s"),
        N_("The purchaser accepted your delivery on contract %(number)s “%(title)s”. You may issue your invoice."),
        "provider",
        label=N_("My firm's delivery is accepted"),
    ),
    notify.Kind(
        "invoices.issued",
        N_("Invoice %(invoice)s issued"),
        N_("%(provider)s issued invoice %(invoice)s of ¥%(amount)s on contract %(number)s “%(title)s”."),
        "owner",
        label=N_("An invoice to pay"),
    ),
    notify.Kind(
        "invoices.payment_recorded",
        N_("Payment recorded on %(invoice)s"),
        N_("%(owner)s recorded a payment of ¥%(amount)s on invoice %(invoice)s (contract %(number)s)."),
        "provider",
        label=N_("A payment recorded to my firm"),
    ),
]
KINDS += [
    notify.Kind(
        "contracts.sign_tomorrow",
        N_("Sign contract %(number)s by %(sign_by)s"),
        N_("The signing deadline of contract %(number)s “%(title)s” is %(sign_by)s and you have not signed yet."),
        "provider owner",
        label=N_("A signing deadline one working day away"),
    ),
    notify.Kind(
        "invoices.payment_due_soon",
        N_("Payment due on contract %(number)s by %(due)s"),
        N_("The payment term of contract %(number)s “%(title)s” ends %(due)s; ¥%(outstanding)s is still to pay."),
        "owner",
        label=N_("A payment term ending within 5 days"),
    ),
    notify.Kind(
        "invoices.payment_overdue",
        N_("Payment overdue on contract %(number)s"),
        N_("The payment term of contract %(number)s “%(title)s” ended %(due)s; ¥%(outstanding)s is unpaid."),
        "owner",
        label=N_("A payment term passed"),
    ),
]
KINDS += [
    notify.Kind(
        "contracts.award_voided",
        N_("Award voided: contract %(number)s was not signed"),
        N_(
            "You did not sign contract %(number)s for %(ref)s “%(title)s” within the signing period; the purchaser "
            "voided the award: %(reason)s. The refusal to sign is on your credit record."
        ),
        "provider",
    ),
    notify.Kind(
        "contracts.award_voided_owner",
        N_("Award voided: contract %(number)s"),
        N_(
            "The award of %(ref)s “%(title)s” to %(provider)s was voided (contract %(number)s not signed in time): "
            "%(reason)s. The selection reruns among the remaining valid bids, or the purchase fails."
        ),
        "owner",
    ),
]
for _kind in KINDS:
    notify.register_kind(_kind)


def _link(contract: Contract) -> str:
    return f"/workspace/contracts/{contract.id}"


def _params(contract: Contract, **more: object) -> dict[str, object]:
    return {
        "number": contract.number,
        "ref": contract.purchase_ref,
        "title": contract.title,
        "provider": contract.provider_name,
        "owner": contract.owner_name,
        **more,
    }


async def contract_drafted(session: AsyncSession, contract: Contract) -> None:
    sign_by = _when(contract.sign_by)  # China time, as every date a person reads
    params = _params(contract, amount=contract.amount, sign_by=sign_by)
    await notify.send(
        session,
        kind="contracts.to_sign",
        params=params,
        link=_link(contract),
        to_org_id=contract.provider_id,
        to_org_roles=notify.APPROVERS,
    )
    await notify.send(
        session,
        kind="contracts.to_sign_owner",
        params=params,
        link=_link(contract),
        to_org_id=contract.owner_id,
        to_org_roles=notify.APPROVERS,
    )


async def award_voided(session: AsyncSession, contract: Contract) -> None:
    params = _params(contract, reason=contract.void_reason or "")
    link = f"/purchases/{contract.purchase_id}"
    await notify.send(session, kind="contracts.award_voided", params=params, link=link, to_org_id=contract.provider_id)
    await notify.send(
        session, kind="contracts.award_voided_owner", params=params, link=link, to_org_id=contract.owner_id
    )


async def delivery_submitted(session: AsyncSession, contract: Contract) -> None:
    await notify.send(
        session,
        kind="contracts.delivery_submitted",
        params=_params(contract),
        link=_link(contract),
        to_org_id=contract.owner_id,
    )


async def delivery_decided(session: AsyncSession, contract: Contract, reason: str | None) -> None:
    kind = "contracts.delivery_returned" if reason is not None else "contracts.delivery_accepted"
    await notify.send(
        session,
        kind=kind,
        params=_params(contract, reason=reason or ""),
        link=_link(contract),
        to_org_id=contract.provider_id,
    )


async def invoice_issued(session: AsyncSession, contract: Contract, invoice: Invoice) -> None:
    await notify.send(
        session,
        kind="invoices.issued",
        params=_params(contract, invoice=invoice.number, amount=invoice.amount),
        link=f"/workspace/invoices/{invoice.id}",
        to_org_id=contract.owner_id,
        to_org_roles=notify.APPROVERS,  # paying is an approver's act
    )


async def payment_recorded(session: AsyncSession, contract: Contract, invoice: Invoice, amount: object) -> None:
    await notify.send(
        session,
        kind="invoices.payment_recorded",
        params=_params(contract, invoice=invoice.number, amount=amount),
        link=f"/workspace/invoices/{invoice.id}",
        to_org_id=contract.provider_id,
    )


def _when(moment: datetime) -> str:
    return clock.to_local(moment).strftime("%Y-%m-%d %H:%M")


async def reminders_tick(factory: async_sessionmaker[AsyncSession], settings: Settings, now: datetime) -> int:
    """The worker job: a signing deadline one working day away (to each party that has not
    signed), a payment term ending within 5 days, and one passed (to the owner); each once."""
    sent = 0
    horizon = add_period(now, 1, settings.accelerator)
    warn = timedelta(seconds=PAYMENT_WARNING_DAYS * SECONDS_PER_DAY / settings.accelerator)
    async with factory() as session:
        unsigned = await session.scalars(
            select(Contract).where(
                col(Contract.status) == ContractStatus.draft,
                col(Contract.sign_by) > now,
                col(Contract.sign_by) <= horizon,
            )
        )
        for contract in unsigned:
            for side, org_id, signed_at in (
                ("owner", contract.owner_id, contract.owner_signed_at),
                ("provider", contract.provider_id, contract.provider_signed_at),
            ):
                if signed_at is None and await notify.once(session, f"contracts.sign:{contract.id}:{side}"):
                    await notify.send(
                        session,
                        kind="contracts.sign_tomorrow",
                        params=_params(contract, sign_by=_when(contract.sign_by)),
                        link=_link(contract),
                        to_org_id=org_id,
                        to_org_roles=notify.APPROVERS,
                    )
                    sent += 1
        unpaid = await session.scalars(
            select(Contract).where(
                col(Contract.accepted_at).is_not(None),
                col(Contract.paid_on).is_(None),
            )
        )
        for contract in unpaid:
            assert contract.accepted_at is not None
            due = rules.payment_deadline(contract.accepted_at, contract.payment_days, settings.accelerator)
            if due - now > warn:
                continue
            kind = "invoices.payment_overdue" if due < now else "invoices.payment_due_soon"
            if await notify.once(session, f"{kind}:{contract.id}"):
                await notify.send(
                    session,
                    kind=kind,
                    params=_params(contract, due=_when(due), outstanding=contract.amount_current - contract.paid_total),
                    link=_link(contract),
                    to_org_id=contract.owner_id,
                    to_org_roles=notify.APPROVERS,
                )
                sent += 1
        await session.commit()
    return sent
