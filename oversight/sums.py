"""The finance summary's money and competition figures, aggregated by the database.

One row per published purchase of the period is never loaded: spending per group (owner, catalog,
method, funding, China month), the totals and the competition figures come from ``GROUP BY``
queries over purchases, their current selection (the latest current round, picked with a window
function), their opened bids (counted per purchase) and their contract's running totals. The
numbers are the same as :func:`oversight.rules.spending`, :func:`~oversight.rules.total` and
:func:`~oversight.rules.competition` over the loaded facts (a demo test compares them).

Sealing holds here as in :mod:`oversight.facts`: bids are counted only for purchases whose bids
have been opened (``opened_at`` set).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, Integer, String, case, cast, func, literal, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from bidding.models import Bid, BidStatus, Purchase, Selection, SelectionStatus
from invoices.models import Contract, ContractStatus
from listings.models import CatalogItem
from market.identity.models import Organization
from market.money import MoneyType
from oversight import rules
from oversight.facts import Period, scoped

ZERO = rules.ZERO


def local_month(column: Any, dialect: str) -> ColumnElement[str]:
    """``YYYY-MM`` of a UTC moment in China time (UTC+8 all year: China keeps no summer time)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM")
    return func.strftime("%Y-%m", column, "+8 hours")


_MARGIN = 1e-9  # ratios are bound as floats: a hair wider, so that rounding never drops a candidate


def _ratio(value: float) -> ColumnElement[float]:
    # typed as a float: a bare number multiplied with a money column would be bound as money
    # (rounded to the cent, and in cents on SQLite, where 0.5 became 50)
    return literal(value, Float())


def above(ratio: Decimal) -> ColumnElement[float]:
    """A ratio to compare a money column with from below: a hair larger (a superset)."""
    return _ratio(float(ratio) * (1 + _MARGIN))


def below(ratio: Decimal) -> ColumnElement[float]:
    """A ratio to compare a money column with from above: a hair smaller (a superset)."""
    return _ratio(float(ratio) * (1 - _MARGIN))


def bid_summary() -> Any:
    """Per purchase, over its active bids: how many, how many valid, the highest valid price, and
    whether two of them share a price (fewer distinct prices than bids) — one ``GROUP BY``."""
    return (
        select(
            col(Bid.purchase_id).label("purchase_id"),
            func.count().label("bids"),
            func.sum(case((col(Bid.valid).is_(True), 1), else_=0)).label("valid"),
            type_coerce(func.max(case((col(Bid.valid).is_(True), col(Bid.price)))), MoneyType).label("highest"),
            func.count(func.distinct(col(Bid.price))).label("prices"),
        )
        .where(col(Bid.status) == BidStatus.active)
        .group_by(col(Bid.purchase_id))
        .subquery("bid_summary")
    )


def current_selections(*columns: Any, of: Any = None) -> Any:
    """The current selection of each purchase (of the purchases ``of`` selects, or of all): the
    latest current round, as the facts pick it (a round is unique per purchase, so no later
    current round exists — an anti-join, which the database hashes instead of sorting every
    selection by round): its purchase, price and winner, and ``columns`` of the selection or of
    the winning bid."""
    later = aliased(Selection)
    query = (
        select(
            col(Selection.purchase_id).label("purchase_id"),
            col(Selection.price).label("price"),
            col(Bid.provider_id).label("winner_id"),
            *columns,
        )
        .join(Bid, col(Bid.id) == col(Selection.winner_bid_id))
        .where(
            col(Selection.status) == SelectionStatus.current,
            ~select(col(later.id))
            .where(
                col(later.purchase_id) == col(Selection.purchase_id),
                col(later.status) == SelectionStatus.current,
                col(later.round) > col(Selection.round),
            )
            .exists(),
        )
    )
    if of is not None:
        query = query.where(col(Selection.purchase_id).in_(of))
    return query.subquery("current")


