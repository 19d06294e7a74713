"""Loading the facts the oversight rules work on, in a handful of queries.

Sealing holds here first: bids are read only for purchases whose bids have been opened
(``opened_at`` is set when the deadline passes), so no report, flag, export or open-data release
can say anything about a purchase's bids before its deadline.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding import services as purchases_service
from bidding.models import (
    Bid,
    BidStatus,
    Objection,
    ObjectionStatus,
    Purchase,
    PurchaseStatus,
    Selection,
    SelectionStatus,
)
from invoices import contracts as contracts_service
from invoices.models import Contract
from listings.models import CatalogItem, Practitioner
from market import clock
from market.clock import LOCAL_TZ
from market.identity.models import Organization, OrgKind
from market.settings import Settings
from oversight import rules


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
    now: datetime
    purchases: list[rules.PurchaseFact]
    firms: list[rules.FirmFact]
    orgs: dict[uuid.UUID, Organization] = field(default_factory=dict)  # owners and providers
    rows: dict[uuid.UUID, Purchase] = field(default_factory=dict)
    contracts: dict[uuid.UUID, Contract] = field(default_factory=dict)  # by purchase id

    @property
    def firms_by_id(self) -> dict[uuid.UUID, rules.FirmFact]:
        return {f.id: f for f in self.firms}

    @property
    def purchases_by_id(self) -> dict[uuid.UUID, rules.PurchaseFact]:
        return {p.id: p for p in self.purchases}


def scoped(query: Select[Any], period: Period) -> Select[Any]:
    """``query`` (which selects or joins ``purchases``) limited to the published purchases of the
    period (drafts are the owner's own business)."""
    query = query.where(Purchase.status != PurchaseStatus.draft.value, Purchase.published_at.is_not(None))
    lower, upper = period.bounds()
    if lower is not None:
        query = query.where(Purchase.published_at >= lower)
    if upper is not None:
        query = query.where(Purchase.published_at < upper)
    return query


async def load(session: AsyncSession, settings: Settings, period: Period = Period()) -> Snapshot:
    """Every published purchase of the period with its opened bids, selection, upheld objections
    and contract, and every intermediary firm with its practitioners' keyed ID hashes."""
    await purchases_service.apply_due_now(session)  # what the time engine owes is applied first
    now = clock.now()
    rows = list(await session.scalars(scoped(select(Purchase), period).order_by(Purchase.published_at, Purchase.ref)))
    by_id = {p.id: p for p in rows}

    # bids: only where they have been opened — never a sealed one
    bids: dict[uuid.UUID, list[rules.BidFact]] = {p.id: [] for p in rows if p.opened_at is not None}
    bid_query = (
        select(Bid)
        .join(Purchase, Purchase.id == Bid.purchase_id)
        .where(Purchase.opened_at.is_not(None), Bid.status == BidStatus.active.value)
        .order_by(Bid.price, Bid.digest)
    )
    for b in await session.scalars(scoped(bid_query, period)):
        if b.purchase_id in bids:
            bids[b.purchase_id].append(
                rules.BidFact(provider_id=b.provider_id, price=b.price, valid=bool(b.valid), excluded=b.excluded)
            )

    selections: dict[uuid.UUID, tuple[Selection, uuid.UUID]] = {}
    sel_query = (
        select(Selection, Bid.provider_id)
        .join(Purchase, Purchase.id == Selection.purchase_id)
        .join(Bid, Bid.id == Selection.winner_bid_id)
        .where(Selection.status == SelectionStatus.current.value)
        .order_by(Selection.round)
    )
    for sel, provider_id in (await session.execute(scoped(sel_query, period))).all():
        selections[sel.purchase_id] = (sel, provider_id)  # the latest current round wins

    upheld: dict[uuid.UUID, list[rules.ObjectionFact]] = {}
    obj_query = (
        select(Objection)
        .join(Purchase, Purchase.id == Objection.purchase_id)
        .where(Objection.status == ObjectionStatus.upheld.value)
        .order_by(Objection.decided_at)
    )
    for o in await session.scalars(scoped(obj_query, period)):
        upheld.setdefault(o.purchase_id, []).append(
            rules.ObjectionFact(reason=o.reason, decision=o.decision or "", decided_at=o.decided_at or o.filed_at)
        )

    contract_rows: dict[uuid.UUID, Contract] = {}
    con_query = select(Contract).join(Purchase, Purchase.id == Contract.purchase_id)
    for c in await session.scalars(scoped(con_query, period)):
        contract_rows[c.purchase_id] = c

    orgs = {
        o.id: o
        for o in await session.scalars(
            select(Organization).where(
                (Organization.kind == OrgKind.provider.value) | Organization.id.in_({p.owner_id for p in rows})
            )
        )
    }
    practitioners: dict[uuid.UUID, list[rules.PractitionerFact]] = {}
    for person in await session.scalars(select(Practitioner).order_by(Practitioner.name)):
        practitioners.setdefault(person.provider_id, []).append(
            rules.PractitionerFact(id_hash=person.id_hash, name=person.name, id_masked=person.id_masked)
        )
    firms = [
        rules.FirmFact(
            id=o.id,
            name=o.name,
            uscc=o.uscc,
            legal_rep=o.legal_rep,
            phone=o.phone,
            practitioners=tuple(practitioners.get(o.id, ())),
        )
        for o in sorted(orgs.values(), key=lambda o: o.name)
        if o.kind == OrgKind.provider.value
    ]
    items = dict(
        (
            await session.execute(
                select(CatalogItem.code, CatalogItem.name).where(CatalogItem.code.in_({p.catalog_code for p in rows}))
            )
        ).all()
    )

    facts = []
    for p in rows:
        sel_winner = selections.get(p.id)
        sel, winner_id = sel_winner if sel_winner else (None, None)
        c = contract_rows.get(p.id)
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
                price=sel.price if sel else None,
                reason=sel.reason if sel else None,
                selected_at=sel.selected_at if sel else None,
                awarded_at=p.awarded_at,
                upheld=tuple(upheld.get(p.id, ())),
                contract=contract_fact(c, settings, now) if c else None,
            )
        )
    return Snapshot(now=now, purchases=facts, firms=firms, orgs=orgs, rows=by_id, contracts=contract_rows)


def contract_fact(c: Contract, settings: Settings, now: datetime) -> rules.ContractFact:
    return rules.ContractFact(
        id=c.id,
        number=c.number,
        status=c.status,
        amount=c.amount_current,
        sign_by=c.sign_by,
        signed_at=c.signed_at,
        due_at=c.due_at_current,
        accepted_at=c.accepted_at,
        invoiced=c.invoiced_total,
        paid=c.paid_total,
        paid_on=c.paid_on,
        payment_deadline=contracts_service.payment_deadline_of(c, settings),
        days_to_payment=contracts_service.days_to_payment(c),
        flags=tuple(contracts_service.flags_of(c, settings, now)),
    )
