"""Loading the facts the oversight rules work on, in a handful of queries.

Sealing holds here first: bids are read only for purchases whose bids have been opened
(``opened_at`` is set when the deadline passes), so no report, flag, export or open-data release
can say anything about a purchase's bids before its deadline.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bidding.models import (
    Bid,
    BidStatus,
    CancellationRequest,
    CancellationStatus,
    Objection,
    ObjectionStatus,
    Purchase,
    PurchaseStatus,
    Selection,
    SelectionStatus,
)
from invoices import contracts as contracts_service
from invoices.models import Contract, ContractStatus
from listings.models import CatalogItem, FormerValue, Practitioner
from market import clock
from market.clock import LOCAL_TZ, to_local
from market.identity.models import Organization, OrgKind
from market.settings import Settings
from oversight import rules

Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")  # any select, whatever it selects


@dataclass(frozen=True)
class Period:
    """Purchases published from ``start`` through ``end`` (local dates, both inclusive)."""

    start: date | None = None
    end: date | None = None

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        lower = datetime.combine(self.start, time(0), LOCAL_TZ) if self.start else None
        upper = datetime.combine(self.end + timedelta(days=1), time(0), LOCAL_TZ) if self.end else None
        return lower, upper


@dataclass
class Snapshot:
    purchases: list[rules.PurchaseFact]
    firms: list[rules.FirmFact]
    orgs: dict[uuid.UUID, Organization] = field(default_factory=dict)  # owners and providers

    @property
    def firms_by_id(self) -> dict[uuid.UUID, rules.FirmFact]:
        return {f.id: f for f in self.firms}

    @property
    def purchases_by_id(self) -> dict[uuid.UUID, rules.PurchaseFact]:
        return {p.id: p for p in self.purchases}


def scoped(query: Q, period: Period) -> Q:
    """``query`` (which selects or joins ``purchases``) limited to the published purchases of the
    period (drafts are the owner's own business)."""
    query = query.where(col(Purchase.status) != PurchaseStatus.draft, col(Purchase.published_at).is_not(None))
    lower, upper = period.bounds()
    if lower is not None:
        query = query.where(col(Purchase.published_at) >= lower)
    if upper is not None:
        query = query.where(col(Purchase.published_at) < upper)
    return query


CHUNK = 1000  # purchase ids per IN list when only some purchases are loaded


async def _rows(session: AsyncSession, query: Any, period: Period, only: Collection[uuid.UUID] | None) -> list[Any]:
    """The rows of ``query`` (which selects or joins ``purchases``) for the period's purchases, or
    for those of ``only`` among them (in chunks of ids; a purchase's rows come in one chunk, so
    their order within a purchase is the query's)."""
    query = scoped(query, period)
    if only is None:
        return list((await session.execute(query)).all())
    ids = sorted(only, key=str)
    found: list[Any] = []
    for start in range(0, max(len(ids), 1), CHUNK):  # asked even for none: as many statements either way
        found += (await session.execute(query.where(col(Purchase.id).in_(ids[start : start + CHUNK])))).all()
    return found


async def load(
    session: AsyncSession,
    settings: Settings,
    period: Period = Period(),
    *,
    only: Collection[uuid.UUID] | None = None,
    firms: list[rules.FirmFact] | None = None,
    now: datetime | None = None,
) -> Snapshot:
    """Every published purchase of the period with its opened bids, selection, upheld objections
    and contract, and every intermediary firm with its practitioners' keyed ID hashes and the
    linking data it held before (former legal representatives, phone numbers, practitioners).

    ``only``: just these purchases of the period (the red flags' candidates, chosen by the
    database: :mod:`oversight.candidates`); the firms are all loaded either way (``firms``: already
    loaded by :func:`load_firms`); ``now``: the moment the contract flags are read at (the clock's)."""
    now = now or clock.now()
    rows: list[Purchase] = [r[0] for r in await _rows(session, select(Purchase), period, only)]
    rows.sort(key=lambda p: (clock.ensure_aware(p.published_at or p.created_at), p.ref or ""))

    # bids: only where they have been opened — never a sealed one
    bids: dict[uuid.UUID, list[rules.BidFact]] = {p.id: [] for p in rows if p.opened_at is not None}
    # the five columns the rules read, not Bid objects (the most numerous rows by far)
    bid_query = (
        select(col(Bid.purchase_id), col(Bid.provider_id), col(Bid.price), col(Bid.valid), col(Bid.excluded))
        .join(Purchase, col(Purchase.id) == col(Bid.purchase_id))
        .where(col(Purchase.opened_at).is_not(None), col(Bid.status) == BidStatus.active)
        .order_by(col(Bid.price), col(Bid.digest))
    )
    for purchase_id, provider_id, price, valid, excluded in await _rows(session, bid_query, period, only):
        if purchase_id in bids:
            bids[purchase_id].append(
                rules.BidFact(provider_id=provider_id, price=price, valid=bool(valid), excluded=excluded)
            )

    selections: dict[uuid.UUID, tuple[Selection, uuid.UUID]] = {}
    sel_query = (
        select(Selection, col(Bid.provider_id))
        .join(Purchase, col(Purchase.id) == col(Selection.purchase_id))
        .join(Bid, col(Bid.id) == col(Selection.winner_bid_id))
        .where(col(Selection.status) == SelectionStatus.current)
        .order_by(col(Selection.round))
    )
    for sel, provider_id in await _rows(session, sel_query, period, only):
        selections[sel.purchase_id] = (sel, provider_id)  # the latest current round wins

    upheld: dict[uuid.UUID, list[rules.ObjectionFact]] = {}
    obj_query = (
        select(Objection)
        .join(Purchase, col(Purchase.id) == col(Objection.purchase_id))
        .where(col(Objection.status) == ObjectionStatus.upheld)
        .order_by(col(Objection.decided_at))
    )
    for (o,) in await _rows(session, obj_query, period, only):
        upheld.setdefault(o.purchase_id, []).append(
            rules.ObjectionFact(reason=o.reason, decision=o.decision or "", decided_at=o.decided_at or o.filed_at)
        )

    cancelled, earlier = await cancellations(session)

    contract_rows: dict[uuid.UUID, Contract] = {}
    con_query = (
        select(Contract)
        .join(Purchase, col(Purchase.id) == col(Contract.purchase_id))
        .where(col(Contract.status) != ContractStatus.void)  # a voided award's draft is no contract
    )
    for (c,) in await _rows(session, con_query, period, only):
        contract_rows[c.purchase_id] = c

    orgs = {
        o.id: o
        for o in await session.scalars(
            select(Organization).where(
                (col(Organization.kind) == OrgKind.provider) | col(Organization.id).in_({p.owner_id for p in rows})
            )
        )
    }
    if firms is None:
        firms = await load_firms(session, [o for o in orgs.values() if o.kind == OrgKind.provider])
    items: dict[str, str] = {
        code: name
        for code, name in await session.execute(
            select(col(CatalogItem.code), col(CatalogItem.name)).where(
                col(CatalogItem.code).in_({p.catalog_code for p in rows})
            )
        )
    }

    facts = []
    for p in rows:
        chosen = selections.get(p.id)
        current, winner_id = chosen if chosen else (None, None)
        contract = contract_rows.get(p.id)
        facts.append(
            rules.PurchaseFact(
                id=p.id,
                ref=p.ref or "",
                title=p.title,
                owner_id=p.owner_id,
                owner_name=orgs[p.owner_id].name if p.owner_id in orgs else "",
                catalog_code=p.catalog_code,
                catalog_name=items.get(p.catalog_code, ""),
                method=p.method,
                funding=p.funding,
                status=p.status,
                cap=p.budget_cap,
                published_at=p.published_at or p.created_at,
                deadline=p.bid_deadline,
                bids=tuple(bids[p.id]) if p.id in bids else None,
                winner_id=winner_id,
                winner_name=orgs[winner_id].name if winner_id in orgs else None,
                price=current.price if current else None,
                reason=current.reason if current else None,
                selected_at=current.selected_at if current else None,
                awarded_at=p.awarded_at,
                upheld=tuple(upheld.get(p.id, ())),
                contract=contract_fact(contract, settings, now) if contract else None,
                cancelled_after_opening=cancelled.get(p.id),
                earlier_cancelled=tuple(cancelled[e] for e in earlier(p) if e in cancelled),
                winner_bid_id=current.winner_bid_id if current else None,
                weight_quality=p.weight_quality,
                scores=score_facts(current) if current is not None and current.method == "scored" else (),
            )
        )
    return Snapshot(purchases=facts, firms=firms, orgs=orgs)


async def load_firms(session: AsyncSession, providers: list[Organization] | None = None) -> list[rules.FirmFact]:
    """Every intermediary firm (``providers``, or all of them read here) with its practitioners'
    keyed ID hashes and the linking data it held before, by name (columns, not objects: a
    province has thousands of firms and practitioners)."""
    firms: list[tuple[uuid.UUID, str, str, str, str]]
    if providers is None:
        firms = [
            (firm_id, name, uscc, legal_rep, phone)
            for firm_id, name, uscc, legal_rep, phone in await session.execute(
                select(
                    col(Organization.id),
                    col(Organization.name),
                    col(Organization.uscc),
                    col(Organization.legal_rep),
                    col(Organization.phone),
                ).where(col(Organization.kind) == OrgKind.provider)
            )
        ]
    else:
        firms = [(o.id, o.name, o.uscc, o.legal_rep, o.phone) for o in providers]
    practitioners: dict[uuid.UUID, list[rules.PractitionerFact]] = {}
    for provider_id, id_hash, name, id_masked in await session.execute(
        select(
            col(Practitioner.provider_id),
            col(Practitioner.id_hash),
            col(Practitioner.name),
            col(Practitioner.id_masked),
        ).order_by(col(Practitioner.name))
    ):
        practitioners.setdefault(provider_id, []).append(
            rules.PractitionerFact(id_hash=id_hash, name=name, id_masked=id_masked)
        )
    former: dict[uuid.UUID, list[rules.FormerFact]] = {}
    for org_id, kind, value, label, ended_at, replaced_by, after_approval in await session.execute(
        select(
            col(FormerValue.org_id),
            col(FormerValue.field),
            col(FormerValue.value),
            col(FormerValue.label),
            col(FormerValue.ended_at),
            col(FormerValue.replaced_by_value),
            col(FormerValue.after_approval),
        )
        .join(Organization, col(Organization.id) == col(FormerValue.org_id))
        .where(col(Organization.kind) == OrgKind.provider)
        .order_by(col(FormerValue.ended_at))
    ):
        former.setdefault(org_id, []).append(
            rules.FormerFact(
                kind=kind,
                value=value,
                label=label,
                until=to_local(ended_at).date(),
                replaced_by=replaced_by,
                after_approval=after_approval,
            )
        )
    return [
        rules.FirmFact(
            id=firm_id,
            name=name,
            uscc=uscc,
            legal_rep=legal_rep,
            phone=phone,
            practitioners=tuple(practitioners.get(firm_id, ())),
            former=tuple(former.get(firm_id, ())),
        )
        for firm_id, name, uscc, legal_rep, phone in sorted(firms, key=lambda f: f[1])
    ]


async def cancellations(
    session: AsyncSession,
) -> tuple[dict[uuid.UUID, rules.CancellationFact], Callable[[Purchase], list[uuid.UUID]]]:
    """The purchases cancelled after their bids were opened (an approved request; whatever their
    period, since a later round may republish one), and a function giving a purchase's earlier
    rounds (``previous_id`` back to the first)."""
    cancelled: dict[uuid.UUID, rules.CancellationFact] = {}
    for r, ref in (
        await session.execute(
            select(CancellationRequest, col(Purchase.ref))
            .join(Purchase, col(Purchase.id) == col(CancellationRequest.purchase_id))
            .where(col(CancellationRequest.status) == CancellationStatus.approved)
        )
    ).all():
        cancelled[r.purchase_id] = rules.CancellationFact(
            purchase_id=r.purchase_id,
            ref=ref or "",
            reason=r.reason,
            requested_at=r.requested_at,
            decision=r.decision or "",
            decided_at=r.decided_at or r.requested_at,
        )
    previous: dict[uuid.UUID, uuid.UUID | None] = {
        pid: prev
        for pid, prev in (
            await session.execute(
                select(col(Purchase.id), col(Purchase.previous_id)).where(col(Purchase.previous_id).is_not(None))
            )
        ).all()
    }

    def earlier(p: Purchase) -> list[uuid.UUID]:
        chain: list[uuid.UUID] = []
        current = p.previous_id
        while current is not None and current not in chain:
            chain.append(current)
            current = previous.get(current)
        return chain

    return cancelled, earlier


def score_facts(selection: Selection) -> tuple[rules.ScoreFact, ...]:
    """The published evaluation of a scored selection, as the rules read it."""
    return tuple(
        rules.ScoreFact(
            bid_id=uuid.UUID(row["bid_id"]),
            price=Decimal(row["price"]),
            quality_mark=int(row["quality_mark"]),
            credit_score=int(row["credit_score"]),
            score=Decimal(row["score"]),
        )
        for row in json.loads(selection.evaluation)
        if row.get("score") is not None and row.get("quality_mark") is not None
    )


def contract_fact(c: Contract, settings: Settings, now: datetime) -> rules.ContractFact:
    account = contracts_service.account_of(c)
    return rules.ContractFact(
        id=c.id,
        number=c.number,
        status=c.status,
        amount=c.amount_current,
        sign_by=c.sign_by,
        signed_at=c.signed_at,
        due_at=c.due_at_current,
        accepted_at=c.accepted_at,
        invoiced=account.invoiced,
        paid=account.paid,
        outstanding=account.outstanding,
        paid_on=c.paid_on,
        payment_deadline=contracts_service.payment_deadline_of(c, settings),
        days_to_payment=contracts_service.days_to_payment(c),
        flags=tuple(contracts_service.flags_of(c, settings, now)),
    )
