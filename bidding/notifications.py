"""What the bidding package tells people (issue 11.2), sent in the transaction of the fact:
the result of a purchase to its bidders and owner, objections to the owner, the operator and the
firm that filed them, cancellation requests to the operator."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from bidding.models import Bid, BidStatus, ChangeNotice, Objection, Purchase, PurchaseAvoid, PurchaseStatus, Question
from listings.services import qualified_providers
from market import clock, notify
from market.identity.models import Organization, OrgKind, OrgRole
from market.settings import Settings
from market.terms import N_
from market.workdays import add_period

KINDS = [
    notify.Kind(
        "bidding.result_published",
        N_("Result of %(ref)s published"),
        N_(
            "The result of purchase %(ref)s “%(title)s” (round %(round)s) is published. A bidder who "
            "disagrees may object in writing until %(until)s; then the award is made."
        ),
        "provider",
        label=N_("A result is published on a purchase my firm bid on (objections possible)"),
    ),
    notify.Kind(
        "bidding.won",
        N_("You won %(ref)s"),
        N_("Your bid won purchase %(ref)s “%(title)s”. The contract will be sent to you to sign."),
        "provider",
        label=N_("My firm's bid won"),
    ),
    notify.Kind(
        "bidding.not_won",
        N_("Result of %(ref)s: not selected"),
        N_("Purchase %(ref)s “%(title)s” has been awarded to another firm. Thank you for your bid."),
        "provider",
        label=N_("My firm's bid was not selected"),
    ),
    notify.Kind(
        "bidding.failed",
        N_("%(ref)s failed"),
        N_("Purchase %(ref)s “%(title)s” failed: there were not enough valid bids."),
        "provider",
        label=N_("A purchase my firm bid on failed"),
    ),
    notify.Kind(
        "bidding.cancelled",
        N_("%(ref)s cancelled"),
        N_("Purchase %(ref)s “%(title)s” has been cancelled. Reason: %(reason)s"),
        "provider",
        label=N_("A purchase my firm bid on was cancelled"),
    ),
    notify.Kind(
        "bidding.awarded_owner",
        N_("%(ref)s awarded"),
        N_("The publicity of %(ref)s “%(title)s” has ended and the award is made; the contract is drafted."),
        "owner",
        label=N_("My purchase is awarded after publicity"),
    ),
    notify.Kind(
        "bidding.failed_owner",
        N_("%(ref)s failed"),
        N_("Your purchase %(ref)s “%(title)s” failed: there were not enough valid bids. You may publish it again."),
        "owner",
        label=N_("My purchase failed"),
    ),
    notify.Kind(
        "bidding.objection_filed",
        N_("Objection filed on %(ref)s"),
        N_("A firm has filed an objection to the result of %(ref)s “%(title)s”. It waits for the operator's decision."),
        "owner",
        label=N_("An objection to my purchase's result"),
    ),
    notify.Kind(
        "bidding.objection_to_review",
        N_("Objection to decide on %(ref)s"),
        N_("A firm has filed an objection to the result of %(ref)s “%(title)s”. Decide it in writing."),
        "admin",
        label=N_("An objection to decide"),
    ),
    notify.Kind(
        "bidding.objection_decided",
        N_("Your objection on %(ref)s was decided"),
        N_("Your objection to the result of %(ref)s “%(title)s” was %(outcome)s: %(decision)s"),
        "provider",
        translated=("outcome",),
        label=N_("My firm's objection is decided"),
    ),
    notify.Kind(
        "bidding.cancellation_requested",
        N_("Cancellation request for %(ref)s"),
        N_("The owner asks to cancel %(ref)s “%(title)s” after the bids were opened. Reason: %(reason)s"),
        "admin",
        label=N_("A request to cancel after opening"),
    ),
]
KINDS += [
    notify.Kind(
        "bidding.new_purchase",
        N_("New purchase %(ref)s: %(item)s"),
        N_(
            "%(owner)s published %(ref)s “%(title)s” for %(item)s, which you are qualified for. Deadline: %(deadline)s."
        ),
        "provider",
        subscription=True,
        label=N_("A new purchase my firm is qualified for"),
    ),
    notify.Kind(
        "bidding.clarification_answered",
        N_("Your question on %(ref)s was answered"),
        N_("The owner answered your clarification question on %(ref)s “%(title)s”: %(answer)s"),
        "provider",
        label=N_("My firm's question is answered"),
    ),
    notify.Kind(
        "bidding.deadline_tomorrow",
        N_("Bids for %(ref)s close %(deadline)s"),
        N_("The bidding deadline of %(ref)s “%(title)s” is %(deadline)s (one working day left)."),
        "provider",
        label=N_("A bidding deadline one working day away"),
    ),
    notify.Kind(
        "bidding.bids_ready",
        N_("Bids of %(ref)s ready for selection"),
        N_("The deadline of %(ref)s “%(title)s” has passed; %(valid)s valid bids wait for your selection."),
        "owner",
        label=N_("Bids ready for my selection"),
    ),
]
KINDS += [
    notify.Kind(
        "bidding.change_notice",
        N_("Change notice on %(ref)s"),
        N_("The owner changed %(ref)s “%(title)s”: %(reason)s Deadline: %(deadline)s."),
        "provider",
        label=N_("A change notice on a purchase my firm bid on or asked about"),
    ),
    notify.Kind(
        "bidding.change_notice_confirm",
        N_("Confirm or replace your bid on %(ref)s"),
        N_(
            "The owner changed the terms of %(ref)s “%(title)s”: %(reason)s Confirm or replace your bid by "
            "%(deadline)s, or it will not be opened."
        ),
        "provider",
        label=N_("A change notice asking to confirm or replace my firm's bid"),
    ),
]
for _kind in KINDS:
    notify.register_kind(_kind)


def _params(p: Purchase, **more: object) -> dict[str, object]:
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


async def result_published(session: AsyncSession, p: Purchase, round_no: int) -> None:
    """A result (a round's) enters its publicity: every bidder hears of it while it may still
    object, not only once the award is made."""
    assert p.publicity_ends_at is not None
    params = _params(p, round=str(round_no), until=_when(p.publicity_ends_at))
    for firm in await bidders(session, p.id):
        await notify.send(
            session, kind="bidding.result_published", params=params, link=f"/purchases/{p.id}#result", to_org_id=firm
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


def _when(moment: datetime) -> str:
    return clock.to_local(moment).strftime("%Y-%m-%d %H:%M")


async def published(session: AsyncSession, p: Purchase, item_name: str) -> None:
    """The new-purchase subscription: every firm qualified for the item (but those the purchase
    avoids) hears of it, unless it turned the subscription off."""
    avoid = set(
        await session.scalars(select(col(PurchaseAvoid.provider_id)).where(col(PurchaseAvoid.purchase_id) == p.id))
    )
    firms = [f for f in await qualified_providers(session, p.catalog_code, clock.today_local()) if f not in avoid]
    owner = await session.get(Organization, p.owner_id)
    params = _params(p, item=item_name, owner=owner.name if owner else "", deadline=_when(p.bid_deadline))
    for firm in firms:
        await notify.send(
            session, kind="bidding.new_purchase", params=params, link=f"/purchases/{p.id}", to_org_id=firm
        )


async def answered(session: AsyncSession, p: Purchase, q: Question) -> None:
    await notify.send(
        session,
        kind="bidding.clarification_answered",
        params=_params(p, answer=q.answer or ""),
        link=f"/purchases/{p.id}",
        to_org_id=q.asker_org_id,
    )


async def bids_ready(session: AsyncSession, p: Purchase, valid: int) -> None:
    await notify.send(
        session,
        kind="bidding.bids_ready",
        params=_params(p, valid=valid),
        link=f"/workspace/purchases/{p.id}",
        to_org_id=p.owner_id,
        to_org_roles=notify.APPROVERS,  # the selection is an approver's act
    )


async def reminders_tick(factory: async_sessionmaker[AsyncSession], settings: Settings, now: datetime) -> int:
    """The worker job: one working day before an open purchase's deadline, remind the firms that
    bid on it or asked about it (once each: a mark)."""
    horizon = add_period(now, 1, settings.accelerator)
    sent = 0
    async with factory() as session:
        due = list(
            await session.scalars(
                select(Purchase).where(
                    col(Purchase.status) == PurchaseStatus.open,
                    col(Purchase.bid_deadline) > now,
                    col(Purchase.bid_deadline) <= horizon,
                )
            )
        )
        if not due:
            return 0
        ids = [p.id for p in due]
        interested = union(
            select(col(Bid.purchase_id), col(Bid.provider_id)).where(
                col(Bid.purchase_id).in_(ids), col(Bid.status) == BidStatus.active
            ),
            select(col(Question.purchase_id), col(Question.asker_org_id)).where(col(Question.purchase_id).in_(ids)),
        )
        firms: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
        for purchase_id, firm in (await session.execute(interested)).all():
            firms[purchase_id].add(firm)
        for p in due:
            for firm in sorted(firms[p.id]):
                if await notify.once(session, f"bidding.deadline:{p.id}:{p.bid_deadline.isoformat()}:{firm}"):
                    await notify.send(
                        session,
                        kind="bidding.deadline_tomorrow",
                        params=_params(p, deadline=_when(p.bid_deadline)),
                        link=f"/purchases/{p.id}",
                        to_org_id=firm,
                    )
                    sent += 1
        await session.commit()
    return sent


async def change_notice(session: AsyncSession, p: Purchase, notice: ChangeNotice) -> None:
    """A change notice (issue 11.7): the bidders (asked to confirm or replace their bids when the
    change is material) and the firms that asked a clarification question hear of it."""
    params = _params(p, reason=notice.reason, deadline=_when(p.bid_deadline))
    link = f"/purchases/{p.id}"
    firms = set(await bidders(session, p.id))
    askers = set(await session.scalars(select(col(Question.asker_org_id)).where(col(Question.purchase_id) == p.id)))
    for firm in sorted(firms | askers):
        if notice.material and firm in firms:
            # confirming the bid is an approver's act; the firm's clerks are told of the change
            await notify.send(
                session,
                kind="bidding.change_notice_confirm",
                params=params,
                link=link,
                to_org_id=firm,
                to_org_roles=notify.APPROVERS,
            )
            await notify.send(
                session,
                kind="bidding.change_notice",
                params=params,
                link=link,
                to_org_id=firm,
                to_org_roles=(OrgRole.clerk,),
            )
        else:
            await notify.send(session, kind="bidding.change_notice", params=params, link=link, to_org_id=firm)
