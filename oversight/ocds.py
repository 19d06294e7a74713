"""Open data: published purchases as an OCDS 1.1.5 release package.

One release per contracting process (ocid = the configured prefix + the purchase reference)
showing its current state; the release ``date`` is the last change of the purchase, its contract
or its payments, which is what ``?since=`` filters on. The feed is a changes feed: releases come in
the order of the purchases' change sequence (``bidding.changes``), a page at a time, each page
linking the next by an opaque cursor. What the platform keeps sealed stays out:
before the deadline a release carries no bid count and no bidder; bidders are named (as
tenderers) only once the purchase is awarded, as on the public result page.

Mapping of our selection methods (``tender.procurementMethodDetails`` is in Chinese):

============== ================= ============== ==============================
method         procurementMethod awardCriteria  procurementMethodDetails
============== ================= ============== ==============================
random         open              —              随机抽取
lowest_price   open              priceOnly      最低价
scored         open              ratedCriteria  综合评审
direct         direct            —              直接选取 (rationale: the written reason)
============== ================= ============== ==============================
"""

from __future__ import annotations

import base64
import functools
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import Any, cast

import msgspec
from sqlalchemy import Row, exists, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from bidding.models import (
    Bid,
    BidStatus,
    ChangeNotice,
    Method,
    Purchase,
    PurchaseStatus,
    Question,
    Selection,
    SelectionStatus,
)
from invoices import contracts as contracts_service
from invoices.models import Contract, ContractStatus, Payment
from listings.models import CatalogItem
from market import clock
from market.clock import LOCAL_TZ, to_local
from market.db import among
from market.identity.models import Organization
from market.settings import Settings

VERSION = "1.1"
CURRENCY = "CNY"
ID_SCHEME = "CN-USCC"  # org-id.guide: the unified social credit code of the PRC
CLASSIFICATION_SCHEME = "x_ZJFWSX"  # the county's list of intermediary service items (中介服务事项清单)
MAX_LIMIT = 500

METHODS: dict[str, tuple[str, str | None, str]] = {
    "random": ("open", None, "随机抽取：在全部有效投标中以可验证的随机抽签确定中选人"),
    "lowest_price": ("open", "priceOnly", "最低价：有效投标中报价最低者中选，报价相同的随机抽签"),
    "scored": ("open", "ratedCriteria", "综合评审：按价格、质量、信用加权评分，得分最高者中选"),
    "direct": ("direct", None, "直接选取：采购人在有效投标中选定一家并书面说明理由"),
}
TENDER_STATUS = {
    "open": "active",
    "evaluating": "active",
    "publicity": "active",
    "awarded": "complete",
    "contracted": "complete",
    "cancelled": "cancelled",
    "failed": "unsuccessful",
}


def ocid(prefix: str, ref: str) -> str:
    return f"{prefix}-{ref}"


def stamp(moment: datetime | None) -> str | None:
    """ISO 8601 in China time, to the second (``2026-03-02T09:00:00+08:00``)."""
    return to_local(moment).replace(microsecond=0).isoformat() if moment is not None else None


def day_stamp(day: Any) -> str | None:
    return datetime.combine(day, time(0), LOCAL_TZ).isoformat() if day is not None else None


def value(amount: Decimal | None) -> dict[str, Any] | None:
    # a JSON number; amounts have two decimals, which a double carries exactly enough to print back
    return None if amount is None else {"amount": float(amount), "currency": CURRENCY}


@dataclass(frozen=True, slots=True)
class Party:
    """What a release says of an organisation (the four columns read, not the whole row)."""

    id: uuid.UUID
    name: str
    uscc: str
    address: str


def party_id(org: Party) -> str:
    return f"{ID_SCHEME}-{org.uscc}"


def _clean(data: Any) -> Any:
    """Drop empty values: OCDS omits what is unknown rather than publishing nulls (``None``, ``""``,
    and dicts and lists that are empty once cleaned; items of a list are cleaned, never dropped)."""
    if isinstance(data, dict):
        cleaned = {}
        for k, v in data.items():
            if v is None:
                continue
            if isinstance(v, dict | list):
                v = _clean(v)
                if not v:
                    continue
            elif isinstance(v, str) and not v:
                continue
            cleaned[k] = v
        return cleaned
    if isinstance(data, list):
        return [_clean(v) if isinstance(v, dict | list) else v for v in data]
    return data


