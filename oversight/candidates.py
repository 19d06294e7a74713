"""The red flags' candidate sets, chosen by the database (issue 12.3).

Each red flag of a purchase has here a SQL query giving the purchases of the period that may carry
it: every purchase that carries it is among them, and the query reads indexes and aggregates
rather than the period's rows. :func:`oversight.services.red_flags` then loads the facts of these
candidates only (:func:`oversight.facts.load` with ``only``) and the pure rules of
:mod:`oversight.rules` decide, as before, which flags they carry and with which data: the flags,
their data and their explanations are exactly those computed over the whole period (a demo test
holds them equal).

Why each set holds every flagged purchase:

* ``split_purchase``: a member of a split group has another member of the same owner and catalog
  item, capped under the threshold, published within the window (an indexed self-join on
  ``(owner_id, catalog_code, published_at)``). Purchases without such a neighbour can belong to no
  group, so leaving them out changes no group.
* ``identical_prices``: two firms' active bids at one price (``GROUP BY purchase, price``).
* ``linked_bidders``: two firms among the bidders that are linked (the links are computed from the
  firms, a few thousand rows; the bids are grouped in SQL).
* ``single_bid``: exactly one valid active bid; ``direct_selection``, ``quality_marks_decided``:
  the method and a selected status; ``low_price``: a current selection below the cap's share or
  below the abnormal-low share of the highest valid price (whoever is below that share of the
  others' mean is below it of the highest); ``objection_upheld``: an upheld objection;
  ``cancelled_after_opening``: an approved cancellation of the purchase or of an earlier round.
* the contract's flags: :func:`invoices.contracts.flag_prefilter` (paid late: paid on or after the
  payment term's last day, or recorded after it).
* ``concentration`` (a firm's flag): every awarded purchase of an owner of whom one firm won at
  least the share (the rule needs the owner's whole total), the owner found by ``GROUP BY``.
* ``linked_firms`` needs no purchases beyond the linked bidders' (it lists the purchases two linked
  firms bid on together, which are ``linked_bidders`` candidates).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import Interval
from sqlmodel import col

from bidding.models import (
    Bid,
    BidStatus,
    CancellationRequest,
    CancellationStatus,
    Objection,
    ObjectionStatus,
    Purchase,
    Selection,
    SelectionStatus,
)
from invoices import contracts as contracts_service
from invoices import rules as invoice_rules
from invoices.models import Contract
from oversight import rules, sums
from oversight.facts import Period, scoped

IdQuery = Select[uuid.UUID]


def _within(a: Any, b: Any, window: timedelta, dialect: str) -> ColumnElement[bool]:
    """``b`` published at most ``window`` before or after ``a`` (a second more: a superset)."""
    window = window + timedelta(seconds=1)
    if dialect == "postgresql":
        span = literal(window, Interval())
        return and_(
            col(b.published_at) >= col(a.published_at) - span, col(b.published_at) <= col(a.published_at) + span
        )
    days = window.total_seconds() / 86400
    return func.abs(func.julianday(col(b.published_at)) - func.julianday(col(a.published_at))) <= days


def split(period: Period, t: rules.Thresholds, dialect: str) -> IdQuery:
    other = aliased(Purchase)
    neighbour = (
        select(col(other.id))
        .where(
            col(other.owner_id) == col(Purchase.owner_id),
            col(other.catalog_code) == col(Purchase.catalog_code),
            col(other.id) != col(Purchase.id),
            col(other.status).in_(rules.LIVE),
            col(other.budget_cap) < t.split_threshold,
            _within(Purchase, other, t.split_window, dialect),
        )
        .correlate(Purchase)
    )
    lower, upper = period.bounds()
    if lower is not None:
        neighbour = neighbour.where(col(other.published_at) >= lower)
    if upper is not None:
        neighbour = neighbour.where(col(other.published_at) < upper)
    query = select(col(Purchase.id)).where(
        col(Purchase.status).in_(rules.LIVE), col(Purchase.budget_cap) < t.split_threshold, neighbour.exists()
    )
    return scoped(query, period)


def _opened_bids(period: Period) -> Any:
    return scoped(
        select(col(Bid.purchase_id))
        .join(Purchase, col(Purchase.id) == col(Bid.purchase_id))
        .where(col(Purchase.opened_at).is_not(None), col(Bid.status) == BidStatus.active),
        period,
    )


def identical_prices(period: Period) -> IdQuery:
    query: IdQuery = (
        _opened_bids(period)
        .group_by(col(Bid.purchase_id), col(Bid.price))
        .having(func.count(func.distinct(col(Bid.provider_id))) > 1)
    )
    return query


def linked_bidders(period: Period, linked: Iterable[uuid.UUID]) -> IdQuery | None:
    firms = sorted(set(linked), key=str)
    if not firms:
        return None
    query: IdQuery = (
        _opened_bids(period)
        .where(col(Bid.provider_id).in_(firms))
        .group_by(col(Bid.purchase_id))
        .having(func.count(func.distinct(col(Bid.provider_id))) > 1)
    )
    return query


def single_bid(period: Period) -> IdQuery:
    query: IdQuery = (
        _opened_bids(period)
        .where(col(Purchase.status).in_((*rules.SELECTED, "evaluating")))
        .group_by(col(Bid.purchase_id))
        .having(func.sum(case((col(Bid.valid).is_(True), 1), else_=0)) == 1)
    )
    return query


def by_method(period: Period, method: str) -> IdQuery:
    return scoped(
        select(col(Purchase.id)).where(col(Purchase.method) == method, col(Purchase.status).in_(rules.SELECTED)),
        period,
    )


def low_price(period: Period, t: rules.Thresholds) -> IdQuery:
    highest = (
        select(func.max(col(Bid.price)))
        .where(col(Bid.purchase_id) == col(Purchase.id), col(Bid.status) == BidStatus.active, col(Bid.valid).is_(True))
        .correlate(Purchase)
        .scalar_subquery()
    )
    return scoped(
        select(col(Purchase.id))
        .join(Selection, col(Selection.purchase_id) == col(Purchase.id))
        .where(
            col(Selection.status) == SelectionStatus.current,
            col(Purchase.status).in_(rules.SELECTED),
            or_(
                col(Selection.price) < col(Purchase.budget_cap) * sums.above(t.low_price_ratio),
                col(Selection.price) < highest * sums.above(t.abnormal_low_ratio),
            ),
        ),
        period,
    )


def objection_upheld(period: Period) -> IdQuery:
    return scoped(
        select(col(Purchase.id))
        .join(Objection, col(Objection.purchase_id) == col(Purchase.id))
        .where(col(Objection.status) == ObjectionStatus.upheld),
        period,
    )


async def cancelled_rounds(session: AsyncSession) -> set[uuid.UUID]:
    """The purchases cancelled after their bids were opened and every later round of them."""
    found = set(
        await session.scalars(
            select(col(CancellationRequest.purchase_id)).where(
                col(CancellationRequest.status) == CancellationStatus.approved
            )
        )
    )
    frontier = set(found)
    while frontier:
        following = set(
            await session.scalars(
                select(col(Purchase.id)).where(col(Purchase.previous_id).in_(sorted(frontier, key=str)))
            )
        )
        frontier = following - found
        found |= frontier
    return found


def may_carry_a_flag(now: datetime) -> ColumnElement[bool]:
    """A contract that may carry one of the contract flags at ``now`` (a superset)."""
    codes = [c for c in rules.CONTRACT_FLAGS if c != invoice_rules.FLAG_PAID_LATE]
    due = col(Contract.payment_due_at)
    paid_late = col(Contract.paid_on).is_not(None) & (
        due.is_(None) | (col(Contract.paid_recorded_at) > due) | (col(Contract.paid_on) >= func.date(due))
    )
    return or_(paid_late, *(contracts_service.flag_prefilter(c, now) for c in codes))


def contract_flags(period: Period, now: datetime) -> IdQuery:
    return scoped(
        select(col(Purchase.id))
        .join(Contract, col(Contract.purchase_id) == col(Purchase.id))
        .where(may_carry_a_flag(now)),
        period,
    )


def concentration_owners_query(t: rules.Thresholds, facts: Any) -> Select[Any]:
    """The owners of whom one firm may have won at least the share (a superset: the ratio is bound
    as a float, a hair lower), found by one ``GROUP BY`` over ``facts`` (per purchase: its status,
    owner and latest current selection's price and winner), totals per owner by a window sum."""
    f = facts
    awarded = f.c.status.in_(rules.AWARDED) & f.c.price.is_not(None) & f.c.winner_id.is_not(None) & (f.c.price != 0)
    pairs = (
        select(
            f.c.owner_id.label("owner_id"),
            func.count().label("wins"),
            func.sum(f.c.price).label("amount"),
        )
        .where(awarded)
        .group_by(f.c.owner_id, f.c.winner_id)
        .subquery("pairs")
    )
    per_owner = select(
        pairs.c.owner_id,
        pairs.c.wins,
        pairs.c.amount,
        func.sum(pairs.c.wins).over(partition_by=pairs.c.owner_id).label("awards"),
        func.sum(pairs.c.amount).over(partition_by=pairs.c.owner_id).label("total"),
    ).subquery("per_owner")
    return select(per_owner.c.owner_id).where(
        per_owner.c.awards >= t.concentration_min_awards,
        per_owner.c.total > 0,
        per_owner.c.wins >= 2,
        per_owner.c.amount >= per_owner.c.total * sums.below(t.concentration_share),
    )


async def concentration(session: AsyncSession, period: Period, t: rules.Thresholds) -> list[uuid.UUID]:
    """Every awarded purchase of the owners of whom one firm won at least the share (the rule
    reads the owner's whole total): :func:`concentration_owners`, then their awards."""
    owners = sorted(set(await session.scalars(concentration_owners_query(t, sums._facts(period)))), key=str)
    # asked even with no owner (an empty IN): the statements a request makes do not depend on its data
    f2 = sums._facts(period)
    return list(
        await session.scalars(
            select(f2.c.id).where(f2.c.status.in_(rules.AWARDED), f2.c.price.is_not(None), f2.c.owner_id.in_(owners))
        )
    )


async def purchases(
    session: AsyncSession,
    period: Period,
    t: rules.Thresholds,
    links: Iterable[rules.Link],
    now: datetime,
) -> set[uuid.UUID]:
    """Every purchase of the period that may carry a red flag, or that a firm's flag reads."""
    dialect = session.get_bind().dialect.name
    linked = {i for link in links for i in (link.a, link.b)}
    queries: list[IdQuery | None] = [
        split(period, t, dialect),
        identical_prices(period),
        linked_bidders(period, linked),
        single_bid(period),
        by_method(period, "direct"),
        by_method(period, "scored"),
        low_price(period, t),
        objection_upheld(period),
        contract_flags(period, now),
    ]
    found: set[uuid.UUID] = set()
    for query in queries:
        if query is not None:
            found.update(await session.scalars(query))
    found.update(await concentration(session, period, t))
    rounds = await cancelled_rounds(session)
    if rounds:
        found.update(
            await session.scalars(
                scoped(select(col(Purchase.id)).where(col(Purchase.id).in_(sorted(rounds, key=str))), period)
            )
        )
    return found
