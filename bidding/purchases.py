"""Purchases: who may see and act on one, drafting and editing, publishing (with its gap-free
reference), cancelling, republishing a failed one as a new round, and the link to its contract.

Services take a session, an :class:`~market.actor.Actor` and the settings, never commit, and
record every state change in the audit trail. They take the API's request schemas
(:class:`~bidding.schemas.PurchaseCreate`, :class:`~bidding.schemas.PurchaseUpdate`) — the pages
parse their forms into the same ones — and check every rule of the terms again themselves.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bidding import changes as _changes  # noqa: F401  (the change sequence of the open data feed)
from bidding import draw, notifications, rules, sealing, timeline
from bidding.models import Funding, Method, Purchase, PurchaseAvoid, PurchaseStatus
from bidding.schemas import PurchaseCreate, PurchaseUpdate
from listings import labels as _listings_labels  # noqa: F401  (the fee types' labels)
from listings.credit_rules import GRADES, Grade
from listings.models import CatalogItem
from market import audit, clock, numbering
from market.actor import Actor, require_approver
from market.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied, RuleViolation
from market.i18n import format_datetime, format_money
from market.i18n import gettext as _
from market.identity.models import Organization, OrgKind
from market.settings import Settings
from market.terms import label
from market.workdays import add_period

S = PurchaseStatus
INVESTMENT_CODE_RE = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$")
MAX_AVOIDED = 200
# the terms every purchase has (an edit may change them, never empty them)
REQUIRED_TERMS = frozenset(name for name, info in PurchaseCreate.model_fields.items() if info.is_required())


# --- access -----------------------------------------------------------------------------------


def is_owner(actor: Actor | None, p: Purchase) -> bool:
    return actor is not None and actor.role == "owner" and actor.org_id == p.owner_id


def not_found() -> NotFound:
    return NotFound(_("No such purchase."))


async def get_purchase(
    session: AsyncSession, settings: Settings, actor: Actor | None, purchase_id: uuid.UUID, *, for_update: bool = False
) -> Purchase:
    """A purchase the actor may see (drafts only by their owner), with due transitions applied."""
    p = await timeline.lock(session, purchase_id) if for_update else await session.get(Purchase, purchase_id)
    if p is None or (p.status == S.draft and not is_owner(actor, p)):
        raise not_found()
    return await timeline.refresh(session, settings, p, locked=for_update)


async def owned(session: AsyncSession, settings: Settings, actor: Actor, purchase_id: uuid.UUID) -> Purchase:
    """The actor's own purchase, locked, with due transitions applied."""
    p = await timeline.lock(session, purchase_id)
    if p is None or not is_owner(actor, p):
        raise not_found()
    return await timeline.refresh(session, settings, p, locked=True)


async def get_by_ref(session: AsyncSession, settings: Settings, ref: str) -> Purchase:
    p = await session.scalar(select(Purchase).where(col(Purchase.ref) == ref.strip().upper()))
    if p is None:
        raise not_found()
    return await timeline.refresh(session, settings, p)


async def avoid_ids(session: AsyncSession, purchase_id: uuid.UUID) -> list[uuid.UUID]:
    """The firms the owner must avoid for this purchase (回避单位)."""
    return list(
        await session.scalars(select(PurchaseAvoid.provider_id).where(col(PurchaseAvoid.purchase_id) == purchase_id))
    )


def earliest_deadline(settings: Settings, start: datetime) -> datetime:
    """The earliest bid deadline of a purchase published at ``start`` (the minimum bidding period)."""
    return add_period(start, settings.min_bidding_days, settings.accelerator)