def eligibility(qualification: str | None, min_grade: str | None) -> str | None:
    """The item's qualification required and the purchase's minimum credit grade, in Chinese."""
    parts = [qualification] if qualification else []
    if min_grade:
        parts.append(f"投标人截止时信用等级不低于 {min_grade} 级（信用评价公式见 /credit/formula）")
    return "；".join(parts) or None


# A page is read as rows of columns, not ORM objects (no identity map, no instance state: the
# feed only reads them): each row has the attributes of its model's columns (``p.title``).
PurchaseRow = Row[Any]  # the columns of Purchase
ContractRow = Row[Any]  # of Contract
PaymentRow = Row[Any]  # of Payment
SelectionRow = Row[Any]  # of Selection
NoticeRow = Row[Any]  # of ChangeNotice


# the columns a release reads of each (a release that reads another one fails loudly: add it here)
PURCHASE_COLUMNS = (
    "id ref title description status catalog_code budget_cap price_floor method weight_price weight_quality "
    "weight_credit published_at bid_deadline opened_at awarded_at min_grade updated_at owner_id change_seq"
)
CONTRACT_COLUMNS = (
    "id number purchase_id bid_id title status amount amount_current invoiced_total paid_total signed_at "
    "accepted_at due_at_current updated_at void_reason"
)
PAYMENT_COLUMNS = "id contract_id amount paid_on recorded_at"
SELECTION_COLUMNS = "id purchase_id round status price selected_at reason void_reason winner_bid_id"
NOTICE_COLUMNS = "purchase_id seq published_at reason changes"


def _columns(model: Any, names: str) -> list[Any]:
    """These columns of ``model``'s table: selected, they give rows with the model's attribute names
    (a page reads ~30 % of the purchases' and contracts' columns, and no other row at all)."""
    return [model.__table__.c[name] for name in names.split()]


@dataclass(frozen=True, slots=True)
class Item:
    """What a release says of the catalog item (two columns of the page's own query)."""

    name: str
    qualification_required: str | None


@dataclass
class Process:
    """Everything one release says about one purchase (loaded by :func:`load`)."""

    purchase: PurchaseRow
    owner: Party | None = None
    item: Item | None = None
    has_questions: bool = False
    tenderers: int | None = None  # only once the bids are open
    bidders: list[Party] = field(default_factory=list)  # only once awarded
    rounds: list[tuple[SelectionRow, Party]] = field(default_factory=list)
    contract: ContractRow | None = None
    voided: list[ContractRow] = field(default_factory=list)  # drafts of awards voided because not signed in time
    payments: list[PaymentRow] = field(default_factory=list)
    previous_ref: str | None = None
    next_ref: str | None = None
    notices: list[NoticeRow] = field(default_factory=list)  # change notices (变更公告), in order

    @property
    def date(self) -> datetime:
        moments = [self.purchase.updated_at, self.purchase.published_at]
        if self.contract is not None:
            moments.append(self.contract.updated_at)
        moments += [c.updated_at for c in self.voided]
        moments += [pay.recorded_at for pay in self.payments]
        return max(clock.ensure_aware(m) for m in moments if m is not None)