def _facts(period: Period) -> Any:
    """Per published purchase of the period: its status, cap, method, current price and winner,
    opened-bid counts (and the highest valid price, the prices shared) and contract totals — as a
    subquery the figures aggregate."""
    current = current_selections()
    bids = bid_summary()
    opened = col(Purchase.opened_at).is_not(None)
    query = (
        select(
            col(Purchase.id).label("id"),
            col(Purchase.owner_id).label("owner_id"),
            col(Purchase.catalog_code).label("catalog_code"),
            col(Purchase.method).label("method"),
            col(Purchase.funding).label("funding"),
            col(Purchase.published_at).label("published_at"),
            col(Purchase.status).label("status"),
            col(Purchase.budget_cap).label("cap"),
            current.c.price.label("price"),
            current.c.winner_id.label("winner_id"),
            case((opened, 1), else_=0).label("opened"),
            case((opened, func.coalesce(bids.c.bids, 0)), else_=0).label("bids"),
            case((opened, func.coalesce(bids.c.valid, 0)), else_=0).label("valid"),
            case((opened & (bids.c.bids > bids.c.prices), 1), else_=0).label("shared_price"),
            bids.c.highest.label("highest"),
            col(Contract.id).label("contract_id"),
            col(Contract.signed_at).label("signed_at"),
            col(Contract.amount_current).label("amount"),
            col(Contract.invoiced_total).label("invoiced"),
            col(Contract.paid_total).label("paid"),
        )
        .select_from(Purchase)
        .outerjoin(current, current.c.purchase_id == col(Purchase.id))
        .outerjoin(bids, bids.c.purchase_id == col(Purchase.id))
        .outerjoin(
            Contract,
            (col(Contract.purchase_id) == col(Purchase.id)) & (col(Contract.status) != ContractStatus.void),
        )
    )
    return scoped(query, period).subquery("facts")


def _money(expr: Any) -> Any:
    return type_coerce(func.sum(expr), MoneyType)


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _spending_columns(f: Any) -> list[Any]:
    awarded = f.c.status.in_(rules.AWARDED) & f.c.price.is_not(None)
    signed = f.c.contract_id.is_not(None) & f.c.signed_at.is_not(None)
    return [
        func.count().label("purchases"),
        _count(f.c.status.in_(rules.IN_PROGRESS)).label("in_progress"),
        _count(f.c.status == "failed").label("failed"),
        _count(f.c.status == "cancelled").label("cancelled"),
        _count(awarded).label("awarded"),
        _money(case((awarded, f.c.cap))).label("cap_awarded"),
        _money(case((awarded, f.c.price))).label("awarded_amount"),
        _count(signed).label("contracted"),
        _money(case((signed, f.c.amount))).label("contracted_amount"),
        _money(f.c.invoiced).label("invoiced"),
        _money(f.c.paid).label("paid"),
    ]


def _spending(key: str, row: Any) -> rules.Spending:
    return rules.Spending(
        key=key,
        purchases=int(row.purchases),
        in_progress=int(row.in_progress),
        awarded=int(row.awarded),
        failed=int(row.failed),
        cancelled=int(row.cancelled),
        cap_awarded=row.cap_awarded or ZERO,
        awarded_amount=row.awarded_amount or ZERO,
        contracted=int(row.contracted),
        contracted_amount=row.contracted_amount or ZERO,
        invoiced=row.invoiced or ZERO,
        paid=row.paid or ZERO,
    )


def _competition_columns(f: Any) -> list[Any]:
    opened = f.c.opened == 1
    selected = f.c.status.in_(rules.SELECTED) & f.c.winner_id.is_not(None) & f.c.price.is_not(None)
    direct = selected & (f.c.method == "direct")
    return [
        _count(opened).label("opened"),
        type_coerce(func.coalesce(func.sum(f.c.bids), 0), Integer).label("bids"),
        type_coerce(func.coalesce(func.sum(f.c.valid), 0), Integer).label("valid"),
        _count(opened & (f.c.valid == 1)).label("single"),
        _count(opened & (f.c.valid == 0)).label("none"),
        _count(selected).label("selected"),
        _count(direct).label("direct"),
        _money(case((selected, f.c.price))).label("selected_amount"),
        _money(case((direct, f.c.price))).label("direct_amount"),
    ]


def _competition(row: Any) -> rules.Competition:
    return rules.Competition(
        opened=int(row.opened),
        bids=int(row.bids),
        valid_bids=int(row.valid),
        single_bid=int(row.single),
        no_valid_bid=int(row.none),
        selected=int(row.selected),
        direct=int(row.direct),
        selected_amount=row.selected_amount or ZERO,
        direct_amount=row.direct_amount or ZERO,
    )


