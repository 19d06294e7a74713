"""Change notices (变更公告, issue 11.7): amending an open purchase before its deadline.

The owner publishes a notice with a written reason; the purchase's amendable terms (scope text,
price cap, deadline, service days: :data:`bidding.rules.AMENDABLE`) change, and the notice keeps
each changed field before and after (append-only table). A material change (cap, scope or service
days) moves the deadline so that at least the minimum bidding period remains from the notice, and
every bid received before it must be confirmed by its bidder (or replaced) by the deadline, or it
is not opened: invalid with the reason ``not_confirmed_after_change`` (:mod:`bidding.timeline`).

Sealed bids stay sealed: the owner learns nothing of the bids from a notice (not their number, not
whether any must be confirmed); the bidders hear of the notice through their inbox. A confirmation
is its own append-only row: the bid, its digest and its receipt stay as they were.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bidding import notifications, purchases, rules, timeline
from bidding.models import Bid, BidConfirmation, BidStatus, ChangeNotice, Purchase, PurchaseStatus
from listings.models import CatalogItem
from market import audit, clock
from market.actor import Actor, require_approver
from market.errors import FieldError, InvalidInput, NotFound, PermissionDenied, RuleViolation
from market.i18n import format_datetime, format_money
from market.i18n import gettext as _
from market.jsonutil import canonical
from market.money import to_money
from market.settings import Settings
from market.terms import label

S = PurchaseStatus
MAX_REASON = 4000


@dataclass(frozen=True)
class Amendment:
    """What the owner asks to change; ``None`` keeps a term as it is."""

    reason: str
    description: str | None = None
    budget_cap: Decimal | None = None
    bid_deadline: datetime | None = None
    service_days: int | None = None


def _terms(p: Purchase) -> rules.Amendable:
    return rules.Amendable(
        description=p.description,
        budget_cap=p.budget_cap,
        bid_deadline=clock.ensure_aware(p.bid_deadline),
        service_days=p.service_days,
    )


def _value(name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return clock.ensure_aware(value).isoformat()
    if isinstance(value, Decimal):
        return str(to_money(value))
    return value


def changes_of(notice: ChangeNotice) -> list[dict[str, Any]]:
    """The notice's changes, ``[{field, before, after}]`` (values as stored: text, decimals and
    times as strings)."""
    out: list[dict[str, Any]] = json.loads(notice.changes)
    return out


async def of_purchase(session: AsyncSession, purchase_id: uuid.UUID) -> list[ChangeNotice]:
    """A purchase's notices, in order (they are public)."""
    return list(
        await session.scalars(
            select(ChangeNotice).where(col(ChangeNotice.purchase_id) == purchase_id).order_by(col(ChangeNotice.seq))
        )
    )


