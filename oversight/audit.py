"""Reading the audit trail (SPEC §5 "Audit trail") as the finance bureau and the operator do:
every event, a page at a time, filtered by action, acting organisation, kind of record and
period, and found by a reference (a purchase, contract or invoice number, or a record's id);
each event with its data, the user and organisation that acted, a label in the reader's
language and a link to the page of its record; the same events as CSV.

Recording and verifying the chain stays in :mod:`market.audit`; this module only reads, so it
never recomputes the chain (that is an explicit action of its own).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bidding.models import Bid, Purchase
from invoices.models import Contract, Invoice
from listings.models import CatalogItem
from market import csvout
from market.audit.models import AuditEvent
from market.clock import to_local
from market.db import distinct_values
from market.i18n import gettext as _
from market.identity.models import Organization, User
from market.terms import N_, label, register
from oversight.facts import Period

# Human labels of the actions (a code without a label is shown as it is)
ACTIONS: dict[str, str] = {
    "agreement.proposed": N_("Supplementary agreement proposed"),
    "agreement.signature": N_("Supplementary agreement signed by one party"),
    "agreement.signed": N_("Supplementary agreement signed"),
    "agreement.withdrawn": N_("Supplementary agreement withdrawn"),
    "bid.opened": N_("Bid opened"),
    "bid.price_explained": N_("Low price explained"),
    "catalog.imported": N_("Catalog imported"),
    "catalog.item_created": N_("Catalog item created"),
    "catalog.item_updated": N_("Catalog item changed"),
    "credit.fact_counts_changed": N_("Credit fact counted or set aside"),
    "credit.fact_recorded": N_("Credit fact recorded"),
    "credit.grade_changed": N_("Credit grade changed"),
    "contract.drafted": N_("Contract drafted"),
    "contract.signature": N_("Contract signed by one party"),
    "contract.signed": N_("Contract signed"),
    "delivery.accepted": N_("Delivery accepted"),
    "delivery.returned": N_("Delivery returned"),
    "delivery.submitted": N_("Delivery submitted"),
    "document.rendered": N_("Document rendered"),
    "file.uploaded": N_("File uploaded"),
    "finance.exported": N_("Finance export downloaded"),
    "invoice.credit_note_issued": N_("Credit note issued"),
    "invoice.issued": N_("Invoice issued"),
    "objection.filed": N_("Objection filed"),
    "objection.upheld": N_("Objection upheld"),
    "objection.rejected": N_("Objection rejected"),
    "objection.superseded": N_("Objection superseded"),
    "organization.approved": N_("Organisation approved"),
    "organization.blacklisted": N_("Organisation blacklisted"),
    "organization.created": N_("Organisation registered"),
    "organization.licence_replaced": N_("Business licence replaced"),
    "organization.profile_updated": N_("Organisation profile changed"),
    "organization.registered": N_("Organisation registered"),
    "organization.reinstated": N_("Organisation reinstated"),
    "organization.rejected": N_("Organisation rejected"),
    "organization.resubmitted": N_("Registration resubmitted"),
    "organization.suspended": N_("Organisation suspended"),
    "organization.suspension_ended": N_("Suspension ended"),
    "payment.recorded": N_("Payment recorded"),
    "practitioner.added": N_("Practitioner added"),
    "practitioner.removed": N_("Practitioner removed"),
    "purchase.abnormal_prices_flagged": N_("Abnormally low prices flagged"),
    "purchase.awarded": N_("Purchase awarded"),
    "purchase.cancelled": N_("Purchase cancelled"),
    "purchase.closed": N_("Bidding closed"),
    "purchase.contract_linked": N_("Contract linked to the purchase"),
    "purchase.contracted": N_("Purchase contracted"),
    "purchase.drafted": N_("Purchase drafted"),
    "purchase.edited": N_("Purchase draft edited"),
    "purchase.explanations_expired": N_("Price explanations expired"),
    "purchase.failed": N_("Purchase failed"),
    "purchase.published": N_("Purchase published"),
    "purchase.reopened": N_("Purchase reopened after an objection"),
    "purchase.republished": N_("Purchase republished"),
    "purchase.reselected": N_("Winner selected again"),
    "purchase.selected": N_("Winner selected"),
    "purchase.winner_excluded": N_("Winner excluded"),
    "qualification.approved": N_("Qualification approved"),
    "qualification.changed": N_("Qualification changed"),
    "qualification.rejected": N_("Qualification rejected"),
    "qualification.submitted": N_("Qualification submitted"),
    "qualification.withdrawn": N_("Qualification withdrawn"),
    "question.answered": N_("Question answered"),
    "question.asked": N_("Question asked"),
    "rating.given": N_("Rating given"),
    "user.created": N_("User created"),
    "violation.recorded": N_("Violation recorded"),
    "violation.appealed": N_("Violation appealed"),
    "violation.appeal_decided": N_("Violation appeal decided"),
    "violation.final": N_("Violation points final"),
    "violation.threshold_reached": N_("Violation points threshold reached"),
    "user.login": N_("Signed in"),
    "user.session_revoked": N_("Signed out"),
}
ENTITY_TYPES: dict[str, str] = {
    "bid": N_("Bid"),
    "catalog_item": N_("Catalog item"),
    "export": N_("Export"),
    "contract": N_("Contract"),
    "file": N_("File"),
    "invoice": N_("Invoice"),
    "objection": N_("Objection"),
    "organization": N_("Organisation"),
    "practitioner": N_("Practitioner"),
    "purchase": N_("Purchase"),
    "qualification": N_("Qualification"),
    "question": N_("Question"),
    "user": N_("User"),
    "violation": N_("Violation"),
}
register("audit_action", ACTIONS)
register("audit_entity", ENTITY_TYPES)

CSV_HEADERS = [
    N_("Sequence"),
    N_("Time"),
    N_("Action"),
    N_("Action code"),
    N_("Record"),
    N_("Record id"),
    N_("User"),
    N_("Organisation"),
    N_("Role"),
    N_("Data"),
    N_("Hash"),
]


@dataclass(frozen=True)
class AuditFilter:
    """Which events: every field is optional (none: the whole chain)."""

    action: str | None = None
    org_id: uuid.UUID | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    ref: str | None = None
    period: Period = field(default_factory=Period)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def _referenced_ids(session: AsyncSession, ref: str) -> list[str]:
    """The ids of the records a reference names: a purchase (CG-…), contract or invoice number."""
    found: list[str] = []
    for column, id_column in (
        (col(Purchase.ref), col(Purchase.id)),
        (col(Contract.number), col(Contract.id)),
        (col(Invoice.number), col(Invoice.id)),
    ):
        rows = await session.scalars(select(id_column).where(func.upper(column) == ref.upper()))
        found.extend(str(i) for i in rows)
    return found


async def query(session: AsyncSession, f: AuditFilter) -> Select[AuditEvent]:
    """The events ``f`` chooses, newest first."""
    stmt = select(AuditEvent)
    if f.action:
        stmt = stmt.where(col(AuditEvent.action) == f.action)
    if f.org_id:
        stmt = stmt.where(col(AuditEvent.actor_org_id) == f.org_id)
    if f.entity_type:
        stmt = stmt.where(col(AuditEvent.entity_type) == f.entity_type)
    if f.entity_id:
        stmt = stmt.where(col(AuditEvent.entity_id) == f.entity_id)
    lower, upper = f.period.bounds()
    if lower:
        stmt = stmt.where(col(AuditEvent.occurred_at) >= lower)
    if upper:
        stmt = stmt.where(col(AuditEvent.occurred_at) < upper)
    if f.ref:
        # the record itself, and every event whose data names it (its bids, its contract, …)
        ids = await _referenced_ids(session, f.ref)
        terms = [f.ref, *ids]
        stmt = stmt.where(
            or_(
                col(AuditEvent.entity_id).in_(terms),
                *(col(AuditEvent.data).like(_like(t), escape="\\") for t in terms),
            )
        )
    return stmt.order_by(col(AuditEvent.seq).desc())


async def search(
    session: AsyncSession, f: AuditFilter, *, limit: int | None, offset: int = 0
) -> tuple[list[AuditEvent], int]:
    stmt = await query(session, f)
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = list(await session.scalars(stmt.offset(offset)))
    return rows, total


@dataclass(frozen=True)
class Shown:
    """One event as people read it."""

    ev: AuditEvent
    action: str
    entity: str
    user: str | None
    org: str | None
    data: list[tuple[str, str]]
    url: str | None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "—"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def data_items(ev: AuditEvent) -> list[tuple[str, str]]:
    """The event's data as (key, text) pairs, nested values as compact JSON."""
    try:
        data = json.loads(ev.data)
    except ValueError:
        return [("", ev.data)]
    if not isinstance(data, dict):
        return [("", _text(data))]
    return [(str(k), _text(v)) for k, v in data.items()]