def release(proc: Process, settings: Settings) -> dict[str, Any]:
    p = proc.purchase
    assert proc.owner is not None, "load() completes every process it returns"
    ref = p.ref or ""
    method, criteria, details = METHODS[p.method]
    awarded = p.status in (PurchaseStatus.awarded, PurchaseStatus.contracted)
    parties: dict[str, dict[str, Any]] = {}

    def party(org: Party, *roles: str) -> dict[str, str]:
        key = party_id(org)
        entry = parties.get(key)
        if entry is None:  # built once per organisation (a page names the same ones many times)
            entry = parties[key] = {
                "id": key,
                "name": org.name,
                "identifier": {"scheme": ID_SCHEME, "id": org.uscc, "legalName": org.name},
                "address": {"streetAddress": org.address, "countryName": "中国"},
                "roles": [],
            }
        known = entry["roles"]
        for r in roles:
            if r not in known:
                known.append(r)
        return {"id": key, "name": org.name}

    buyer = party(proc.owner, "buyer", "procuringEntity")
    current = next((s for s, _o in reversed(proc.rounds) if s.status == SelectionStatus.current), None)
    tender: dict[str, Any] = {
        "id": ref,
        "title": p.title,
        "description": p.description,
        "status": TENDER_STATUS.get(p.status),
        "procuringEntity": buyer,
        "items": [
            {
                "id": "1",
                "description": proc.item.name if proc.item else p.catalog_code,
                "classification": {
                    "scheme": CLASSIFICATION_SCHEME,
                    "id": p.catalog_code,
                    "description": proc.item.name if proc.item else None,
                },
                "quantity": 1,
            }
        ],
        "value": value(p.budget_cap),
        "minValue": value(p.price_floor),
        "procurementMethod": method,
        "procurementMethodDetails": details,
        "procurementMethodRationale": current.reason if current is not None and p.method == Method.direct else None,
        "mainProcurementCategory": "services",
        "awardCriteria": criteria,
        "awardCriteriaDetails": (
            f"价格 {p.weight_price}%，质量 {p.weight_quality}%，信用 {p.weight_credit}%"
            if p.method == Method.scored
            else None
        ),
        "submissionMethod": ["electronicSubmission"],
        "tenderPeriod": {"startDate": stamp(p.published_at), "endDate": stamp(p.bid_deadline)},
        "enquiryPeriod": {"startDate": stamp(p.published_at), "endDate": stamp(p.bid_deadline)},
        "hasEnquiries": proc.has_questions,
        "eligibilityCriteria": eligibility(proc.item.qualification_required if proc.item else None, p.min_grade),
    }
    if proc.notices:
        tender["amendments"] = [amendment(ref, n) for n in proc.notices]
    if p.opened_at is not None and proc.tenderers is not None:  # never before the deadline
        tender["numberOfTenderers"] = proc.tenderers
        tender["awardPeriod"] = {"startDate": stamp(p.opened_at), "endDate": stamp(p.awarded_at)}
    if awarded:
        tender["tenderers"] = [party(org, "tenderer") for org in proc.bidders]

    awards = []
    for sel, winner in proc.rounds:
        if sel.status == SelectionStatus.current:
            status = "active" if awarded else ("pending" if p.status == PurchaseStatus.publicity else "cancelled")
        else:
            status = "cancelled"  # overturned by an upheld objection
        awards.append(
            {
                "id": f"{ref}-{sel.round}",
                "title": f"第{sel.round}轮选取结果",
                "status": status,
                "date": stamp(p.awarded_at if status == "active" else sel.selected_at),
                "value": value(sel.price),
                "suppliers": [party(winner, "supplier")],
                "description": f"中选人未在签约期内签订合同，采购人宣布中选无效：{sel.void_reason}"
                if sel.status == SelectionStatus.voided
                else None,
            }
        )

    contracts = []
    round_of = {sel.winner_bid_id: sel.round for sel, _w in proc.rounds}
    for void in proc.voided:  # the winner did not sign in time; the owner voided the award
        contracts.append(
            {
                "id": void.number,
                "awardID": f"{ref}-{round_of.get(void.bid_id, 0)}",
                "title": void.title,
                "description": f"合同作废：中选人未在签约期内签订合同。{void.void_reason or ''}",
                "status": "cancelled",
                "value": value(void.amount),
            }
        )
    c = proc.contract
    if c is not None and current is not None:
        # the row has the attributes account_of reads (Contract's columns)
        paid_up = c.accepted_at is not None and contracts_service.account_of(cast(Contract, c)).paid_up
        transactions = []
        for pay in proc.payments:
            transactions.append(
                {
                    "id": str(pay.id),
                    "date": day_stamp(pay.paid_on),
                    "value": value(pay.amount),
                    "payer": party(proc.owner, "payer"),
                    "payee": party(winner_of(proc, current), "payee"),
                }
            )
        contracts.append(
            {
                "id": c.number,
                "awardID": f"{ref}-{current.round}",
                "title": c.title,
                "status": "pending" if c.signed_at is None else ("terminated" if paid_up else "active"),
                "value": value(c.amount_current),
                "period": {"startDate": stamp(c.signed_at), "endDate": stamp(c.due_at_current)}
                if c.signed_at
                else None,
                "dateSigned": stamp(c.signed_at),
                "implementation": {"transactions": transactions} if transactions else None,
            }
        )

    related = []
    if proc.previous_ref:
        related.append(
            {
                "id": "previous",
                "relationship": ["unsuccessfulProcess"],
                "title": proc.previous_ref,
                "scheme": "ocid",
                "identifier": ocid(settings.ocds_prefix, proc.previous_ref),
            }
        )
    if proc.next_ref:
        related.append(
            {
                "id": "next",
                "relationship": ["replacementProcess"],
                "title": proc.next_ref,
                "scheme": "ocid",
                "identifier": ocid(settings.ocds_prefix, proc.next_ref),
            }
        )

    date = proc.date
    if p.status == PurchaseStatus.cancelled:
        tags = ["tenderCancellation"]
    else:
        tags = ["tender"]
        if awards:
            tags.append("award")
        if contracts:
            tags.append("contract")
        if any(x.get("implementation") for x in contracts):
            tags.append("implementation")
    cleaned: dict[str, Any] = _clean(
        {
            "ocid": ocid(settings.ocds_prefix, ref),
            "id": f"{ref}-{to_local(date).strftime('%Y%m%dT%H%M%S')}",
            "date": stamp(date),
            "tag": tags,
            "initiationType": "tender",
            "language": "zh",
            "parties": list(parties.values()),
            "buyer": buyer,
            "tender": tender,
            "awards": awards,
            "contracts": contracts,
            "relatedProcesses": related,
        }
    )
    return cleaned