async def publish(
    session: AsyncSession, actor: Actor, settings: Settings, purchase_id: uuid.UUID, data: Amendment
) -> ChangeNotice:
    """The owner amends its open purchase before the deadline, with a written reason."""
    p = await purchases.owned(session, settings, actor, purchase_id)  # locked: bids and the close wait
    now = clock.now()
    if p.status != S.open or now >= clock.ensure_aware(p.bid_deadline):
        raise RuleViolation(
            _("A change notice is published only while the purchase is open, before its deadline."),
            _("The purchase is “%(status)s”.", status=label(p.status, "purchase_status")),
        )
    errors: list[FieldError] = []
    try:
        reason = rules.text(
            data.reason,
            "reason",
            shortest=5,
            longest=MAX_REASON,
            too_short=_("Say what changes and why (at least 5 characters)."),
        )
    except InvalidInput as exc:
        errors.extend(exc.errors)
        reason = ""
    before = _terms(p)
    description = before.description
    if data.description is not None:
        try:
            description = rules.text(
                data.description,
                "description",
                shortest=10,
                longest=20000,
                too_short=_("Describe the scope of the service (at least 10 characters)."),
            )
        except InvalidInput as exc:
            errors.extend(exc.errors)
    item = await session.get(CatalogItem, p.catalog_item_id)
    cap = before.budget_cap if data.budget_cap is None else data.budget_cap
    if data.budget_cap is not None:
        problem = rules.cap_problem(cap, p.price_floor, item.fee_type if item else "", item.fee_cap if item else None)
        if problem == "not_positive":
            errors.append(FieldError("budget_cap", _("The price cap must be above zero.")))
        elif problem == "too_large":
            errors.append(FieldError("budget_cap", _("At most %(n)s.", n="999,999,999,999.99")))
        elif problem == "fee_standard" and item is not None:
            errors.append(
                FieldError(
                    "budget_cap",
                    _(
                        "The item's fee follows a government standard (%(fee_type)s): the price cap may not exceed %(cap)s.",  # noqa: E501
                        fee_type=label(item.fee_type, "fee_type"),
                        cap=format_money(item.fee_cap),
                    ),
                )
            )
        elif problem == "below_floor":
            errors.append(
                FieldError(
                    "budget_cap",
                    _("The price cap must stay above the floor of %(floor)s.", floor=format_money(p.price_floor)),
                )
            )
    days = before.service_days if data.service_days is None else data.service_days
    limit = min(rules.MAX_DAYS, item.time_limit_days) if item is not None else rules.MAX_DAYS
    if not 1 <= days <= limit:
        errors.append(FieldError("service_days", _("Between 1 and %(days)s working days.", days=limit)))
    requested = before.bid_deadline if data.bid_deadline is None else clock.ensure_aware(data.bid_deadline)
    if requested < before.bid_deadline:
        errors.append(
            FieldError(
                "bid_deadline",
                _(
                    "The deadline may only move later than %(deadline)s.",
                    deadline=format_datetime(before.bid_deadline),
                ),
            )
        )
    if errors:
        raise InvalidInput(_("The change notice is not valid."), _("Correct the fields named below."), errors=errors)
    wanted = rules.Amendable(description=description, budget_cap=cap, bid_deadline=requested, service_days=days)
    material = rules.is_material(rules.changes(before, wanted))
    deadline = rules.deadline_after_change(
        requested, material=material, earliest=purchases.earliest_deadline(settings, now)
    )
    after = rules.Amendable(description=description, budget_cap=cap, bid_deadline=deadline, service_days=days)
    found = rules.changes(before, after)
    if not found:
        raise InvalidInput.field(
            "description", _("Change at least one term: the scope, the cap, the deadline or the service days.")
        )
    seq = int(await session.scalar(select(func.count()).where(col(ChangeNotice.purchase_id) == p.id)) or 0) + 1
    notice = ChangeNotice(
        purchase_id=p.id,
        seq=seq,
        reason=reason,
        changes=canonical(
            [{"field": c.field, "before": _value(c.field, c.before), "after": _value(c.field, c.after)} for c in found]
        ),
        material=material,
        published_at=now,
        published_by=actor.user_id,
    )
    session.add(notice)
    p.description = after.description
    p.budget_cap = after.budget_cap
    p.bid_deadline = after.bid_deadline
    p.service_days = after.service_days
    p.updated_at = now
    await session.flush()
    await timeline.schedule(session, p)
    audit.record(
        session,
        actor,
        "purchase.change_notice",
        "purchase",
        p.id,
        {
            "notice_id": notice.id,
            "ref": p.ref,
            "seq": seq,
            "reason": reason,
            "material": material,
            "changes": changes_of(notice),
        },
    )
    await notifications.change_notice(session, p, notice)
    return notice


async def material_notices(session: AsyncSession, purchase_id: uuid.UUID) -> list[tuple[uuid.UUID, datetime]]:
    rows = await session.execute(
        select(col(ChangeNotice.id), col(ChangeNotice.published_at)).where(
            col(ChangeNotice.purchase_id) == purchase_id, col(ChangeNotice.material).is_(True)
        )
    )
    return [(i, clock.ensure_aware(at)) for i, at in rows.all()]


async def confirmed_notices(session: AsyncSession, bid_id: uuid.UUID) -> set[uuid.UUID]:
    return set(
        await session.scalars(select(col(BidConfirmation.notice_id)).where(col(BidConfirmation.bid_id) == bid_id))
    )


async def confirmed_by_bid(session: AsyncSession, bid_ids: list[uuid.UUID]) -> dict[uuid.UUID, set[uuid.UUID]]:
    """:func:`confirmed_notices` of several bids in one query."""
    found: dict[uuid.UUID, set[uuid.UUID]] = {b: set() for b in bid_ids}
    if bid_ids:
        for bid_id, notice_id in await session.execute(
            select(col(BidConfirmation.bid_id), col(BidConfirmation.notice_id)).where(
                col(BidConfirmation.bid_id).in_(bid_ids)
            )
        ):
            found[bid_id].add(notice_id)
    return found