# --- the terms of a purchase --------------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """Every term of a purchase, as :func:`check` checks them and :func:`_columns` stores them."""

    title: str
    catalog_code: str
    description: str
    budget_cap: Decimal
    funding: str
    method: str
    bid_deadline: datetime
    service_days: int
    price_floor: Decimal | None = None
    min_bids: int | None = None
    weights: rules.Weights | None = None
    avoid_provider_ids: tuple[uuid.UUID, ...] = field(default_factory=tuple)
    investment_code: str | None = None
    min_grade: str | None = None

    @classmethod
    def of(cls, data: PurchaseCreate) -> Terms:
        return cls(
            title=data.title,
            catalog_code=data.catalog_code,
            description=data.description,
            budget_cap=data.budget_cap,
            funding=data.funding,
            method=data.method,
            bid_deadline=data.bid_deadline,
            service_days=data.service_days,
            price_floor=data.price_floor,
            min_bids=data.min_bids,
            weights=rules.Weights(data.weights.price, data.weights.quality, data.weights.credit)
            if data.weights
            else None,
            avoid_provider_ids=tuple(data.avoid_provider_ids),
            investment_code=data.investment_code,
            min_grade=data.min_grade,
        )

    @classmethod
    def stored(cls, p: Purchase, avoid: list[uuid.UUID]) -> Terms:
        weights = None
        if p.method == Method.scored and p.weight_price is not None:
            weights = rules.Weights(p.weight_price, p.weight_quality or 0, p.weight_credit or 0)
        return cls(
            title=p.title,
            catalog_code=p.catalog_code,
            description=p.description,
            budget_cap=p.budget_cap,
            funding=p.funding,
            method=p.method,
            bid_deadline=p.bid_deadline,
            service_days=p.service_days,
            price_floor=p.price_floor,
            min_bids=p.min_bids,
            weights=weights,
            avoid_provider_ids=tuple(avoid),
            investment_code=p.investment_code,
            min_grade=p.min_grade,
        )

    def changed(self, data: PurchaseUpdate) -> Terms:
        """These terms with the fields ``data`` sets (a field left out stays; ``null`` clears an
        optional one). A new method resets the minimum of valid bids, and weights unless scored."""
        changes: dict[str, Any] = {}
        for name in data.model_fields_set:
            value = getattr(data, name)
            if value is None and name in REQUIRED_TERMS:
                raise InvalidInput.field(name, _("This field is required."))
            if name == "weights":
                value = rules.Weights(value.price, value.quality, value.credit) if value else None
            elif name == "avoid_provider_ids":
                value = tuple(value or ())
            changes[name] = value
        if "method" in changes and changes["method"] != self.method:
            changes.setdefault("min_bids", None)
            if changes["method"] != Method.scored:
                changes.setdefault("weights", None)
        return replace(self, **changes)