# where each term a change notice amends lives in a release
AMENDED_PROPERTY = {
    "description": "tender/description",
    "budget_cap": "tender/value/amount",
    "bid_deadline": "tender/tenderPeriod/endDate",
    "service_days": "tender/contractPeriod/durationInDays",
}


def _former(name: str, before: Any) -> Any:
    if name == "budget_cap":
        return float(Decimal(before))
    if name == "bid_deadline":
        return stamp(datetime.fromisoformat(before))
    return before


def amendment(ref: str, notice: ChangeNotice | NoticeRow) -> dict[str, Any]:
    """A change notice as an OCDS amendment: its reason, and each changed field's former value."""
    changes: list[dict[str, Any]] = json.loads(notice.changes)
    return {
        "id": f"{ref}-BG{notice.seq}",
        "date": stamp(notice.published_at),
        "rationale": notice.reason,
        "description": "变更：" + "、".join(AMENDED_LABEL.get(c["field"], c["field"]) for c in changes),
        "changes": [
            {"property": AMENDED_PROPERTY.get(c["field"], c["field"]), "former_value": _former(c["field"], c["before"])}
            for c in changes
        ],
    }


AMENDED_LABEL = {
    "description": "服务范围",
    "budget_cap": "最高限价",
    "bid_deadline": "投标截止时间",
    "service_days": "服务时限",
}


def winner_of(proc: Process, selection: SelectionRow) -> Party:
    return next(org for sel, org in proc.rounds if sel.id == selection.id)