def _purchase_of(data: dict[str, Any]) -> str | None:
    value = data.get("purchase_id")
    return str(value) if value else None


def _url(ev: AuditEvent, data: dict[str, Any], role: str, ctx: dict[str, dict[str, Any]]) -> str | None:
    kind, entity = ev.entity_type, ev.entity_id
    if kind in ("purchase", "bid", "question", "objection"):
        purchase = entity if kind == "purchase" else _purchase_of(data) or ctx["bid_purchase"].get(entity)
        # a draft is its owner's alone: no page for anyone else
        return f"/workspace/purchases/{purchase}" if purchase in ctx["published"] else None
    if kind == "contract":
        return f"/workspace/contracts/{entity}"
    if kind == "invoice":
        return f"/workspace/invoices/{entity}"
    if kind == "organization":
        if role == "admin":
            return f"/admin/organizations/{entity}"
        org = ctx["orgs"].get(entity)
        if org is not None and org.kind == "provider":
            return f"/finance/firms/{entity}"
        return None
    if kind == "violation":
        return f"/admin/violations/{entity}" if role == "admin" else None
    if kind == "catalog_item":
        code = data.get("code") or ctx["catalog"].get(entity)
        return f"/catalog/{code}" if code else None
    return None


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


async def present(session: AsyncSession, events: Sequence[AuditEvent], role: str) -> list[Shown]:
    """The events with their names, labels, data and links (a few queries for the whole page)."""
    user_ids = {ev.actor_user_id for ev in events if ev.actor_user_id}
    org_ids = {ev.actor_org_id for ev in events if ev.actor_org_id}
    org_ids |= {u for ev in events if ev.entity_type == "organization" and (u := _uuid(ev.entity_id))}
    bid_ids = {u for ev in events if ev.entity_type == "bid" and (u := _uuid(ev.entity_id))}
    item_ids = {u for ev in events if ev.entity_type == "catalog_item" and (u := _uuid(ev.entity_id))}
    users = (
        {u.id: u.display_name for u in await session.scalars(select(User).where(col(User.id).in_(user_ids)))}
        if user_ids
        else {}
    )
    orgs = (
        {str(o.id): o for o in await session.scalars(select(Organization).where(col(Organization.id).in_(org_ids)))}
        if org_ids
        else {}
    )
    bid_purchase = (
        {
            str(b): str(p)
            for b, p in await session.execute(select(col(Bid.id), col(Bid.purchase_id)).where(col(Bid.id).in_(bid_ids)))
        }
        if bid_ids
        else {}
    )
    catalog = (
        {
            str(i): c
            for i, c in await session.execute(
                select(col(CatalogItem.id), col(CatalogItem.code)).where(col(CatalogItem.id).in_(item_ids))
            )
        }
        if item_ids
        else {}
    )
    purchase_ids = {u for ev in events if ev.entity_type == "purchase" and (u := _uuid(ev.entity_id))}
    for ev in events:
        if ev.entity_type in ("bid", "question", "objection") and '"purchase_id"' in ev.data:
            try:
                found = _uuid(str(json.loads(ev.data).get("purchase_id") or ""))
            except ValueError:
                found = None
            if found:
                purchase_ids.add(found)
    purchase_ids |= {u for p in bid_purchase.values() if (u := _uuid(p))}
    published = (
        {
            str(i): True
            for i in await session.scalars(
                select(col(Purchase.id)).where(col(Purchase.id).in_(purchase_ids), col(Purchase.status) != "draft")
            )
        }
        if purchase_ids
        else {}
    )
    ctx: dict[str, dict[str, Any]] = {
        "orgs": orgs,
        "bid_purchase": bid_purchase,
        "catalog": catalog,
        "published": published,
    }
    shown = []
    for ev in events:
        try:
            data = json.loads(ev.data)
        except ValueError:
            data = {}
        org = orgs.get(str(ev.actor_org_id)) if ev.actor_org_id else None
        shown.append(
            Shown(
                ev=ev,
                action=label(ev.action, "audit_action"),
                entity=label(ev.entity_type, "audit_entity"),
                user=users.get(ev.actor_user_id) if ev.actor_user_id else None,
                org=org.name if org is not None else None,
                data=data_items(ev),
                url=_url(ev, data if isinstance(data, dict) else {}, role, ctx),
            )
        )
    return shown


