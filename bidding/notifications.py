"""What the bidding package tells people (issue 11.2), sent in the transaction of the fact:
the result of a purchase to its bidders and owner, objections to the owner, the operator and the
firm that filed them, cancellation requests to the operator."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bidding.models import Bid, BidStatus, Objection, Purchase, PurchaseStatus
from market import notify
from market.identity.models import OrgKind
from market.terms import N_

KINDS = [
    notify.Kind(
        "bidding.won",
        N_("You won %(ref)s"),
        N_("Your bid won purchase %(ref)s “%(title)s”. The contract will be sent to you to sign."),
        "provider",
    ),
    notify.Kind(
        "bidding.not_won",
        N_("Result of %(ref)s: not selected"),
        N_("Purchase %(ref)s “%(title)s” has been awarded to another firm. Thank you for your bid."),
        "provider",
    ),
    notify.Kind(
        "bidding.failed",
        N_("%(ref)s failed (流标)"),
        N_("Purchase %(ref)s “%(title)s” failed: there were not enough valid bids."),
        "provider",
    ),
    notify.Kind(
        "bidding.cancelled",
        N_("%(ref)s cancelled"),
        N_("Purchase %(ref)s “%(title)s” has been cancelled. Reason: %(reason)s"),
        "provider",
    ),
    notify.Kind(
        "bidding.awarded_owner",
        N_("%(ref)s awarded"),
        N_("The publicity of %(ref)s “%(title)s” has ended and the award is made; the contract is drafted."),
        "owner",
    ),
    notify.Kind(
        "bidding.failed_owner",
        N_("%(ref)s failed (流标)"),
        N_("Your purchase %(ref)s “%(title)s” failed: there were not enough valid bids. You may publish it again."),
        "owner",
    ),
    notify.Kind(
        "bidding.objection_filed",
        N_("Objection filed on %(ref)s"),
        N_("A firm has filed an objection to the result of %(ref)s “%(title)s”. It waits for the operator's decision."),
        "owner",
    ),
    notify.Kind(
        "bidding.objection_to_review",
        N_("Objection to decide on %(ref)s"),
        N_("A firm has filed an objection to the result of %(ref)s “%(title)s”. Decide it in writing."),
        "admin",
    ),
    notify.Kind(
        "bidding.objection_decided",
        N_("Your objection on %(ref)s was decided"),
        N_("Your objection to the result of %(ref)s “%(title)s” was %(outcome)s: %(decision)s"),
        "provider",
    ),
    notify.Kind(
        "bidding.cancellation_requested",
        N_("Cancellation request for %(ref)s"),
        N_("The owner asks to cancel %(ref)s “%(title)s” after the bids were opened. Reason: %(reason)s"),
        "admin",
    ),
]
for _kind in KINDS:
    notify.register_kind(_kind)


def _params(p: Purchase, **more: str) -> dict[str, str]:
    return {"ref": p.ref or "", "title": p.title, **more}


async def bidders(session: AsyncSession, purchase_id: uuid.UUID) -> list[uuid.UUID]:
    """The firms with an active bid on the purchase."""
    return list(
        await session.scalars(
            select(col(Bid.provider_id))
            .where(col(Bid.purchase_id) == purchase_id, col(Bid.status) == BidStatus.active)
            .distinct()
        )
    )


async def result(session: AsyncSession, p: Purchase, winner_id: uuid.UUID | None = None) -> None:
    """The purchase has reached a result (awarded, failed or cancelled): tell its bidders and owner."""
    public = f"/purchases/{p.id}"
    own = f"/workspace/purchases/{p.id}"
    firms = await bidders(session, p.id)
    if p.status == PurchaseStatus.awarded:
        for firm in firms:
            kind = "bidding.won" if firm == winner_id else "bidding.not_won"
            await notify.send(session, kind=kind, params=_params(p), link=public, to_org_id=firm)
        await notify.send(session, kind="bidding.awarded_owner", params=_params(p), link=own, to_org_id=p.owner_id)
    elif p.status == PurchaseStatus.failed:
        for firm in firms:
            await notify.send(session, kind="bidding.failed", params=_params(p), link=public, to_org_id=firm)
        await notify.send(session, kind="bidding.failed_owner", params=_params(p), link=own, to_org_id=p.owner_id)
    elif p.status == PurchaseStatus.cancelled:
        for firm in firms:
            await notify.send(
                session,
                kind="bidding.cancelled",
                params=_params(p, reason=p.cancel_reason or ""),
                link=public,
                to_org_id=firm,
            )


async def objection_filed(session: AsyncSession, p: Purchase) -> None:
    await notify.send(
        session,
        kind="bidding.objection_filed",
        params=_params(p),
        link=f"/workspace/purchases/{p.id}",
        to_org_id=p.owner_id,
    )
    await notify.send(
        session,
        kind="bidding.objection_to_review",
        params=_params(p),
        link="/admin/objections",
        to_org_kind=OrgKind.operator,
    )


async def objection_decided(session: AsyncSession, p: Purchase, objection: Objection, outcome: str) -> None:
    await notify.send(
        session,
        kind="bidding.objection_decided",
        params=_params(p, outcome=outcome, decision=objection.decision or ""),
        link=f"/purchases/{p.id}",
        to_org_id=objection.provider_id,
    )


async def cancellation_requested(session: AsyncSession, p: Purchase, reason: str) -> None:
    await notify.send(
        session,
        kind="bidding.cancellation_requested",
        params=_params(p, reason=reason),
        link="/admin/cancellations",
        to_org_kind=OrgKind.operator,
    )