async def check(session: AsyncSession, settings: Settings, data: Terms, *, at: datetime) -> tuple[CatalogItem, int]:
    """Every rule of the terms at once: the catalog item and the minimum of valid bids, or
    :class:`InvalidInput` naming each bad field."""
    errors: list[FieldError] = []

    def bad(name: str, message: str) -> None:
        errors.append(FieldError(name, message))

    for name, value, shortest, longest, too_short in (
        ("title", data.title, 4, 200, _("Give the purchase a title of at least 4 characters.")),
        ("description", data.description, 10, 20000, _("Describe the scope of the service (at least 10 characters).")),
    ):
        try:
            rules.text(value, name, shortest=shortest, longest=longest, too_short=too_short)
        except InvalidInput as exc:
            errors.extend(exc.errors)
    item = await session.scalar(select(CatalogItem).where(col(CatalogItem.code) == data.catalog_code))
    if item is None:
        bad("catalog_code", _("No catalog item with this code."))
    elif not item.purchasable:
        bad("catalog_code", _("This catalog item is not retained; it cannot be purchased."))
    if data.service_days < 1:
        bad("service_days", _("At least one working day."))
    elif data.service_days > rules.MAX_DAYS:
        bad("service_days", _("At most %(n)s.", n=rules.MAX_DAYS))
    elif item is not None and data.service_days > item.time_limit_days:
        bad(
            "service_days",
            _("At most %(days)s working days, the item's service time limit.", days=item.time_limit_days),
        )
    if data.budget_cap <= 0:
        bad("budget_cap", _("The price cap must be above zero."))
    elif not rules.amount_in_range(data.budget_cap):
        bad("budget_cap", _("At most %(n)s.", n="999,999,999,999.99"))
    elif item is not None and rules.above_fee_standard(data.budget_cap, item.fee_type, item.fee_cap):
        bad(
            "budget_cap",
            _(
                "The item's fee follows a government standard (%(fee_type)s): the price cap may not exceed %(cap)s.",
                fee_type=label(item.fee_type, "fee_type"),
                cap=format_money(item.fee_cap),
            ),
        )
    if data.price_floor is not None and (data.price_floor <= 0 or data.price_floor >= data.budget_cap):
        bad("price_floor", _("The floor must be above zero and below the cap."))
    if data.funding not in {f.value for f in Funding}:
        bad("funding", _("Choose the funding source: fiscal, own or mixed."))
    min_bids = data.min_bids
    if data.method not in {m.value for m in Method}:
        bad("method", _("Choose a selection method: random, lowest_price, scored or direct."))
    else:
        if min_bids is None:
            min_bids = 1 if data.method == Method.direct else 3
        if data.method == Method.scored:
            if data.weights is None:
                bad("weights", _("Scored selection needs weights for price, quality and credit."))
            else:
                try:
                    data.weights.check()
                except InvalidInput as exc:
                    errors.extend(exc.errors)
        elif data.weights is not None:
            bad("weights", _("Weights apply only to scored selection."))
    if data.min_grade is not None and data.min_grade not in GRADES:
        bad("min_grade", _("Choose a credit grade: A, B, C or D."))
    if min_bids is not None and not 1 <= min_bids <= 20:
        bad("min_bids", _("The minimum number of valid bids is between 1 and 20."))
    earliest = earliest_deadline(settings, at)
    if clock.ensure_aware(data.bid_deadline) < earliest:
        bad(
            "bid_deadline",
            _(
                "The bidding period is at least %(days)s working days: the deadline must be %(earliest)s or later.",
                days=settings.min_bidding_days,
                earliest=format_datetime(earliest),
            ),
        )
    if data.investment_code and not INVESTMENT_CODE_RE.match(data.investment_code.strip()):
        bad("investment_code", _("An investment project code looks like 2026-530100-48-01-123456."))
    if len(data.avoid_provider_ids) > MAX_AVOIDED:
        bad("avoid_provider_ids", _("At most %(n)s firms.", n=MAX_AVOIDED))
    elif data.avoid_provider_ids:
        found = set(
            await session.scalars(
                select(Organization.id).where(
                    col(Organization.id).in_(data.avoid_provider_ids), col(Organization.kind) == OrgKind.provider
                )
            )
        )
        if found != set(data.avoid_provider_ids):
            bad("avoid_provider_ids", _("Every firm to avoid must be a registered provider."))
    if errors or item is None:
        raise InvalidInput(_("The purchase is not valid."), _("Correct the fields named below."), errors=errors)
    return item, int(min_bids or 1)


def _columns(data: Terms, item: CatalogItem, min_bids: int) -> dict[str, Any]:
    """The purchase's columns that hold the checked terms."""
    w = data.weights if data.method == Method.scored else None
    return {
        "catalog_item_id": item.id,
        "title": data.title.strip(),
        "catalog_code": data.catalog_code,
        "description": data.description.strip(),
        "budget_cap": data.budget_cap,
        "price_floor": data.price_floor,
        "funding": Funding(data.funding),
        "investment_code": (data.investment_code or "").strip() or None,
        "method": Method(data.method),
        "bid_deadline": clock.ensure_aware(data.bid_deadline),
        "service_days": data.service_days,
        "min_bids": min_bids,
        "weight_price": w.price if w else None,
        "weight_quality": w.quality if w else None,
        "weight_credit": w.credit if w else None,
        "min_grade": Grade(data.min_grade) if data.min_grade else None,
    }


