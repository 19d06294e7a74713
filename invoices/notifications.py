"""What the contracts and invoices tell people (issue 11.2), in the transaction of the fact: a
contract to sign, a delivery submitted or returned or accepted, an invoice issued, a payment
recorded."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from invoices.models import Contract, Invoice
from market import notify
from market.terms import N_

KINDS = [
    notify.Kind(
        "contracts.to_sign",
        N_("Contract %(number)s waits for your signature"),
        N_("The contract %(number)s for %(ref)s “%(title)s” (¥%(amount)s) waits for your signature by %(sign_by)s."),
        "provider",
    ),
    notify.Kind(
        "contracts.to_sign_owner",
        N_("Contract %(number)s waits for your signature"),
        N_("The contract %(number)s for %(ref)s “%(title)s” (¥%(amount)s) waits for your signature by %(sign_by)s."),
        "owner",
    ),
    notify.Kind(
        "contracts.delivery_submitted",
        N_("Delivery submitted on %(number)s"),
        N_("%(provider)s submitted the deliverables of contract %(number)s “%(title)s”. Accept or return them."),
        "owner",
    ),
    notify.Kind(
        "contracts.delivery_returned",
        N_("Delivery returned on %(number)s"),
        N_("The purchaser returned your delivery on contract %(number)s “%(title)s”: %(reason)s"),
        "provider",
    ),
    notify.Kind(
        "contracts.delivery_accepted",
        N_("Delivery accepted on %(number)s"),
        N_("The purchaser accepted your delivery on contract %(number)s “%(title)s”. You may issue your invoice."),
        "provider",
    ),
    notify.Kind(
        "invoices.issued",
        N_("Invoice %(invoice)s issued"),
        N_("%(provider)s issued invoice %(invoice)s of ¥%(amount)s on contract %(number)s “%(title)s”."),
        "owner",
    ),
    notify.Kind(
        "invoices.payment_recorded",
        N_("Payment recorded on %(invoice)s"),
        N_("%(owner)s recorded a payment of ¥%(amount)s on invoice %(invoice)s (contract %(number)s)."),
        "provider",
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
    sign_by = contract.sign_by.isoformat(timespec="minutes")
    params = _params(contract, amount=contract.amount, sign_by=sign_by)
    await notify.send(
        session, kind="contracts.to_sign", params=params, link=_link(contract), to_org_id=contract.provider_id
    )
    await notify.send(
        session, kind="contracts.to_sign_owner", params=params, link=_link(contract), to_org_id=contract.owner_id
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
    )


async def payment_recorded(session: AsyncSession, contract: Contract, invoice: Invoice, amount: object) -> None:
    await notify.send(
        session,
        kind="invoices.payment_recorded",
        params=_params(contract, invoice=invoice.number, amount=amount),
        link=f"/workspace/invoices/{invoice.id}",
        to_org_id=contract.provider_id,
    )
