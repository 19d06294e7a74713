"""Cancelling after the deadline (SPEC §5 "No cancelling after looking").

Until the deadline the owner cancels a purchase with a published reason
(:func:`bidding.purchases.cancel`). Once the bids are opened the owner has seen the names and the
prices, and cancelling could be a way to redo the purchase until the firm it wants wins: from then
on cancelling is a *request* with a written reason, which the platform operator approves or
refuses in writing. Request and decision are public (the announcement page, the purchase's JSON),
the finance bureau sees the red flag ``cancelled_after_opening`` on the purchase and on the round
that republishes it, and while a request is pending the owner cannot run the selection.

The database keeps one pending request per purchase (a partial unique index) and a decision always
with its text and time (CHECK); the purchase row's lock serialises requests and decisions.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bidding import notifications, purchases, rules, timeline
from bidding.models import CancellationRequest, CancellationStatus, Purchase, PurchaseStatus
from market import audit, clock
from market.actor import Actor
from market.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied, RuleViolation
from market.i18n import gettext as _
from market.settings import Settings
from market.terms import label

S = PurchaseStatus
MAX_REASON = 4000
MAX_DECISION = 8000
READERS = ("admin", "finance")


def _not_found() -> NotFound:
    return NotFound(_("No such cancellation request."))


async def pending_of(session: AsyncSession, purchase_id: uuid.UUID) -> CancellationRequest | None:
    return await session.scalar(
        select(CancellationRequest).where(
            col(CancellationRequest.purchase_id) == purchase_id,
            col(CancellationRequest.status) == CancellationStatus.pending,
        )
    )


async def refuse_while_pending(session: AsyncSession, p: Purchase) -> None:
    """The selection waits while the operator decides a request to cancel the purchase."""
    if await pending_of(session, p.id) is not None:
        raise RuleViolation(
            _("A request to cancel this purchase awaits the operator's decision."),
            _("The selection can run once the operator has refused the request."),
        )


async def of_purchase(session: AsyncSession, purchase_id: uuid.UUID) -> list[CancellationRequest]:
    """A purchase's requests and decisions, oldest first (they are public)."""
    return list(
        await session.scalars(
            select(CancellationRequest)
            .where(col(CancellationRequest.purchase_id) == purchase_id)
            .order_by(col(CancellationRequest.requested_at), col(CancellationRequest.id))
        )
    )


async def request(
    session: AsyncSession, actor: Actor, settings: Settings, purchase_id: uuid.UUID, reason: str
) -> CancellationRequest:
    """The owner asks the operator to cancel a purchase whose bids have been opened."""
    p = await purchases.owned(session, settings, actor, purchase_id)  # locked: requests serialise here
    reason = rules.text(
        reason,
        "reason",
        shortest=5,
        longest=MAX_REASON,
        too_short=_("Give the reason for cancelling (at least 5 characters)."),
    )
    if p.opened_at is None:
        raise RuleViolation(
            _("Until the deadline you cancel the purchase yourself; a request is needed only after it.")
        )
    if not rules.can_move(p.status, S.cancelled):
        raise RuleViolation(
            _("A purchase in status “%(status)s” cannot be cancelled.", status=label(p.status, "purchase_status"))
        )
    if await pending_of(session, p.id) is not None:
        raise Conflict(_("A request to cancel this purchase already awaits the operator's decision."))
    now = clock.now()
    r = CancellationRequest(purchase_id=p.id, requested_by=actor.user_id, reason=reason, requested_at=now)
    session.add(r)
    await session.flush()
    p.updated_at = now
    audit.record(
        session,
        actor,
        "purchase.cancellation_requested",
        "purchase",
        p.id,
        {"request_id": r.id, "ref": p.ref, "status": p.status, "opened_at": p.opened_at, "reason": reason},
    )
    await notifications.cancellation_requested(session, p, reason)
    return r


async def get(session: AsyncSession, actor: Actor, request_id: uuid.UUID) -> tuple[CancellationRequest, Purchase]:
    """One request: the operator and the finance bureau read every one, an owner its own."""
    r = await session.get(CancellationRequest, request_id)
    p = await session.get(Purchase, r.purchase_id) if r is not None else None
    if r is None or p is None or not (actor.role in READERS or purchases.is_owner(actor, p)):
        raise _not_found()
    return r, p


async def listed(
    session: AsyncSession,
    actor: Actor,
    *,
    status: str | None,
    purchase_id: uuid.UUID | None = None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[CancellationRequest, Purchase]], int]:
    """Requests, newest first: the operator and the finance bureau all, an owner its own."""
    if status and status not in {s.value for s in CancellationStatus}:
        raise InvalidInput.field("status", _("Choose pending, approved or refused."))
    query = select(CancellationRequest, Purchase).join(
        Purchase, col(Purchase.id) == col(CancellationRequest.purchase_id)
    )
    if actor.role not in READERS:
        if actor.role != "owner" or actor.org_id is None:
            raise PermissionDenied(_("Only the operator, the finance bureau and owners read cancellation requests."))
        query = query.where(col(Purchase.owner_id) == actor.org_id)
    if status:
        query = query.where(col(CancellationRequest.status) == status)
    if purchase_id is not None:
        query = query.where(col(CancellationRequest.purchase_id) == purchase_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (
        await session.execute(
            query.order_by(col(CancellationRequest.requested_at).desc(), col(CancellationRequest.id))
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return [(r, p) for r, p in rows], int(total or 0)


async def decide(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    request_id: uuid.UUID,
    *,
    approved: bool,
    decision: str,
) -> CancellationRequest:
    """The operator approves (the purchase is cancelled, with the owner's reason) or refuses (the
    procedure goes on) a pending request, in writing."""
    if actor.role != "admin":
        raise PermissionDenied(_("Only the platform operator decides cancellation requests."))
    found = await session.get(CancellationRequest, request_id)
    if found is None:
        raise _not_found()
    p = await timeline.lock(session, found.purchase_id)
    assert p is not None
    p = await timeline.refresh(session, settings, p, locked=True)
    r = await session.scalar(
        select(CancellationRequest)
        .where(col(CancellationRequest.id) == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert r is not None
    decision = rules.text(
        decision,
        "decision",
        shortest=5,
        longest=MAX_DECISION,
        too_short=_("Write the grounds of the decision (at least 5 characters)."),
    )
    if r.status != CancellationStatus.pending:
        raise RuleViolation(_("This request has already been decided."))
    if approved and not rules.can_move(p.status, S.cancelled):
        raise RuleViolation(
            _(
                "A purchase in status “%(status)s” cannot be cancelled any more; refuse the request.",
                status=label(p.status, "purchase_status"),
            ),
            errors=[FieldError("approved", _("The purchase can no longer be cancelled."))],
        )
    now = clock.now()
    r.status = CancellationStatus.approved if approved else CancellationStatus.refused
    r.decision, r.decided_at, r.decided_by = decision, now, actor.user_id
    audit.record(
        session,
        actor,
        f"purchase.cancellation_{r.status}",
        "purchase",
        p.id,
        {"request_id": r.id, "ref": p.ref, "decision": decision},
    )
    if approved:
        p.cancel_reason = r.reason
        p.closed_at = now
        timeline.move(
            session, actor, p, S.cancelled, "cancelled", {"reason": r.reason, "after_opening": True, "request_id": r.id}
        )
        await timeline.schedule(session, p)
        await notifications.result(session, p)
    else:
        p.updated_at = now
    await session.flush()
    return r