async def unconfirmed(session: AsyncSession, p: Purchase, bids: list[Bid]) -> set[uuid.UUID]:
    """The active bids among ``bids`` that still wait for their bidder's confirmation."""
    notices = await material_notices(session, p.id)
    if not notices:
        return set()
    out = set()
    for b in bids:
        if b.status == BidStatus.active and rules.needs_confirmation(
            clock.ensure_aware(b.received_at), notices, await confirmed_notices(session, b.id)
        ):
            out.add(b.id)
    return out


async def awaiting(session: AsyncSession, rows: list[tuple[Bid, Purchase]]) -> set[uuid.UUID]:
    """The active bids of open purchases among ``rows`` that wait for their bidder's confirmation,
    in two queries whatever the number of rows (a bidder's list)."""
    open_rows = [(b, p) for b, p in rows if p.status == S.open and b.status == BidStatus.active]
    if not open_rows:
        return set()
    notices: dict[uuid.UUID, list[tuple[uuid.UUID, datetime]]] = {}
    for pid, nid, at in (
        await session.execute(
            select(col(ChangeNotice.purchase_id), col(ChangeNotice.id), col(ChangeNotice.published_at)).where(
                col(ChangeNotice.purchase_id).in_({p.id for _b, p in open_rows}), col(ChangeNotice.material).is_(True)
            )
        )
    ).all():
        notices.setdefault(pid, []).append((nid, clock.ensure_aware(at)))
    with_notices = [(b, p) for b, p in open_rows if p.id in notices]
    if not with_notices:
        return set()
    confirmed: dict[uuid.UUID, set[uuid.UUID]] = {}
    for bid_id, notice_id in (
        await session.execute(
            select(col(BidConfirmation.bid_id), col(BidConfirmation.notice_id)).where(
                col(BidConfirmation.bid_id).in_({b.id for b, _p in with_notices})
            )
        )
    ).all():
        confirmed.setdefault(bid_id, set()).add(notice_id)
    return {
        b.id
        for b, p in with_notices
        if rules.needs_confirmation(clock.ensure_aware(b.received_at), notices[p.id], confirmed.get(b.id, set()))
    }


async def needs_confirmation(session: AsyncSession, p: Purchase, bid: Bid) -> bool:
    return bid.id in await unconfirmed(session, p, [bid])


async def confirm(session: AsyncSession, actor: Actor, settings: Settings, bid_id: uuid.UUID) -> BidConfirmation:
    """The bidder confirms its sealed bid, unchanged, for the purchase's last material notice.
    The bid's digest and receipt stay valid; the confirmation is recorded beside it."""
    if actor.role != "provider" or actor.org_id is None:
        raise PermissionDenied(_("Only intermediary firms bid."))
    bid = await session.get(Bid, bid_id)
    if bid is None or bid.provider_id != actor.org_id:
        raise NotFound(_("No such bid."))
    require_approver(actor)  # confirming commits the firm to its bid under the new terms
    p = await timeline.lock(session, bid.purchase_id)
    assert p is not None
    p = await timeline.refresh(session, settings, p, locked=True)
    now = clock.now()
    if p.status != S.open or now >= clock.ensure_aware(p.bid_deadline):
        raise RuleViolation(
            _("Bids are confirmed only until the deadline (%(deadline)s).", deadline=format_datetime(p.bid_deadline))
        )
    if bid.status != BidStatus.active:
        raise RuleViolation(_("Only your active bid can be confirmed."))
    notices = await material_notices(session, p.id)
    if not rules.needs_confirmation(
        clock.ensure_aware(bid.received_at), notices, await confirmed_notices(session, bid.id)
    ):
        raise RuleViolation(_("This bid needs no confirmation."))
    last_id = max(notices, key=lambda n: n[1])[0]
    c = BidConfirmation(bid_id=bid.id, notice_id=last_id, confirmed_at=now, confirmed_by=actor.user_id)
    session.add(c)
    await session.flush()
    # like the bid itself, sealed until the deadline: the audit trail learns of it when the bids
    # are opened (the ``bid.opened`` event names the notices the bid was confirmed for)
    return c
