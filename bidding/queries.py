"""Reading purchases: the published and the owner's lists, the open purchases a provider may bid
on, the counts of opened bids, and names for display. Reads never write: a list shows each
purchase as of now (:attr:`~bidding.models.Purchase.effective_status`, and the same rule in SQL
for the status filter) without applying what the time engine owes — the worker does that."""

from __future__ import annotations

import base64
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, func, literal, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from bidding import rules
from bidding.models import SEARCHED, Bid, BidStatus, Purchase, PurchaseAvoid, PurchaseStatus
from listings.models import CatalogItem
from listings.services import qualified_codes
from market import clock
from market.actor import Actor
from market.audit.models import AuditHead
from market.audit.service import ChainHead
from market.db import is_postgres
from market.errors import InvalidInput
from market.i18n import gettext as _
from market.identity.models import Organization
from market.settings import Settings

S = PurchaseStatus
PUBLISHED = tuple(s for s in S if s != S.draft)


@dataclass(frozen=True)
class PurchaseFilter:
    status: str | None = None
    q: str | None = None
    catalog_code: str | None = None
    owner_id: uuid.UUID | None = None
    method: str | None = None


def _filtered(query: SelectOfScalar[Purchase], f: PurchaseFilter) -> SelectOfScalar[Purchase]:
    if f.status == S.open:  # the effective status in SQL (bidding.rules.effective_status)
        query = query.where(col(Purchase.status) == S.open, col(Purchase.bid_deadline) > clock.now())
    elif f.status == rules.CLOSING:
        query = query.where(col(Purchase.status) == S.open, col(Purchase.bid_deadline) <= clock.now())
    elif f.status:
        query = query.where(col(Purchase.status) == f.status)
    if f.catalog_code:
        query = query.where(col(Purchase.catalog_code) == f.catalog_code)
    if f.owner_id:
        query = query.where(col(Purchase.owner_id) == f.owner_id)
    if f.method:
        query = query.where(col(Purchase.method) == f.method)
    if f.q:
        text = f.q.strip()
        # the pattern is written into the statement (escaped), not sent as a parameter: a prepared
        # statement's generic plan cannot see it, and PostgreSQL's, chosen after the tenth run on a
        # connection, scans the whole trigram indexes for a two-character text (项目: 40 → 150 ms)
        like = literal(f"%{text}%", String(), literal_execute=True)
        if caseless(text):  # e.g. Chinese: the same rows as ILIKE, without case-folding every row
            query = query.where(or_(*(col(getattr(Purchase, name)).like(like) for name in SEARCHED)))
        else:
            query = query.where(or_(*(col(getattr(Purchase, name)).ilike(like) for name in SEARCHED)))
    return query


def caseless(text: str) -> bool:
    """Whether ``text`` has no character with a case (Chinese, digits, punctuation): then no other
    character folds to one of its characters, and LIKE finds exactly what ILIKE finds — at a
    fraction of the cost on PostgreSQL, whose ILIKE lower-cases each row of a UTF-8 database
    (a scan of a province's purchases for 项目: 45 ms with ILIKE, 19 ms with LIKE)."""
    return text.lower() == text and text.upper() == text


async def _rows(
    session: AsyncSession, query: SelectOfScalar[Purchase], *order: Any, limit: int, offset: int
) -> list[Purchase]:
    """The page's ids first (an index-only walk of ix_purchases_published_order for the public list,
    however deep), then only their rows: a deep OFFSET never reads the rows it skips."""
    keys = query.with_only_columns(col(Purchase.id)).order_by(*order).limit(limit).offset(offset).subquery("keys")
    return list(await session.scalars(select(Purchase).join(keys, keys.c.id == col(Purchase.id)).order_by(*order)))


async def _page(
    session: AsyncSession, query: SelectOfScalar[Purchase], *order: Any, limit: int, offset: int
) -> tuple[list[Purchase], int]:
    """The page, and the total: counted only when the page does not tell it (a page shorter than
    ``limit`` that is not past the end is the last one, so the total is ``offset`` + its length)."""
    rows = await _rows(session, query, *order, limit=limit, offset=offset)
    if len(rows) < limit and (rows or offset == 0):
        return rows, offset + len(rows)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    return rows, int(total or 0)


TRIGRAM = 3  # a search text this long has trigrams: the GIN indexes of pg_trgm find its rows