def encode_cursor(seq: int, purchase_id: uuid.UUID) -> str:
    """An opaque position in the feed: after this purchase's change (``change_seq``, then id)."""
    return base64.urlsafe_b64encode(f"{seq}:{purchase_id.hex}".encode("ascii")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, uuid.UUID] | None:
    """The position a cursor names, or None when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        seq, hex_id = text.split(":")
        return int(seq), uuid.UUID(hex=hex_id)
    except (ValueError, UnicodeDecodeError):
        return None


@functools.cache
def _page_query() -> Any:
    """The feed's page query without its position and length, built once (aliasing ``Purchase``
    and correlating three subqueries costs a few milliseconds of Python per build). Besides the
    purchase's columns: whether it was asked questions, the previous and the next round's
    references, and its catalog item's name and qualification (``code`` is unique)."""
    before, successor = aliased(Purchase), aliased(Purchase)
    return (
        select(*_columns(Purchase, PURCHASE_COLUMNS))
        .add_columns(
            exists().where(col(Question.purchase_id) == col(Purchase.id)).label("x_asked"),
            select(col(before.ref))
            .where(col(before.id) == col(Purchase.previous_id))
            .scalar_subquery()
            .label("x_previous_ref"),
            select(col(successor.ref))
            .where(col(successor.previous_id) == col(Purchase.id), col(successor.ref).is_not(None))
            .scalar_subquery()
            .label("x_next_ref"),
            col(CatalogItem.code).label("x_item_code"),
            col(CatalogItem.name).label("x_item_name"),
            col(CatalogItem.qualification_required).label("x_item_qualification"),
        )
        .outerjoin(CatalogItem, col(CatalogItem.code) == col(Purchase.catalog_code))
        .where(col(Purchase.status) != PurchaseStatus.draft, col(Purchase.ref).is_not(None))
    )


@dataclass
class Page:
    procs: list[Process]
    next_cursor: str | None  # where the next page starts: after the last release of this one


async def load(
    session: AsyncSession,
    settings: Settings,
    since: datetime | None,
    *,
    limit: int,
    after: tuple[int, uuid.UUID] | None = None,
) -> Page:
    """One page of the published purchases changed at or after ``since``, in the order of their
    last change (``change_seq``, then id) after the position ``after``. A purchase that changes
    again while a harvester pages moves to the end of the feed: it is seen again, never skipped.
    Only the page is loaded (keyset on the ``(change_seq, id)`` index, never OFFSET)."""
    query = _page_query()
    if since is not None:
        changed_contract = select(col(Contract.purchase_id)).where(col(Contract.updated_at) >= since)
        paid = select(col(Payment.contract_id)).where(col(Payment.recorded_at) >= since)
        query = query.where(
            or_(
                col(Purchase.updated_at) >= since,
                col(Purchase.id).in_(changed_contract),
                col(Purchase.id).in_(select(col(Contract.purchase_id)).where(col(Contract.id).in_(paid))),
            )
        )
    if after is not None:
        # a row comparison: both databases bound the index scan by it, where the equivalent
        # "seq > s OR (seq = s AND id > i)" made PostgreSQL read the feed from its start and filter
        # (45,000 purchases deep: 77 ms against 0.1 ms)
        query = query.where(tuple_(col(Purchase.change_seq), col(Purchase.id)) > after)
    found = (await session.execute(query.order_by(col(Purchase.change_seq), col(Purchase.id)).limit(limit))).all()
    rows: list[PurchaseRow] = list(found)  # each: the purchase's columns, then the x_ columns of _page_query
    ids = [p.id for p in rows]
    contracts: dict[uuid.UUID, ContractRow] = {}
    voided: dict[uuid.UUID, list[ContractRow]] = {}
    for c in await session.execute(
        select(*_columns(Contract, CONTRACT_COLUMNS))
        .where(among(session, col(Contract.purchase_id), ids))
        .order_by(col(Contract.drafted_at))
    ):
        if c.status == ContractStatus.void:
            voided.setdefault(c.purchase_id, []).append(c)
        else:
            contracts[c.purchase_id] = c
    payments: dict[uuid.UUID, list[PaymentRow]] = {}
    for pay in await session.execute(
        select(*_columns(Payment, PAYMENT_COLUMNS))
        .where(among(session, col(Payment.contract_id), [c.id for c in contracts.values()]))
        .order_by(col(Payment.paid_on), col(Payment.recorded_at))
    ):
        payments.setdefault(pay.contract_id, []).append(pay)
    procs = [
        Process(
            purchase=p,
            contract=contracts.get(p.id),
            voided=voided.get(p.id, []),
            has_questions=bool(p.x_asked),
            previous_ref=p.x_previous_ref,
            next_ref=p.x_next_ref,
        )
        for p in rows
    ]
    for proc in procs:
        if proc.contract is not None:
            proc.payments = payments.get(proc.contract.id, [])
    await _complete(session, procs)
    last = rows[-1] if rows else None
    return Page(procs, encode_cursor(last.change_seq, last.id) if last is not None else None)


