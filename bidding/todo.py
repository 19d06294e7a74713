"""The bidding to-do lists (issue 11.4): one query each, oldest first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bidding.models import (
    BidDraft,
    BidDraftStatus,
    CancellationRequest,
    CancellationStatus,
    Objection,
    ObjectionStatus,
    Purchase,
    PurchaseStatus,
)
from market import clock, todo
from market.actor import Actor
from market.settings import Settings
from market.terms import N_


def _label(p: Purchase) -> str:
    return f"{p.ref} · {p.title}"


async def bids_to_select(session: AsyncSession, actor: Actor, settings: Settings) -> todo.TodoList:
    """The owner's purchases whose bids are opened and wait for the selection (not while firms
    still explain abnormally low prices)."""
    rows, total = await todo.oldest(
        session,
        select(Purchase)
        .where(
            col(Purchase.owner_id) == todo.org_of(actor),
            col(Purchase.status) == PurchaseStatus.evaluating,
            col(Purchase.explanation_due_at).is_(None),
        )
        .order_by(col(Purchase.bid_deadline), col(Purchase.ref)),
    )
    items = [todo.Item(_label(p), f"/workspace/purchases/{p.id}", p.bid_deadline) for p in rows]
    return todo.TodoList("bids_to_select", N_("Bids to select"), "/workspace/purchases", items, total)


async def bid_drafts_to_submit(session: AsyncSession, actor: Actor, settings: Settings) -> todo.TodoList:
    """The firm's bid drafts (a clerk prepared them) on purchases still open: an approver reviews
    and submits each before its deadline. The firm's own list: drafts are seen by nobody else."""
    rows, total = await todo.oldest(
        session,
        select(BidDraft, Purchase)
        .join(Purchase, col(Purchase.id) == col(BidDraft.purchase_id))
        .where(
            col(BidDraft.provider_id) == todo.org_of(actor),
            col(BidDraft.status) == BidDraftStatus.draft,
            col(Purchase.status) == PurchaseStatus.open,
            col(Purchase.bid_deadline) > clock.now(),
        )
        .order_by(col(Purchase.bid_deadline), col(Purchase.ref)),
    )
    items = [todo.Item(_label(p), f"/workspace/purchases/{p.id}/bid", p.bid_deadline) for _d, p in rows]
    return todo.TodoList(
        "bid_drafts_to_submit", N_("Bid drafts to review and submit"), "/workspace/bidding/open", items, total
    )


async def objections_to_decide(session: AsyncSession, actor: Actor, settings: Settings) -> todo.TodoList:
    rows, total = await todo.oldest(
        session,
        select(Objection, Purchase)
        .join(Purchase, col(Purchase.id) == col(Objection.purchase_id))
        .where(col(Objection.status) == ObjectionStatus.pending)
        .order_by(col(Objection.filed_at), col(Objection.id)),
    )
    items = [todo.Item(_label(p), "/admin/objections", o.filed_at) for o, p in rows]
    return todo.TodoList("objections_to_decide", N_("Objections to decide"), "/admin/objections", items, total)


async def cancellations_to_decide(session: AsyncSession, actor: Actor, settings: Settings) -> todo.TodoList:
    rows, total = await todo.oldest(
        session,
        select(CancellationRequest, Purchase)
        .join(Purchase, col(Purchase.id) == col(CancellationRequest.purchase_id))
        .where(col(CancellationRequest.status) == CancellationStatus.pending)
        .order_by(col(CancellationRequest.requested_at), col(CancellationRequest.id)),
    )
    items = [todo.Item(_label(p), "/admin/cancellations", r.requested_at) for r, p in rows]
    return todo.TodoList(
        "cancellations_to_decide", N_("Cancellation requests to decide"), "/admin/cancellations", items, total
    )


TODO: list[todo.Todo] = [
    ("owner", bids_to_select),
    ("provider", bid_drafts_to_submit),
    ("admin", objections_to_decide),
    ("admin", cancellations_to_decide),
]