def _sum(name: str, items: list[Any], start: Any) -> Any:
    return sum((getattr(i, name) for i in items), start)


@dataclass
class Figures:
    rows: list[rules.Spending]  # per group
    total: rules.Spending
    competition: rules.Competition
    # what the same scan tells of the red flags read from the bids (oversight.counts.bid_flags)
    shared_prices: list[uuid.UUID] = field(default_factory=list)  # opened purchases where two bids share a price
    single_bid: int = 0  # opened purchases in evaluation or selected with one valid bid
    low_price_candidates: list[uuid.UUID] = field(default_factory=list)  # oversight.candidates.low_price


def _ids(column: Any, dialect: str) -> Any:
    """The non-null ids of ``column`` in a group, as one comma-separated text."""
    if dialect == "postgresql":
        return func.string_agg(cast(column, String), literal(","))
    return type_coerce(func.group_concat(column, ","), String)


def _flag_columns(f: Any, t: rules.Thresholds, dialect: str) -> list[Any]:
    single = (f.c.opened == 1) & (f.c.valid == 1) & f.c.status.in_((*rules.SELECTED, "evaluating"))
    low = f.c.status.in_(rules.SELECTED) & or_(
        f.c.price < f.c.cap * above(t.low_price_ratio), f.c.price < f.c.highest * above(t.abnormal_low_ratio)
    )
    return [
        _ids(case((f.c.shared_price == 1, f.c.id)), dialect).label("shared_prices"),
        _count(single).label("single_bid_flags"),
        _ids(case((low, f.c.id)), dialect).label("low_price_candidates"),
    ]


async def figures(session: AsyncSession, period: Period, group_by: str, t: rules.Thresholds) -> Figures:
    """:func:`oversight.rules.spending`, :func:`~oversight.rules.total` and
    :func:`~oversight.rules.competition` in one ``GROUP BY`` query: one row per group (months in
    calendar order, other groups by awarded amount, largest first, then purchases, then key); the
    total and the competition are the sums of the groups' (every figure is a count or a sum). The
    same scan counts the single bids and names the purchases where two bids share a price and the
    low-price candidates (with the thresholds ``t``)."""
    dialect = session.get_bind().dialect.name
    f = _facts(period)
    if group_by == "month":
        key: Any = local_month(f.c.published_at, dialect)
    elif group_by == "owner":
        key = f.c.owner_id
    else:
        key = getattr(f.c, group_by if group_by != "catalog" else "catalog_code")
    query = (
        select(key.label("key"), *_spending_columns(f), *_competition_columns(f), *_flag_columns(f, t, dialect))
        .select_from(f)
        .group_by(key)
    )
    found = (await session.execute(query)).all()
    rows = [_spending(str(r.key), r) for r in found]
    groups = [_competition(r) for r in found]
    total = rules.Spending("total")
    for name in ("purchases", "in_progress", "awarded", "failed", "cancelled", "contracted"):
        setattr(total, name, _sum(name, rows, 0))
    for name in ("cap_awarded", "awarded_amount", "contracted_amount", "invoiced", "paid"):
        setattr(total, name, _sum(name, rows, ZERO))
    competition = rules.Competition()
    for name in ("opened", "bids", "valid_bids", "single_bid", "no_valid_bid", "selected", "direct"):
        setattr(competition, name, _sum(name, groups, 0))
    for name in ("selected_amount", "direct_amount"):
        setattr(competition, name, _sum(name, groups, ZERO))
    if group_by == "month":
        rows.sort(key=lambda r: r.key)
    else:
        rows.sort(key=lambda r: (-r.awarded_amount, -r.purchases, r.key))
    return Figures(
        rows,
        total,
        competition,
        shared_prices=[uuid.UUID(i) for r in found if r.shared_prices for i in r.shared_prices.split(",")],
        single_bid=sum(int(r.single_bid_flags) for r in found),
        low_price_candidates=[
            uuid.UUID(i) for r in found if r.low_price_candidates for i in r.low_price_candidates.split(",")
        ],
    )


async def spending(session: AsyncSession, period: Period, group_by: str) -> list[rules.Spending]:
    """:func:`oversight.rules.spending` in SQL (:func:`figures`)."""
    return (await figures(session, period, group_by, rules.Thresholds())).rows


