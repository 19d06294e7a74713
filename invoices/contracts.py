"""Contracts: drafting on award, signing by both parties, supplementary agreements, access rules
and the flags that show what is late.

The bidding package emits :class:`~bidding.events.PurchaseAwarded`, which the handler made by
:func:`award_handler` turns into a drafted contract in the same transaction; bidding learns of
the contract through :func:`tell_bidding` (``bidding.purchases.mark_contract``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bidding import purchases as bidding_purchases
from bidding import selecting as bidding_selecting
from bidding.events import PurchaseAwarded
from invoices import bounds, documents, notifications, rules
from invoices.models import AgreementStatus, Contract, ContractAgreement, ContractStatus, DocumentKind, Payment
from listings import credit
from market import audit, clock, numbering
from market.actor import SYSTEM, Actor, require_approver
from market.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RuleViolation
from market.i18n import format_datetime, format_money
from market.i18n import gettext as _
from market.identity.models import Organization, OrgKind
from market.settings import Settings

OVERSIGHT_ROLES = ("admin", "finance")
TEMPLATE = "standard-2026"


# --- the award ----------------------------------------------------------------------------------


def award_handler(settings: Settings) -> Callable[[AsyncSession, PurchaseAwarded], Awaitable[None]]:
    """The handler of :class:`~bidding.events.PurchaseAwarded` (subscribed by the composition root):
    draft the contract in the awarding transaction."""

    async def on_purchase_awarded(session: AsyncSession, event: PurchaseAwarded) -> None:
        await draft_contract(session, SYSTEM, event, settings)

    return on_purchase_awarded


async def tell_bidding(session: AsyncSession, actor: Actor, contract: Contract, *, signed: bool) -> None:
    """Tell the bidding package that the purchase has a contract (drafted) or is contracted (signed):
    the purchase shows its ``contract_id`` and, once both parties have signed, becomes ``contracted``."""
    await bidding_purchases.mark_contract(session, actor, contract.purchase_id, contract.id, signed=signed)


# --- drafting -----------------------------------------------------------------------------------


async def _party(session: AsyncSession, org_id: uuid.UUID, kind: OrgKind, field: str) -> Organization:
    org = await session.get(Organization, org_id)
    if org is None or org.kind != kind:
        raise InvalidInput.field(field, _("No such organisation of this kind."))
    return org


async def draft_contract(session: AsyncSession, actor: Actor, award: PurchaseAwarded, settings: Settings) -> Contract:
    """Draft the contract of an award from the standard template, snapshotting both parties.
    Idempotent: an award that already has its contract returns that contract."""
    existing = await session.scalar(
        select(Contract).where(
            col(Contract.purchase_id) == award.purchase_id, col(Contract.status) != ContractStatus.void
        )
    )
    if existing is not None:
        return existing
    amount = bounds.amount("amount", award.amount)
    if award.service_days <= 0:
        raise InvalidInput.field("service_days", _("The service days must be at least one."))
    if award.owner_id == award.provider_id:
        raise InvalidInput.field("provider_id", _("A contract needs two different parties."))
    owner = await _party(session, award.owner_id, OrgKind.owner, "owner_id")
    provider = await _party(session, award.provider_id, OrgKind.provider, "provider_id")
    now = clock.now()
    year = rules.local_year(now)
    seq = await numbering.next_number(session, "contract", year)
    contract = Contract(
        number=numbering.reference(rules.CONTRACT_PREFIX, year, seq),
        purchase_id=award.purchase_id,
        purchase_ref=award.purchase_ref,
        bid_id=award.bid_id,
        title=award.title,
        scope=award.scope,
        catalog_code=award.catalog_code,
        catalog_name=award.catalog_name,
        method=award.method,
        draw_seed=award.draw_seed,
        awarded_at=award.awarded_at,
        owner_id=owner.id,
        owner_name=owner.name,
        owner_uscc=owner.uscc,
        owner_address=owner.address,
        owner_legal_rep=owner.legal_rep,
        provider_id=provider.id,
        provider_name=provider.name,
        provider_uscc=provider.uscc,
        provider_address=provider.address,
        provider_legal_rep=provider.legal_rep,
        amount=amount,
        amount_in_words=rules.amount_in_capitals(amount),
        amount_current=amount,
        service_days=award.service_days,
        payment_days=settings.payment_days,
        template=TEMPLATE,
        drafted_at=now,
        sign_by=rules.signing_deadline(now, settings.signing_days, settings.accelerator),
        status=ContractStatus.draft,
    )
    session.add(contract)
    await session.flush()
    audit.record(
        session,
        actor,
        "contract.drafted",
        "contract",
        contract.id,
        {
            "number": contract.number,
            "purchase_id": contract.purchase_id,
            "purchase_ref": contract.purchase_ref,
            "owner_id": contract.owner_id,
            "provider_id": contract.provider_id,
            "amount": contract.amount,
            "service_days": contract.service_days,
            "sign_by": contract.sign_by,
        },
    )
    await tell_bidding(session, actor, contract, signed=False)
    await notifications.contract_drafted(session, contract)
    return contract


# --- access -------------------------------------------------------------------------------------


def side_of(contract: Contract, actor: Actor) -> str | None:
    """``owner`` or ``provider`` when the actor acts for that party of the contract."""
    if actor.org_id is None:
        return None
    if actor.role == "owner" and actor.org_id == contract.owner_id:
        return "owner"
    if actor.role == "provider" and actor.org_id == contract.provider_id:
        return "provider"
    return None


def can_read(contract: Contract, actor: Actor) -> bool:
    return side_of(contract, actor) is not None or actor.role in OVERSIGHT_ROLES


def require_side(contract: Contract, actor: Actor, side: str) -> uuid.UUID:
    """The acting person's id, when the actor acts for the contract's ``side``."""
    if side_of(contract, actor) != side or actor.user_id is None:
        if side == "owner":
            raise PermissionDenied(_("Only the purchaser of this contract may do this."))
        raise PermissionDenied(_("Only the service provider of this contract may do this."))
    return actor.user_id


async def get_contract(session: AsyncSession, actor: Actor, contract_id: uuid.UUID, *, lock: bool = False) -> Contract:
    """The contract if the actor may read it (its parties, the operator and the finance bureau);
    otherwise NotFound, so that others do not even learn that it exists. ``lock`` takes the row
    lock that serialises every change of the contract (signing, invoices, payments…)."""
    query = select(Contract).where(col(Contract.id) == contract_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    contract = (await session.execute(query)).scalar_one_or_none()
    if contract is None or not can_read(contract, actor):
        raise NotFound(_("No such contract."))
    return contract


async def public_contract(session: AsyncSession, contract_id: uuid.UUID) -> Contract:
    """The contract for its public summary (SPEC §1, §6): anyone may read it once both parties
    have signed. Before that it is not found, exactly like an unknown id."""
    contract = await session.get(Contract, contract_id)
    if contract is None or contract.signed_at is None:
        raise NotFound(_("No such contract."))
    return contract


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause: the contracts the actor may list."""
    if actor.role in OVERSIGHT_ROLES:
        return col(Contract.id).is_not(None)
    if actor.role == "owner" and actor.org_id is not None:
        return col(Contract.owner_id) == actor.org_id
    if actor.role == "provider" and actor.org_id is not None:
        return col(Contract.provider_id) == actor.org_id
    return col(Contract.id).is_(None)


