"""Bid drafts (SPEC: "firms likewise — clerk prepares, approver bids and signs").

A firm's clerk (经办) prepares the bid — price, service days, note — as a draft; an approver
(负责人) reviews it and submits it, which makes the ordinary sealed bid with its digest and receipt
(:func:`bidding.bids.submit`, which closes the draft as ``submitted`` with the bid it became).

Sealing holds for drafts as for bids: a draft exists for its own organisation only — to anyone
else (the owner, the operator, the finance bureau, another firm) it is the same 404 as an unknown
purchase or bid; it is never counted and never opened. For the same reason nothing about a draft
enters the audit trail before the opening (the operator and the finance bureau read the trail, and
a "draft saved" event would tell them which firms are preparing bids): the opening writes every
draft of the purchase — who prepared it, when, and the bid it became or that it was discarded —
into the trail with the bids (:func:`bidding.timeline` at the opening). The draft rows themselves are kept: a
submitted or discarded draft never changes and is never deleted (database trigger).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bidding import bids, purchases
from bidding.models import Bid, BidDraft, BidDraftStatus, Purchase, PurchaseStatus
from market import clock
from market.actor import Actor, require_approver
from market.errors import NotFound, PermissionDenied, RuleViolation
from market.i18n import format_datetime
from market.i18n import gettext as _
from market.settings import Settings


def not_found() -> NotFound:
    return NotFound(_("No such bid draft."))


def _firm(actor: Actor) -> uuid.UUID:
    if actor.role != "provider" or actor.org_id is None:
        raise PermissionDenied(_("Only intermediary firms bid."))
    return actor.org_id


async def current(session: AsyncSession, actor: Actor, purchase_id: uuid.UUID) -> BidDraft | None:
    """The actor's firm's open draft for the purchase (None for anyone else)."""
    if actor.role != "provider" or actor.org_id is None:
        return None
    return await session.scalar(
        select(BidDraft).where(
            col(BidDraft.purchase_id) == purchase_id,
            col(BidDraft.provider_id) == actor.org_id,
            col(BidDraft.status) == BidDraftStatus.draft,
        )
    )


async def _open_purchase(session: AsyncSession, actor: Actor, settings: Settings, purchase_id: uuid.UUID) -> Purchase:
    p = await purchases.get_purchase(session, settings, actor, purchase_id)
    if p.status != PurchaseStatus.open or clock.now() >= p.bid_deadline:
        raise RuleViolation(
            _("Bids are accepted only until the deadline (%(deadline)s).", deadline=format_datetime(p.bid_deadline)),
            _("This purchase no longer accepts bids."),
        )
    return p


async def save(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    purchase_id: uuid.UUID,
    *,
    price: Decimal,
    service_days: int,
    note: str = "",
) -> BidDraft:
    """Create or update the firm's draft (any user of the firm: a clerk prepares, an approver may
    correct it before submitting) while the purchase accepts bids."""
    org_id = _firm(actor)
    p = await _open_purchase(session, actor, settings, purchase_id)
    if p.owner_id == org_id:
        raise PermissionDenied(_("An organisation cannot bid on its own purchase."))
    note = bids.check_terms(p, price, service_days, note)
    draft = await session.scalar(
        select(BidDraft)
        .where(
            col(BidDraft.purchase_id) == p.id,
            col(BidDraft.provider_id) == org_id,
            col(BidDraft.status) == BidDraftStatus.draft,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    now = clock.now()
    if draft is None:
        draft = BidDraft(
            purchase_id=p.id,
            provider_id=org_id,
            prepared_by=actor.user_id,
            price=price,
            service_days=service_days,
            note=note,
            created_at=now,
            updated_at=now,
        )
        session.add(draft)
    else:
        draft.price, draft.service_days, draft.note = price, service_days, note
        draft.prepared_by = actor.user_id
        draft.updated_at = now
    await session.flush()
    return draft


async def submit(session: AsyncSession, actor: Actor, settings: Settings, purchase_id: uuid.UUID) -> Bid:
    """An approver submits the firm's draft as it stands: the sealed bid, with digest and receipt."""
    require_approver(actor)
    draft = await current(session, actor, purchase_id)
    if draft is None:
        raise not_found()
    return await bids.submit(
        session, actor, settings, purchase_id, price=draft.price, service_days=draft.service_days, note=draft.note
    )


async def discard(session: AsyncSession, actor: Actor, purchase_id: uuid.UUID) -> BidDraft:
    """Any user of the firm drops its open draft (kept, as ``discarded``, for the record)."""
    _firm(actor)
    draft = await current(session, actor, purchase_id)
    if draft is None:
        raise not_found()
    draft.status = BidDraftStatus.discarded
    draft.updated_at = clock.now()
    return draft