async def choices(session: AsyncSession) -> dict[str, list[tuple[str, str]]]:
    """What the filters offer: the actions and kinds of record in the chain (labelled), and the
    organisations that acted."""
    # each a walk of the column's index (the chain holds half a million events at province size)
    table = AuditEvent.__tablename__
    actions = sorted(
        ((a, label(a, "audit_action")) for a in await distinct_values(session, table, "action")),
        key=lambda pair: pair[1],
    )
    entities = sorted(
        ((e, label(e, "audit_entity")) for e in await distinct_values(session, table, "entity_type")),
        key=lambda pair: pair[1],
    )
    # one probe of the actor index per organisation (a few thousand), not a scan of the chain
    acted = select(col(AuditEvent.seq)).where(col(AuditEvent.actor_org_id) == col(Organization.id)).exists()
    orgs = sorted(
        (
            (str(i), name)
            for i, name in await session.execute(select(col(Organization.id), col(Organization.name)).where(acted))
        ),
        key=lambda pair: pair[1],
    )
    return {"actions": actions, "entities": entities, "orgs": orgs}


def _moment(value: datetime) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M:%S")


def to_csv(shown: Sequence[Shown]) -> bytes:
    """The events as CSV through the one writer of every export (:mod:`market.csvout`: UTF-8 with a
    byte-order mark, every text cell guarded against formula injection)."""
    rows: list[list[csvout.Value]] = [
        [
            s.ev.seq,
            _moment(s.ev.occurred_at),
            s.action,
            s.ev.action,
            s.entity,
            s.ev.entity_id,
            s.user or "",
            s.org or "",
            label(s.ev.actor_role, "role"),
            s.ev.data,
            s.ev.hash,
        ]
        for s in shown
    ]
    return csvout.to_csv([_(h) for h in CSV_HEADERS], rows)