# --- flags --------------------------------------------------------------------------------------


def flags_of(contract: Contract, settings: Settings, now: datetime | None = None) -> list[str]:
    account = account_of(contract)
    return rules.contract_flags(
        rules.ContractFacts(
            status=contract.status,
            sign_by=contract.sign_by,
            signed_at=contract.signed_at,
            due_at=contract.due_at_current,
            delivered_at=contract.delivered_at,
            accepted_at=contract.accepted_at,
            amount=account.amount,
            invoiced=account.invoiced,
            paid_total=account.paid,
            paid_on=contract.paid_on,
            paid_recorded_at=contract.paid_recorded_at,
            payment_days=contract.payment_days,
            payment_due_at=contract.payment_due_at,
        ),
        now or clock.now(),
        settings.accelerator,
    )


# --- the account: invoiced, paid, outstanding ----------------------------------------------------


def account_of(contract: Contract) -> rules.Account:
    """THE invoiced (net of credit notes), paid and outstanding amounts of a contract: every page,
    the API, the flags, the CSV export and the OCDS releases show these figures.

    They are the contract's running totals, which :mod:`invoices.billing` moves with each invoice,
    credit note and payment under the contract's row lock (and CHECK constraints bound)."""
    return rules.Account(amount=contract.amount_current, invoiced=contract.invoiced_total, paid=contract.paid_total)