async def labels(session: AsyncSession, rows: list[rules.Spending], group_by: str) -> dict[str, str]:
    """The names of the groups shown (owners' names; catalog code and name)."""
    keys = [r.key for r in rows]
    if not keys:
        return {}
    if group_by == "owner":
        found = await session.execute(
            select(col(Organization.id), col(Organization.name)).where(
                col(Organization.id).in_([uuid.UUID(k) for k in keys])
            )
        )
        return {str(i): name for i, name in found.all()}
    if group_by == "catalog":
        names = dict(
            (
                await session.execute(
                    select(col(CatalogItem.code), col(CatalogItem.name)).where(col(CatalogItem.code).in_(keys))
                )
            ).all()
        )
        return {k: f"{k} {names.get(k, '')}".strip() for k in keys}
    return {}


def _days_to_payment(dialect: str) -> Any:
    """Calendar days from the acceptance's China date to the payment date, never below 0
    (:func:`invoices.rules.days_to_payment`)."""
    accepted, paid = col(Contract.accepted_at), col(Contract.paid_on)
    if dialect == "postgresql":
        days: Any = paid - func.date(func.timezone("Asia/Shanghai", accepted))
    else:
        days = type_coerce(func.julianday(paid) - func.julianday(func.date(accepted, "+8 hours")), Integer)
    return case((days > 0, days), else_=0)


async def timeliness(session: AsyncSession, period: Period, flag_counts: Mapping[str, int]) -> rules.Timeliness:
    """:func:`oversight.rules.timeliness` with the counts and the days to payment from the
    database; the late contracts from the red flags' counts (``flag_counts``: per code, as
    :func:`oversight.counts.flag_counts` gives them — a contract carries each of its flags once)."""
    dialect = session.get_bind().dialect.name
    base = (
        select()
        .select_from(Purchase)
        .join(Contract, col(Contract.purchase_id) == col(Purchase.id))
        .where(col(Contract.status) != ContractStatus.void)  # a voided award's draft is no contract (as in the facts)
    )
    paid = col(Contract.accepted_at).is_not(None) & col(Contract.paid_on).is_not(None)
    row = (
        await session.execute(
            scoped(
                base.add_columns(
                    func.count().label("contracts"),
                    _count(col(Contract.signed_at).is_not(None)).label("signed"),
                    _count(col(Contract.accepted_at).is_not(None)).label("accepted"),
                    _count(col(Contract.paid_on).is_not(None)).label("paid_in_full"),
                    func.coalesce(func.sum(case((paid, _days_to_payment(dialect)))), 0).label("days"),
                    _count(paid).label("paid_counted"),
                ),
                period,
            )
        )
    ).one()
    t = rules.Timeliness(
        contracts=int(row.contracts),
        signed=int(row.signed),
        accepted=int(row.accepted),
        paid_in_full=int(row.paid_in_full),
        days_to_payment=int(row.days),
        paid_counted=int(row.paid_counted),
    )
    return with_late(t, flag_counts)


def with_late(t: rules.Timeliness, flag_counts: Mapping[str, int]) -> rules.Timeliness:
    """The timeliness figures with the late contracts from the red flags' counts."""
    for name in ("signed_late", "signing_overdue", "overdue", "delivered_late", "paid_late", "payment_overdue"):
        setattr(t, name, flag_counts.get(name, 0))
    return t


async def awards(session: AsyncSession, period: Period, firm_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, Any]]:
    """How many awards of the period each firm won and for how much (awarded purchases, the
    current selection's winner and price)."""
    if not firm_ids:
        return {}
    # the current selections these firms won, not the period's facts (no bid is aggregated)
    won = select(col(Selection.purchase_id)).join(Bid, col(Bid.id) == col(Selection.winner_bid_id))
    cur = current_selections(of=won.where(col(Bid.provider_id).in_(firm_ids)))
    rows = await session.execute(
        scoped(
            select(cur.c.winner_id, func.count(), _money(cur.c.price))
            .join(Purchase, col(Purchase.id) == cur.c.purchase_id)
            .where(col(Purchase.status).in_(rules.AWARDED), cur.c.price.is_not(None), cur.c.winner_id.in_(firm_ids)),
            period,
        ).group_by(cur.c.winner_id)
    )
    return {firm: (int(n), amount or ZERO) for firm, n, amount in rows.all()}