async def _indexed_page(
    session: AsyncSession, query: SelectOfScalar[Purchase], f: PurchaseFilter, *, limit: int, offset: int
) -> tuple[list[Purchase], int]:
    """A page of a search the trigram indexes serve, and its total, in one statement: the hits
    (id and sort key, from a bitmap scan of the indexes) are materialised once, counted, and the
    page is the first of them by the list's order. Without the fence PostgreSQL, which cannot tell
    how few rows a trigram search finds, walks ``published_at`` backwards through the whole table
    looking for 20 matches (a province, ``q=CG-2026-0123``: 28 ms against 1.5 ms). Short texts (one
    or two characters: 项目) have no trigram; they keep the count and the ordered page (_page).
    The total is kept in :data:`TOTALS` under the purchases' change number read in the same
    statement (:func:`_known_total_page` then serves the next pages of a frequent text)."""
    hits = (
        query.with_only_columns(col(Purchase.id), col(Purchase.published_at))
        .cte("hits")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    page = (
        select(hits.c.id, hits.c.published_at)
        .order_by(hits.c.published_at.desc(), hits.c.id)
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    total = select(func.count()).select_from(hits).scalar_subquery()
    found = (
        await session.execute(
            select(Purchase, total, _purchases_seq())
            .join(page, page.c.id == col(Purchase.id))
            .order_by(page.c.published_at.desc(), page.c.id)
        )
    ).all()
    if found:
        key = _totals_key(session, f, int(found[0][2]))
        if key is not None:
            TOTALS.put(key, int(found[0][1]))
        return [p for p, _n, _seq in found], int(found[0][1])
    if offset == 0:
        return [], 0
    return [], int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def _known_total_page(
    session: AsyncSession,
    query: SelectOfScalar[Purchase],
    f: PurchaseFilter,
    head: ChainHead | None,
    *,
    limit: int,
    offset: int,
) -> tuple[list[Purchase], int] | None:
    """A page of a trigram search whose total is known (:data:`TOTALS`, at the purchases' current
    change number) and frequent enough that walking the list's order (``published_at``, newest
    first, the text tested on each row) reaches the page sooner than reading every hit: about
    ``(offset + limit) * published / hits`` rows walked against ``hits`` rows read, so the walk
    is taken when ``(offset + limit) * published < hits²``. A province's 评估报告 (1,840 hits of
    50,000): ~380 rows walked, 1.4 ms, against 4.5 ms for the fenced page and count. ``None``
    when the total is not known or the text is rare (then :func:`_indexed_page`)."""
    if head is None:
        return None
    seq = await _purchases_seq_at(session, head)
    key = _totals_key(session, f, seq) if seq is not None else None
    hits = TOTALS.get(key) if key is not None else None
    if hits is None or hits * hits <= (offset + limit) * WALK_FLOOR:
        return None
    everything = select(Purchase).where(col(Purchase.status).in_(PUBLISHED))
    published = await _published_total(session, everything, PurchaseFilter(), head)
    if hits * hits <= (offset + limit) * published:
        return None
    rows = await _rows(session, query, col(Purchase.published_at).desc(), col(Purchase.id), limit=limit, offset=offset)
    return rows, hits


WALK_FLOOR = 1000  # no walk unless hits² > (offset + limit) × 1,000: a rare text never counts the list


def published_cursor(p: Purchase) -> str:
    """An opaque position in the published list (newest first): after this purchase."""
    assert p.published_at is not None
    text = f"{clock.ensure_aware(p.published_at).isoformat()}|{p.id.hex}"
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")


def parse_published_cursor(field: str, cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    try:
        moment, hex_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii").split("|")
        return clock.ensure_aware(datetime.fromisoformat(moment)), uuid.UUID(hex=hex_id)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput.field(
            field, _("Not a position in this list: follow the Link of the previous page.")
        ) from None


class Totals:
    """Exact totals of the published list, kept per (database, purchases' change sequence, filter)
    — a small in-process cache (issue 12.8): a two-character search such as 项目 hits 80 % of a
    province's purchases, no index makes counting 40,000 rows cheap, and the count cannot change
    while no purchase changes. Every commit that changes a purchase stamps it with the number of
    its last audit event, taken under the chain head's lock (``bidding.changes``), so the greatest
    ``change_seq`` grows with each such commit (purchases are never deleted) and stands still
    through every other commit — a sign-in, a bid, an invoice: the total counted at that number is
    exact for as long as it stands. A total is stored under the number read *in the same
    statement* as the count. Which number stands at a chain head is kept too (:class:`SeqAtHead`),
    so that a request whose head is known reads nothing; at a new head one index lookup
    (``ix_purchases_change_seq``, backwards) tells whether the purchases changed. Filters whose
    result moves with the clock alone (status ``open`` and ``closing``: the deadline passes without
    a commit) are never cached. Bounded: the least recently used entry goes first."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], int] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple[Any, ...]) -> int | None:
        total = self._entries.get(key)
        if total is not None:
            self._entries.move_to_end(key)
        return total

    def put(self, key: tuple[Any, ...], total: int) -> None:
        self._entries[key] = total
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


TOTALS = Totals()
# (database, chain head seq, chain head hash) → the purchases' greatest change_seq at that head
SEQ_AT_HEAD = Totals(64)


def _database(session: AsyncSession) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=True)


def _totals_key(session: AsyncSession, f: PurchaseFilter, purchases_seq: int) -> tuple[Any, ...] | None:
    """The cache key of ``f``'s total while the purchases' greatest change number is
    ``purchases_seq``, or ``None`` when it must not be cached."""
    if f.status in (S.open, rules.CLOSING):  # depends on clock.now(), not only on the data
        return None
    filter_key = (f.status, f.q.strip() if f.q else f.q, f.catalog_code, f.owner_id, f.method)
    return (_database(session), purchases_seq, filter_key)


def _purchases_seq() -> Any:
    """The purchases' greatest change number (0 when none has one), a scalar subquery."""
    return select(func.coalesce(func.max(col(Purchase.change_seq)), 0)).scalar_subquery()


async def _purchases_seq_at(session: AsyncSession, head: ChainHead) -> int | None:
    """The purchases' greatest change number at the chain head ``head`` (the one this request
    read): remembered per head, else read with the head in one statement (``None`` when the head
    has moved on since the request read it: then nothing is known for ``head``)."""
    known = SEQ_AT_HEAD.get((_database(session), head.seq, head.hash))
    if known is not None:
        return known
    row = (
        await session.execute(
            select(col(AuditHead.seq), col(AuditHead.hash), _purchases_seq()).where(col(AuditHead.id) == 1)
        )
    ).first()
    if row is None:
        return None
    SEQ_AT_HEAD.put((_database(session), int(row[0]), str(row[1])), int(row[2]))
    return int(row[2]) if (int(row[0]), str(row[1])) == (head.seq, head.hash) else None


async def _published_total(
    session: AsyncSession, query: SelectOfScalar[Purchase], f: PurchaseFilter, head: ChainHead | None
) -> int:
    """The number of published purchases ``f`` selects, from :data:`TOTALS` when it holds the
    count at the purchases' current change number (known for ``head``, the chain head this request
    read), else counted — with that number, in the one statement, so that what is stored is exact
    for the number stored with it."""
    count = select(func.count()).select_from(query.order_by(None).subquery())
    if _totals_key(session, f, 0) is None:
        return int(await session.scalar(count) or 0)
    if head is not None:
        seq = await _purchases_seq_at(session, head)
        key = _totals_key(session, f, seq) if seq is not None else None
        cached = TOTALS.get(key) if key is not None else None
        if cached is not None:
            return cached
    row = (await session.execute(select(count.scalar_subquery(), _purchases_seq()))).one()
    total = int(row[0] or 0)
    key = _totals_key(session, f, int(row[1]))
    if key is not None:
        TOTALS.put(key, total)
    return total


async def list_published(
    session: AsyncSession,
    settings: Settings,
    f: PurchaseFilter,
    *,
    limit: int,
    offset: int,
    after: tuple[datetime, uuid.UUID] | None = None,
    head: ChainHead | None = None,
) -> tuple[list[Purchase], int]:
    """One page of the published purchases, newest first: by ``offset`` (numbered pages) or, to
    page deeply, after the position ``after`` (keyset on ``published_at``, id: no OFFSET).
    ``head``: the audit chain head the request read (its ETag's), under which an exact total
    counted before may be reused (:class:`Totals`)."""
    query = _filtered(select(Purchase).where(col(Purchase.status).in_(PUBLISHED)), f)
    if after is None and f.q and len(f.q.strip()) >= TRIGRAM and is_postgres(session):
        known = await _known_total_page(session, query, f, head, limit=limit, offset=offset)
        if known is not None:
            return known
        return await _indexed_page(session, query, f, limit=limit, offset=offset)
    if after is None:
        rows = await _rows(
            session, query, col(Purchase.published_at).desc(), col(Purchase.id), limit=limit, offset=offset
        )
        if len(rows) < limit and (rows or offset == 0):  # the last page tells the total
            return rows, offset + len(rows)
        return rows, await _published_total(session, query, f, head)
    total = await _published_total(session, query, f, head)
    moment, last_id = after
    found = await session.scalars(
        query.where(
            # the first condition bounds the index walk (newest first, from the position on); the OR
            # alone is no index bound and read the list from its start (a page 40,000 deep: 32 ms)
            col(Purchase.published_at) <= moment,
            or_(
                col(Purchase.published_at) < moment,
                and_(col(Purchase.published_at) == moment, col(Purchase.id) > last_id),
            ),
        )
        .order_by(col(Purchase.published_at).desc(), col(Purchase.id))
        .limit(limit)
    )
    return list(found), total


async def list_own(
    session: AsyncSession, actor: Actor, settings: Settings, f: PurchaseFilter, *, limit: int, offset: int
) -> tuple[list[Purchase], int]:
    query = _filtered(select(Purchase).where(col(Purchase.owner_id) == actor.org_id), f)
    return await _page(session, query, col(Purchase.created_at).desc(), col(Purchase.id), limit=limit, offset=offset)


def _eligible(actor: Actor, codes: set[str]) -> SelectOfScalar[Purchase]:
    """Open purchases (deadline ahead) of the items the firm is qualified for, not its own, not
    on the owner's avoid list for it."""
    avoided = (
        select(col(PurchaseAvoid.purchase_id))
        .where(col(PurchaseAvoid.purchase_id) == col(Purchase.id), col(PurchaseAvoid.provider_id) == actor.org_id)
        .exists()
    )
    return select(Purchase).where(
        col(Purchase.status) == S.open,
        col(Purchase.bid_deadline) > clock.now(),
        col(Purchase.catalog_code).in_(sorted(codes)),
        col(Purchase.owner_id) != actor.org_id,
        ~avoided,
    )


async def eligible_open(
    session: AsyncSession, actor: Actor, settings: Settings, *, limit: int, offset: int = 0
) -> tuple[list[Purchase], int]:
    """A page of the open purchases this provider may bid on (qualified for the item today, not
    on the avoid list), soonest deadline first, and how many there are: filtered by the database
    (a province has thousands of open purchases; they were read whole and checked one by one)."""
    if actor.org_id is None:
        return [], 0
    codes = await qualified_codes(session, actor.org_id, clock.today_local())
    if not codes:
        return [], 0
    return await _page(
        session, _eligible(actor, codes), col(Purchase.bid_deadline), col(Purchase.id), limit=limit, offset=offset
    )


async def may_bid_on(session: AsyncSession, actor: Actor, p: Purchase) -> bool:
    """Whether ``p`` is among :func:`eligible_open` for this provider."""
    if actor.org_id is None:
        return False
    codes = await qualified_codes(session, actor.org_id, clock.today_local())
    if p.catalog_code not in codes:
        return False
    found = _eligible(actor, codes).where(col(Purchase.id) == p.id).with_only_columns(col(Purchase.id))
    return await session.scalar(found) is not None


async def opened_counts(session: AsyncSession, p: Purchase) -> tuple[int, int] | None:
    """(bids, valid bids) once the bids are opened; ``None`` while they are sealed."""
    if p.opened_at is None:
        return None
    rows = (
        await session.execute(
            select(col(Bid.valid), func.count())
            .where(col(Bid.purchase_id) == p.id, col(Bid.status) == BidStatus.active)
            .group_by(col(Bid.valid))
        )
    ).all()
    total = sum(int(n) for _v, n in rows)
    valid = sum(int(n) for v, n in rows if v)
    return total, valid


async def names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Organisations' names by id."""
    if not ids:
        return {}
    rows = await session.execute(select(Organization.id, Organization.name).where(col(Organization.id).in_(ids)))
    return {i: n for i, n in rows.all()}


async def catalog_names(session: AsyncSession, codes: set[str]) -> dict[str, str]:
    """Catalog items' names by code."""
    if not codes:
        return {}
    rows = await session.execute(select(CatalogItem.code, CatalogItem.name).where(col(CatalogItem.code).in_(codes)))
    return {c: n for c, n in rows.all()}