async def accounts(session: AsyncSession, contract_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, rules.Account]:
    """:func:`account_of` for many contracts in one query (lists, exports)."""
    ids = list(dict.fromkeys(contract_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(
            col(Contract.id), col(Contract.amount_current), col(Contract.invoiced_total), col(Contract.paid_total)
        ).where(col(Contract.id).in_(ids))
    )
    return {
        contract_id: rules.Account(amount=amount, invoiced=invoiced, paid=paid)
        for contract_id, amount, invoiced, paid in rows
    }


def payment_deadline_of(contract: Contract, settings: Settings) -> datetime | None:
    """The payment term's end: stored at acceptance (``payment_due_at``), computed for a row
    accepted without it."""
    if contract.accepted_at is None:
        return None
    if contract.payment_due_at is not None:
        return contract.payment_due_at
    return rules.payment_deadline(contract.accepted_at, contract.payment_days, settings.accelerator)


def days_to_payment(contract: Contract) -> int | None:
    """Calendar days from acceptance to the payment that completed the price (None until then)."""
    if contract.accepted_at is None or contract.paid_on is None:
        return None
    return rules.days_to_payment(contract.accepted_at, contract.paid_on)


# the SQL side of the flag filters: a superset that flags_of() then narrows
def flag_prefilter(flag: str, now: datetime) -> ColumnElement[bool]:
    signed_at, accepted_at, due_at = col(Contract.signed_at), col(Contract.accepted_at), col(Contract.due_at_current)
    if flag == rules.FLAG_SIGNING_OVERDUE:
        return signed_at.is_(None) & (col(Contract.sign_by) < now) & (col(Contract.status) != ContractStatus.void)
    if flag == rules.FLAG_SIGNED_LATE:
        return signed_at > col(Contract.sign_by)
    if flag == rules.FLAG_OVERDUE:
        return accepted_at.is_(None) & (due_at < now)
    if flag == rules.FLAG_DELIVERED_LATE:
        return accepted_at.is_not(None) & (col(Contract.delivered_at) > due_at)
    if flag == rules.FLAG_PAYMENT_OVERDUE:
        # past the stored payment term (or none stored: computed by flags_of), something owed
        payment_due_at = col(Contract.payment_due_at)
        return (
            accepted_at.is_not(None)
            & (col(Contract.paid_total) < col(Contract.amount_current))
            & (col(Contract.invoiced_total) > col(Contract.paid_total))
            & (payment_due_at.is_(None) | (payment_due_at < now))
        )
    if flag == rules.FLAG_PAID_LATE:
        return col(Contract.paid_on).is_not(None)
    raise InvalidInput.field("flag", _("Unknown flag."))


def _local_date(column: Any, dialect: str) -> Any:
    """The China date (UTC+8 all year) of a UTC moment."""
    if dialect == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", column))
    # SQLite keeps fractions of a second: 15:59:59.999999 would round to the next day; whole seconds
    return func.date(func.substr(column, 1, 19), "+8 hours")


def term_stored() -> ColumnElement[bool]:
    """Contracts whose flags the stored columns decide: not yet accepted, or accepted with the
    payment term's end stored (``payment_due_at``, as acceptance stores it and migration 0020
    backfilled it). For the others :func:`flag_conditions` does not decide the payment flags."""
    return col(Contract.accepted_at).is_(None) | col(Contract.payment_due_at).is_not(None)


# the flags that read the payment term's end
TERM_FLAGS = (rules.FLAG_PAYMENT_OVERDUE, rules.FLAG_PAID_LATE)


def flag_conditions(now: datetime, accelerator: int, dialect: str) -> dict[str, ColumnElement[bool]]:
    """:func:`invoices.rules.contract_flags` at ``now`` as conditions on a contract's stored
    columns: exact for a contract that is not void and satisfies :func:`term_stored` (the payment
    flags of the others need the rule with the term computed). Lists page by them and finance counts
    them without loading a contract (tests hold them equal to :func:`flags_of`)."""
    signed, accepted = col(Contract.signed_at), col(Contract.accepted_at)
    due, delivered, deadline = col(Contract.due_at_current), col(Contract.delivered_at), col(Contract.payment_due_at)
    paid, amount = col(Contract.paid_total), col(Contract.amount_current)
    waiting_on_owner = (
        (col(Contract.status) == ContractStatus.delivered)
        & delivered.is_not(None)
        & due.is_not(None)
        & (delivered <= due)
    )
    if accelerator > 1:  # a day lasts seconds: the moment the payment was recorded
        in_time = col(Contract.paid_recorded_at) <= deadline
    else:  # by its date, against the term's last China day
        in_time = col(Contract.paid_on) <= _local_date(deadline, dialect)
    return {
        rules.FLAG_SIGNING_OVERDUE: signed.is_(None) & (col(Contract.sign_by) < now),
        rules.FLAG_SIGNED_LATE: signed.is_not(None) & (signed > col(Contract.sign_by)),
        rules.FLAG_OVERDUE: signed.is_not(None)
        & accepted.is_(None)
        & due.is_not(None)
        & (due < now)
        & ~waiting_on_owner,
        rules.FLAG_DELIVERED_LATE: signed.is_not(None)
        & accepted.is_not(None)
        & due.is_not(None)
        & delivered.is_not(None)
        & (delivered > due),
        rules.FLAG_PAYMENT_OVERDUE: signed.is_not(None)
        & accepted.is_not(None)
        & (paid < amount)
        & (deadline < now)
        & (col(Contract.invoiced_total) > paid),
        rules.FLAG_PAID_LATE: signed.is_not(None)
        & accepted.is_not(None)
        & (paid >= amount)
        & col(Contract.paid_on).is_not(None)
        & col(Contract.paid_recorded_at).is_not(None)
        & ~in_time,
    }


NEWEST_FIRST = (col(Contract.drafted_at).desc(), col(Contract.number).desc())


def _newest_first(rows: list[Contract]) -> list[Contract]:
    rows = sorted(rows, key=lambda c: c.number, reverse=True)
    return sorted(rows, key=lambda c: c.drafted_at, reverse=True)  # stable: number desc within


async def _flagged_page(
    session: AsyncSession,
    ranked: list[tuple[int, Any]],
    others: list[tuple[int, Contract]],
    *,
    limit: int,
    offset: int,
) -> tuple[list[Contract], int]:
    """A page of flagged contracts, by rank then newest first: ``ranked`` are (rank, query) whose
    rows the database finds and pages; ``others`` the few (rank, contract) the rule decided (rows
    without a stored payment term). With none of those, the page and the total are two statements."""
    rank = case(*((cond, r) for r, cond in ranked), else_=len(ranked))
    base = select(Contract).where(or_(*(cond for _r, cond in ranked)))
    if not others:
        rows = list(await session.scalars(base.order_by(rank, *NEWEST_FIRST).limit(limit).offset(offset)))
        if len(rows) < limit and (rows or offset == 0):
            return rows, offset + len(rows)
        return rows, int(await session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    # the rule's few rows merged in: the database's first offset + limit rows suffice for the page
    found = [(r, c) for r, c in others]
    head = await session.execute(base.add_columns(rank).order_by(rank, *NEWEST_FIRST).limit(offset + limit))
    found += [(r, c) for c, r in head.all()]
    ordered: list[Contract] = []
    for r in sorted({r for r, _c in found}):
        ordered += _newest_first([c for rr, c in found if rr == r])
    total = int(await session.scalar(select(func.count()).select_from(base.subquery())) or 0) + len(others)
    return ordered[offset : offset + limit], total


async def list_contracts(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    *,
    purchase_id: uuid.UUID | None = None,
    status: str | None = None,
    flag: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Contract], int]:
    query = select(Contract).where(visible_to(actor))
    if purchase_id is not None:
        query = query.where(col(Contract.purchase_id) == purchase_id)
    if status:
        if status not in {s.value for s in ContractStatus}:
            raise InvalidInput.field("status", _("Unknown status."))
        query = query.where(col(Contract.status) == status)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(
            or_(
                col(Contract.number).ilike(like),
                col(Contract.title).ilike(like),
                col(Contract.purchase_ref).ilike(like),
                col(Contract.owner_name).ilike(like),
                col(Contract.provider_name).ilike(like),
            )
        )
    if flag:
        return await _flagged(session, settings, query, (flag,), limit=limit, offset=offset)
    query = query.order_by(*NEWEST_FIRST)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = list(await session.scalars(query.limit(limit).offset(offset)))
    return rows, int(total or 0)


# flagged for action now, most urgent first
ATTENTION = (rules.FLAG_OVERDUE, rules.FLAG_PAYMENT_OVERDUE, rules.FLAG_SIGNING_OVERDUE)


async def needing_attention(
    session: AsyncSession, actor: Actor, settings: Settings, *, limit: int, offset: int = 0
) -> tuple[list[Contract], int]:
    """A page of the contracts the actor may list that need action now: services past their due
    date, then payments past their term, then signatures past the signing period (newest first in
    each), and how many there are."""
    return await _flagged(
        session, settings, select(Contract).where(visible_to(actor)), ATTENTION, limit=limit, offset=offset
    )


async def _flagged(
    session: AsyncSession, settings: Settings, query: Any, flags: tuple[str, ...], *, limit: int, offset: int
) -> tuple[list[Contract], int]:
    """The contracts of ``query`` carrying any of ``flags`` now, ranked by the first flag they
    carry in that order: the database decides where the stored columns do, the rule for the few
    accepted rows without a stored payment term."""
    for flag in flags:
        if flag not in rules.FLAGS:
            raise InvalidInput.field("flag", _("Unknown flag."))
    now = clock.now()
    conditions = flag_conditions(now, settings.accelerator, session.get_bind().dialect.name)
    live = col(Contract.status) != ContractStatus.void
    where = query.whereclause if query.whereclause is not None else col(Contract.id).is_not(None)
    ranked = [(i, where & live & term_stored() & conditions[flag]) for i, flag in enumerate(flags)]
    others: list[tuple[int, Contract]] = []
    if any(flag in TERM_FLAGS for flag in flags):
        for c in await session.scalars(
            query.where(
                live,
                ~term_stored(),
                col(Contract.paid_on).is_not(None) | (col(Contract.paid_total) < col(Contract.amount_current)),
            )
        ):
            carried = flags_of(c, settings, now)
            rank = next((i for i, flag in enumerate(flags) if flag in carried), None)
            if rank is not None:
                others.append((rank, c))
    return await _flagged_page(session, ranked, others, limit=limit, offset=offset)


async def flag_counts(session: AsyncSession, actor: Actor, settings: Settings) -> dict[str, int]:
    """How many of the contracts the actor may list carry each flag now: one ``COUNT`` per flag in
    one statement where the stored columns decide, the rule for the accepted rows without a stored
    payment term."""
    now = clock.now()
    conditions = flag_conditions(now, settings.accelerator, session.get_bind().dialect.name)
    live = col(Contract.status) != ContractStatus.void
    row = (
        await session.execute(
            select(*(func.coalesce(func.sum(case((c, 1), else_=0)), 0).label(f) for f, c in conditions.items())).where(
                visible_to(actor), live, term_stored()
            )
        )
    ).one()
    counts = {flag: int(getattr(row, flag)) for flag in rules.FLAGS}
    for c in await session.scalars(select(Contract).where(visible_to(actor), live, ~term_stored())):
        for flag in flags_of(c, settings, now):
            counts[flag] += 1
    return counts


# --- signing ------------------------------------------------------------------------------------


async def sign_contract(session: AsyncSession, actor: Actor, settings: Settings, contract_id: uuid.UUID) -> Contract:
    """One party signs (user, time, address). The second signature makes the contract binding:
    its due date is fixed, it can no longer change (a database trigger refuses it) and its PDF is
    rendered after the commit."""
    require_approver(actor)
    contract = await get_contract(session, actor, contract_id, lock=True)
    side = side_of(contract, actor)
    if side is None:
        raise PermissionDenied(_("Only the parties of a contract sign it."))
    if contract.signed_at is not None:
        raise Conflict(_("This contract has already been signed by both parties."))
    if contract.status == ContractStatus.void:
        raise Conflict(_("The award of this contract has been voided; it can no longer be signed."))
    if getattr(contract, f"{side}_signed_at") is not None:
        raise Conflict(_("You have already signed this contract."))
    now = clock.now()
    setattr(contract, f"{side}_signed_at", now)
    setattr(contract, f"{side}_signed_by", actor.user_id)
    setattr(contract, f"{side}_signed_ip", actor.ip)
    audit.record(
        session,
        actor,
        "contract.signature",
        "contract",
        contract.id,
        {"party": side, "at": now, "ip": actor.ip, "late": now > clock.ensure_aware(contract.sign_by)},
    )
    if contract.owner_signed_at is not None and contract.provider_signed_at is not None:
        due = rules.service_due(now, contract.service_days, settings.accelerator)
        contract.signed_at = now
        contract.due_at = due
        contract.due_at_current = due
        contract.status = ContractStatus.signed
        await session.flush()
        documents.enqueue(session, DocumentKind.contract, contract.id)
        audit.record(
            session,
            actor,
            "contract.signed",
            "contract",
            contract.id,
            {"number": contract.number, "signed_at": now, "due_at": due, "amount": contract.amount},
        )
        await tell_bidding(session, actor, contract, signed=True)
    else:
        await session.flush()
    return contract


# --- a winner that walks away -------------------------------------------------------------------


def may_void(contract: Contract, now: datetime) -> bool:
    """Whether the owner may void the award now: the signing period is over and the firm has not signed."""
    return (
        contract.status == ContractStatus.draft
        and contract.provider_signed_at is None
        and now > clock.ensure_aware(contract.sign_by)
    )


async def void_contract(
    session: AsyncSession, actor: Actor, settings: Settings, contract_id: uuid.UUID, reason: str
) -> Contract:
    """The owner's approver voids the award of a contract the winner has not signed by the end of
    the signing period, with a written (published) reason. The draft stays, voided and frozen; the
    firm's credit record gets the refusal; the purchase reruns among the remaining valid bids with
    the secret committed with the previous result (or fails), in this transaction
    (:func:`bidding.selecting.void_award`); both parties are notified."""
    require_approver(actor)
    contract = await get_contract(session, actor, contract_id, lock=True)
    require_side(contract, actor, "owner")
    if contract.status == ContractStatus.void:
        raise Conflict(_("This award has already been voided."))
    if contract.provider_signed_at is not None:
        raise Conflict(_("The firm has signed this contract; its award cannot be voided."))
    now = clock.now()
    if now <= clock.ensure_aware(contract.sign_by):
        raise Conflict(
            _(
                "The signing period runs until %(sign_by)s; the award can be voided only if the firm "
                "has not signed by then.",
                sign_by=format_datetime(contract.sign_by),
            )
        )
    least, most = bounds.VOID_REASON
    reason = bounds.text(
        "reason",
        reason,
        least=least,
        most=most,
        too_short=_("Write why the award is voided (at least %(n)s characters).", n=least),
    )
    contract.status = ContractStatus.void
    contract.voided_at = now
    contract.voided_by = actor.user_id
    contract.void_reason = reason
    await session.flush()
    audit.record(
        session,
        actor,
        "contract.voided",
        "contract",
        contract.id,
        {
            "number": contract.number,
            "purchase_id": contract.purchase_id,
            "provider_id": contract.provider_id,
            "sign_by": contract.sign_by,
            "reason": reason,
        },
    )
    await bidding_selecting.void_award(
        session, actor, settings, contract.purchase_id, contract_id=contract.id, reason=reason
    )
    await record_refusal(session, contract)
    await notifications.award_voided(session, contract)
    return contract


async def record_refusal(session: AsyncSession, contract: Contract) -> None:
    """The firm's credit record gets the refusal to sign (listings.credit, issue 13.1), in the
    voiding transaction; the fact links the purchase's public result, where the voided round and
    its reason are published."""
    assert contract.voided_at is not None
    await credit.record_fact(
        session,
        provider_id=contract.provider_id,
        kind=credit.CreditFactKind.refused_to_sign,
        occurred_at=contract.voided_at,
        value=1,
        source_id=contract.id,
        link=f"/purchases/{contract.purchase_id}#result",
        note=f"{contract.number} · {contract.purchase_ref}: {contract.void_reason or ''}"[: credit.NOTE_MAX],
    )


# --- supplementary agreements ------------------------------------------------------------------


async def agreements_of(session: AsyncSession, contract_id: uuid.UUID) -> list[ContractAgreement]:
    rows = await session.scalars(
        select(ContractAgreement)
        .where(col(ContractAgreement.contract_id) == contract_id)
        .order_by(col(ContractAgreement.seq))
    )
    return list(rows)


async def propose_agreement(
    session: AsyncSession,
    actor: Actor,
    contract_id: uuid.UUID,
    *,
    text: str,
    new_amount: Decimal | None = None,
    extra_days: int = 0,
) -> ContractAgreement:
    """Either party proposes a supplementary agreement; it changes the terms once both have signed it."""
    require_approver(actor)
    contract = await get_contract(session, actor, contract_id, lock=True)
    side = side_of(contract, actor)
    if side is None or actor.user_id is None or actor.org_id is None:
        raise PermissionDenied(_("Only the parties of a contract agree on changes."))
    if contract.signed_at is None:
        raise RuleViolation(_("A supplementary agreement changes a signed contract; this one is not signed yet."))
    least, most = bounds.AGREEMENT_TEXT
    text = bounds.text("text", text, least=least, most=most, too_short=_("Describe the change in a few words."))
    extra_days = bounds.days("extra_days", extra_days, most=bounds.MAX_EXTRA_DAYS)
    if extra_days and contract.accepted_at is not None:
        raise InvalidInput.field("extra_days", _("The service has been accepted; its time limit can no longer change."))
    if new_amount is not None:
        new_amount = bounds.amount("new_amount", new_amount)
        if new_amount == contract.amount_current:
            new_amount = None
        elif new_amount < contract.invoiced_total:
            invoiced = format_money(contract.invoiced_total)
            raise InvalidInput.field(
                "new_amount", _("The amount cannot be below what has been invoiced (%(total)s).", total=invoiced)
            )
    open_one = await session.scalar(
        select(col(ContractAgreement.id)).where(
            col(ContractAgreement.contract_id) == contract.id,
            col(ContractAgreement.status) == AgreementStatus.proposed,
        )
    )
    if open_one is not None:
        raise Conflict(_("Another supplementary agreement is awaiting signatures; sign or withdraw it first."))
    seq = (
        int(
            await session.scalar(
                select(func.coalesce(func.max(col(ContractAgreement.seq)), 0)).where(
                    col(ContractAgreement.contract_id) == contract.id
                )
            )
            or 0
        )
        + 1
    )
    agreement = ContractAgreement(
        contract_id=contract.id,
        seq=seq,
        number=rules.agreement_number(contract.number, seq),
        text=text,
        new_amount=new_amount,
        extra_days=extra_days,
        proposed_by=actor.user_id,
        proposed_by_org=actor.org_id,
    )
    session.add(agreement)
    await session.flush()
    audit.record(
        session,
        actor,
        "agreement.proposed",
        "contract",
        contract.id,
        {"agreement_id": agreement.id, "number": agreement.number, "new_amount": new_amount, "extra_days": extra_days},
    )
    return agreement


async def get_agreement(
    session: AsyncSession, actor: Actor, agreement_id: uuid.UUID, *, lock: bool = False
) -> tuple[ContractAgreement, Contract]:
    agreement = await session.get(ContractAgreement, agreement_id)
    if agreement is None:
        raise NotFound(_("No such supplementary agreement."))
    try:
        contract = await get_contract(session, actor, agreement.contract_id, lock=lock)
    except NotFound:
        raise NotFound(_("No such supplementary agreement.")) from None
    if lock:
        await session.refresh(agreement)
    return agreement, contract


async def sign_agreement(
    session: AsyncSession, actor: Actor, settings: Settings, agreement_id: uuid.UUID
) -> ContractAgreement:
    require_approver(actor)
    agreement, contract = await get_agreement(session, actor, agreement_id, lock=True)
    side = side_of(contract, actor)
    if side is None:
        raise PermissionDenied(_("Only the parties of a contract sign its agreements."))
    if agreement.status != AgreementStatus.proposed:
        raise Conflict(_("This supplementary agreement is no longer open for signing."))
    if getattr(agreement, f"{side}_signed_at") is not None:
        raise Conflict(_("You have already signed this supplementary agreement."))
    now = clock.now()
    setattr(agreement, f"{side}_signed_at", now)
    setattr(agreement, f"{side}_signed_by", actor.user_id)
    setattr(agreement, f"{side}_signed_ip", actor.ip)
    audit.record(
        session, actor, "agreement.signature", "contract", contract.id, {"agreement_id": agreement.id, "party": side}
    )
    if agreement.owner_signed_at is not None and agreement.provider_signed_at is not None:
        changes: dict[str, Any] = {}
        if agreement.new_amount is not None:
            if agreement.new_amount < contract.invoiced_total:
                raise RuleViolation(
                    _("The agreed amount is below what has been invoiced meanwhile; issue a credit note first.")
                )
            changes["amount"] = {"from": contract.amount_current, "to": agreement.new_amount}
            contract.amount_current = agreement.new_amount
            await _recompute_paid(session, contract)
        if agreement.extra_days:
            if contract.accepted_at is not None:
                raise RuleViolation(_("The service has been accepted; its time limit can no longer change."))
            new_due = rules.extend_due(contract.due_at_current or now, agreement.extra_days, settings.accelerator)
            changes["due_at"] = {"from": contract.due_at_current, "to": new_due}
            contract.due_at_current = new_due
        agreement.signed_at = now
        agreement.status = AgreementStatus.signed
        await session.flush()
        documents.enqueue(session, DocumentKind.agreement, agreement.id)
        audit.record(
            session,
            actor,
            "agreement.signed",
            "contract",
            contract.id,
            {"agreement_id": agreement.id, "number": agreement.number, "changes": changes},
        )
    else:
        await session.flush()
    return agreement


async def withdraw_agreement(
    session: AsyncSession, actor: Actor, agreement_id: uuid.UUID, reason: str
) -> ContractAgreement:
    """Either party withdraws (or declines) an agreement that is not yet signed by both."""
    agreement, contract = await get_agreement(session, actor, agreement_id, lock=True)
    if side_of(contract, actor) is None:
        raise PermissionDenied(_("Only the parties of a contract may withdraw its agreements."))
    if agreement.status != AgreementStatus.proposed:
        raise Conflict(_("This supplementary agreement is no longer open."))
    least, most = bounds.WITHDRAW_REASON
    reason = bounds.text("reason", reason, least=least, most=most, too_short=_("Give a reason."))
    agreement.status = AgreementStatus.withdrawn
    agreement.withdrawn_at = clock.now()
    agreement.withdrawn_by = actor.user_id
    agreement.withdraw_reason = reason
    await session.flush()
    audit.record(
        session,
        actor,
        "agreement.withdrawn",
        "contract",
        contract.id,
        {"agreement_id": agreement.id, "reason": reason},
    )
    return agreement


async def _recompute_paid(session: AsyncSession, contract: Contract) -> None:
    """After the price changed: is the contract paid in full, and since which payment date?"""
    if contract.paid_total >= contract.amount_current:
        if contract.paid_on is None:
            last = (
                await session.execute(
                    select(func.max(col(Payment.paid_on)), func.max(col(Payment.recorded_at))).where(
                        col(Payment.contract_id) == contract.id
                    )
                )
            ).one()
            contract.paid_on, contract.paid_recorded_at = last[0], last[1] or clock.now()
    else:
        contract.paid_on = None
        contract.paid_recorded_at = None