async def _complete(session: AsyncSession, procs: list[Process]) -> None:
    """Owners, items, opened bid counts, bidders after award, selection rounds, change notices."""
    ids = [proc.purchase.id for proc in procs]
    if not ids:
        return
    rows = {proc.purchase.id: proc.purchase for proc in procs}
    # the active bidders of the opened purchases, in one query (an index-only scan of
    # uq_bids_one_active): how many tendered, and — once awarded — who
    opened = [p.id for p in rows.values() if p.opened_at is not None]
    bidders_of: dict[uuid.UUID, set[uuid.UUID]] = {}
    for purchase_id, provider_id in await session.execute(
        select(col(Bid.purchase_id), col(Bid.provider_id)).where(
            among(session, col(Bid.purchase_id), opened), col(Bid.status) == BidStatus.active
        )
    ):
        bidders_of.setdefault(purchase_id, set()).add(provider_id)
    counts = {purchase_id: len(found) for purchase_id, found in bidders_of.items()}
    awarded = {p.id for p in rows.values() if p.status in (PurchaseStatus.awarded, PurchaseStatus.contracted)}
    bidder_ids = {purchase_id: found for purchase_id, found in bidders_of.items() if purchase_id in awarded}
    selections: list[SelectionRow] = list(
        await session.execute(
            select(*_columns(Selection, SELECTION_COLUMNS), col(Bid.provider_id).label("x_winner_id"))
            .join(Bid, col(Bid.id) == col(Selection.winner_bid_id))
            .where(among(session, col(Selection.purchase_id), ids))
            .order_by(col(Selection.round))
        )
    )
    org_ids = {p.owner_id for p in rows.values()} | {s.x_winner_id for s in selections}
    for found in bidder_ids.values():
        org_ids |= found
    orgs = {
        org_id: Party(org_id, name, uscc, address)
        for org_id, name, uscc, address in await session.execute(
            select(
                col(Organization.id), col(Organization.name), col(Organization.uscc), col(Organization.address)
            ).where(among(session, col(Organization.id), org_ids))
        )
    }
    notices = list(
        await session.execute(
            select(*_columns(ChangeNotice, NOTICE_COLUMNS))
            .where(among(session, col(ChangeNotice.purchase_id), ids))
            .order_by(col(ChangeNotice.seq))
        )
    )
    rounds: dict[uuid.UUID, list[tuple[SelectionRow, Party]]] = {}
    for sel in selections:  # in round order
        rounds.setdefault(sel.purchase_id, []).append((sel, orgs[sel.x_winner_id]))
    notices_of: dict[uuid.UUID, list[NoticeRow]] = {}
    for notice in notices:  # in order
        notices_of.setdefault(notice.purchase_id, []).append(notice)
    for proc in procs:
        p = proc.purchase
        proc.owner = orgs[p.owner_id]
        proc.item = Item(p.x_item_name, p.x_item_qualification) if p.x_item_code is not None else None
        if p.opened_at is not None:
            proc.tenderers = int(counts.get(p.id, 0))
        proc.bidders = sorted((orgs[i] for i in bidder_ids.get(p.id, ())), key=lambda o: o.name)
        proc.rounds = rounds.get(p.id, [])
        proc.notices = notices_of.get(p.id, [])


def package(
    procs: list[Process], settings: Settings, *, uri: str, next_uri: str | None, now: datetime
) -> dict[str, Any]:
    releases = [release(proc, settings) for proc in procs]
    published = max((proc.date for proc in procs), default=now)
    data: dict[str, Any] = {
        "uri": uri,
        "version": VERSION,
        "publishedDate": stamp(published),
        "publisher": {"name": settings.ocds_publisher, "uri": settings.base_url},
        "releases": releases,
    }
    if next_uri:
        data["links"] = {"next": next_uri}
    return data


def dumps(data: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, the same bytes as ``json.dumps(data, ensure_ascii=False,
    separators=(",", ":"))``, about 3.5 times faster (a page of 100 releases is ~440 KB)."""
    return msgspec.json.encode(data)