def _audited(p: Purchase, avoid: tuple[uuid.UUID, ...] | list[uuid.UUID]) -> dict[str, Any]:
    """The terms as the audit trail records them."""
    return {
        "title": p.title,
        "catalog_code": p.catalog_code,
        "budget_cap": p.budget_cap,
        "price_floor": p.price_floor,
        "funding": p.funding,
        "method": p.method,
        "bid_deadline": p.bid_deadline,
        "service_days": p.service_days,
        "min_bids": p.min_bids,
        "weights": [p.weight_price, p.weight_quality, p.weight_credit] if p.method == Method.scored else None,
        "avoid_provider_ids": sorted(str(a) for a in avoid),
        "min_grade": p.min_grade,
    }


async def _set_avoid(session: AsyncSession, purchase_id: uuid.UUID, ids: tuple[uuid.UUID, ...]) -> None:
    for row in list(await session.scalars(select(PurchaseAvoid).where(col(PurchaseAvoid.purchase_id) == purchase_id))):
        await session.delete(row)
    await session.flush()
    for provider_id in dict.fromkeys(ids):
        session.add(PurchaseAvoid(purchase_id=purchase_id, provider_id=provider_id))
    await session.flush()


# --- drafting and publishing -------------------------------------------------------------------


async def create_draft(session: AsyncSession, actor: Actor, settings: Settings, data: PurchaseCreate) -> Purchase:
    if actor.role != "owner" or actor.org_id is None:
        raise PermissionDenied(_("Only project owners draft purchases."))
    now = clock.now()
    terms = Terms.of(data)
    item, min_bids = await check(session, settings, terms, at=now)
    p = Purchase(
        owner_id=actor.org_id,
        created_by=actor.user_id,
        created_at=now,
        updated_at=now,
        **_columns(terms, item, min_bids),
    )
    session.add(p)
    await session.flush()
    await _set_avoid(session, p.id, terms.avoid_provider_ids)
    audit.record(session, actor, "purchase.drafted", "purchase", p.id, _audited(p, terms.avoid_provider_ids))
    return p


async def update_draft(
    session: AsyncSession, actor: Actor, settings: Settings, purchase_id: uuid.UUID, data: PurchaseUpdate
) -> Purchase:
    """Change the fields of a draft that ``data`` sets (the others stay); the whole draft is
    checked again."""
    p = await owned(session, settings, actor, purchase_id)
    if p.status != S.draft:
        raise RuleViolation(_("A published purchase is frozen; only drafts can be edited."))
    terms = Terms.stored(p, await avoid_ids(session, p.id)).changed(data)
    now = clock.now()
    item, min_bids = await check(session, settings, terms, at=now)
    p.sqlmodel_update({**_columns(terms, item, min_bids), "updated_at": now})
    await _set_avoid(session, p.id, terms.avoid_provider_ids)
    audit.record(session, actor, "purchase.edited", "purchase", p.id, _audited(p, terms.avoid_provider_ids))
    return p


async def next_ref(session: AsyncSession, year: int) -> str:
    """The next gap-free reference of the year (``CG-2026-000001``), taken in the publishing
    transaction (a rollback gives the number back)."""
    return numbering.reference("CG", year, await numbering.next_number(session, "purchase", year))


async def publish(session: AsyncSession, actor: Actor, settings: Settings, purchase_id: uuid.UUID) -> Purchase:
    """Freeze the draft, number it, commit to the secret of its draw and open it for bids."""
    require_approver(actor)
    p = await owned(session, settings, actor, purchase_id)
    if p.status != S.draft:
        raise RuleViolation(_("Only a draft can be published."))
    now = clock.now()
    avoid = await avoid_ids(session, p.id)
    item, _min = await check(session, settings, Terms.stored(p, avoid), at=now)  # the item may have changed
    p.ref = await next_ref(session, clock.to_local(now).year)
    secret = draw.new_secret()  # stored encrypted until the draw publishes it (bidding.sealing)
    p.draw_secret = sealing.seal(settings.secret_key, p.id, secret)
    p.draw_commitment = draw.commitment(secret)
    p.published_at = now
    timeline.move(
        session,
        actor,
        p,
        S.open,
        "published",
        {**_audited(p, avoid), "draw_commitment": p.draw_commitment, "round": p.round, "previous_id": p.previous_id},
    )
    await timeline.schedule(session, p)
    await notifications.published(session, p, item.name)
    return p


async def cancel(
    session: AsyncSession, actor: Actor, settings: Settings, purchase_id: uuid.UUID, reason: str
) -> Purchase:
    require_approver(actor)
    p = await owned(session, settings, actor, purchase_id)
    reason = rules.text(
        reason,
        "reason",
        shortest=5,
        longest=4000,
        too_short=_("Give the reason for cancelling (at least 5 characters)."),
    )
    if not rules.can_move(p.status, S.cancelled):
        raise RuleViolation(
            _("A purchase in status “%(status)s” cannot be cancelled.", status=label(p.status, "purchase_status"))
        )
    if p.opened_at is not None:  # the owner has seen the bids: only the operator may cancel now
        raise RuleViolation(
            _("The bids have been opened: the purchase is cancelled only if the operator approves your request."),
            _("Send the request with your reason (POST …/cancellation-requests); the operator decides in writing."),
        )
    p.cancel_reason = reason
    p.closed_at = clock.now()
    timeline.move(session, actor, p, S.cancelled, "cancelled", {"reason": reason})
    await timeline.schedule(session, p)
    await notifications.result(session, p)
    return p


async def republish(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    purchase_id: uuid.UUID,
    bid_deadline: datetime | None = None,
) -> Purchase:
    """A failed or cancelled purchase comes back as a new draft round linked to the old one (same
    terms, a new deadline); the owner may adjust it and publishes it."""
    require_approver(actor)
    old = await owned(session, settings, actor, purchase_id)
    if old.status not in (S.failed, S.cancelled):
        raise RuleViolation(_("Only a failed or cancelled purchase can be republished."))
    existing = await session.scalar(select(Purchase).where(col(Purchase.previous_id) == old.id))
    if existing is not None:
        raise Conflict(
            _("This purchase has already been republished as round %(round)s.", round=existing.round),
            errors=[FieldError("purchase", str(existing.id))],
        )
    now = clock.now()
    avoid = await avoid_ids(session, old.id)
    terms = replace(Terms.stored(old, avoid), bid_deadline=bid_deadline or earliest_deadline(settings, now))
    item, min_bids = await check(session, settings, terms, at=now)
    p = Purchase(
        owner_id=old.owner_id,
        created_by=actor.user_id,
        round=old.round + 1,
        previous_id=old.id,
        created_at=now,
        updated_at=now,
        **_columns(terms, item, min_bids),
    )
    session.add(p)
    await session.flush()
    await _set_avoid(session, p.id, terms.avoid_provider_ids)
    audit.record(
        session,
        actor,
        "purchase.republished",
        "purchase",
        p.id,
        {**_audited(p, avoid), "previous_id": old.id, "previous_ref": old.ref, "round": p.round},
    )
    return p


# --- the contract (called by the contracts package) --------------------------------------------


async def mark_contract(
    session: AsyncSession, actor: Actor, purchase_id: uuid.UUID, contract_id: uuid.UUID, *, signed: bool
) -> Purchase:
    """Record the awarded purchase's contract; once it is signed the purchase is ``contracted``."""
    p = await timeline.lock(session, purchase_id)
    if p is None:
        raise not_found()
    if p.status not in (S.awarded, S.contracted):
        raise RuleViolation(_("Only an awarded purchase has a contract."))
    if p.contract_id is not None and p.contract_id != contract_id:
        raise Conflict(_("This purchase already has another contract."))
    if p.contract_id is None:
        p.contract_id = contract_id
        p.updated_at = clock.now()
        audit.record(session, actor, "purchase.contract_linked", "purchase", p.id, {"contract_id": contract_id})
    if signed and p.status == S.awarded:
        p.contracted_at = clock.now()
        timeline.move(session, actor, p, S.contracted, "contracted", {"contract_id": contract_id})
    return p
