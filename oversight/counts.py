"""The red flags of a period counted per code and per severity, without building the flags
(issue 12: the finance summary at province size).

The counts are exactly ``rules.count_by(rules.all_flags(...))`` over the period's facts (the
tests hold them equal on the demo, on generated data and at the edges), but no flag, no flag data
and no purchase fact of the period is built. Per code, the cheapest exact way:

* a SQL ``COUNT`` where the rule is a plain condition on stored rows: ``objection_upheld`` (one
  flag per upheld objection), ``direct_selection`` (a selected direct purchase with a current
  selection), the contract flags (:func:`invoices.rules.contract_flags` as conditions on the
  contract's columns; a void contract carries none; accepted contracts without a stored payment
  term go through the rule itself); and, in the summary's one ``GROUP BY`` over the purchases
  (:func:`oversight.sums.figures`, over :func:`oversight.sums.bid_summary`), ``single_bid``
  (exactly one valid active bid, in evaluation or selected) and ``identical_prices`` (one flag per
  price offered by two or more firms in an opened purchase, counted by ``GROUP BY purchase, price``
  in the purchases the summary names: fewer distinct prices than bids);
* a few columns of the candidates (:mod:`oversight.candidates`) and the unchanged pure rule where
  the rule is more than a condition: ``split_purchase`` (id, owner, item, cap and publication of
  the live purchases capped under the threshold with such a neighbour within the window →
  :func:`oversight.rules.split_groups`), ``linked_bidders`` ((purchase, firm) of the linked firms'
  opened bids → the links of :func:`oversight.rules.firm_links`), ``low_price`` and
  ``quality_marks_decided`` (their candidates' prices or published evaluations →
  :func:`oversight.rules.low_price`, :func:`~oversight.rules.quality_marks_decided`),
  ``concentration`` (every award of the candidate owners → :func:`oversight.rules.concentration`),
  ``cancelled_after_opening`` (the approved cancellations and the rounds' chains) and
  ``linked_firms`` (every firm in a link).

Rows are read as columns, never as ORM objects.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, literal, or_, select
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
    Purchase,
    Selection,
    SelectionStatus,
)
from invoices import contracts as contracts_service
from invoices import rules as invoice_rules
from invoices.models import Contract, ContractStatus
from market import clock
from market.settings import Settings
from oversight import candidates, rules, sums
from oversight.facts import CHUNK, Period, load_firms, scoped

ZERO = rules.ZERO


async def flag_counts(
    session: AsyncSession,
    settings: Settings,
    period: Period,
    now: datetime | None = None,
    figures: sums.Figures | None = None,
) -> dict[str, int]:
    """How many red flags of each code the period carries (codes without a flag left out), as
    :func:`oversight.rules.count_by` over :func:`oversight.rules.all_flags` counts them at ``now``
    (``figures``: the summary's, already made for the period with these settings' thresholds)."""
    now = now or clock.now()
    found = await bid_flags(session, period, rules.Thresholds.of(settings), figures)
    for job in jobs(settings, period, now):
        found.update(await job(session))
    return combined(found)


def combined(*parts: Mapping[str, int]) -> dict[str, int]:
    """The counts of :func:`bid_flags` and of :func:`jobs`, codes without a flag left out."""
    found: dict[str, int] = {}
    for part in parts:
        found.update(part)
    return {code: n for code, n in found.items() if n}


def jobs(
    settings: Settings, period: Period, now: datetime
) -> list[Callable[[AsyncSession], Awaitable[dict[str, int]]]]:
    """The counts of every code but the bids' (:func:`bid_flags`, which reads the summary's figures),
    in three independent parts, each a function of a session: a report may run them at once, each
    on its own connection (:func:`market.db.concurrently`)."""
    t = rules.Thresholds.of(settings)

    async def purchases(session: AsyncSession) -> dict[str, int]:
        return {
            rules.SPLIT_PURCHASE: await split_purchase(session, period, t),
            rules.CONCENTRATION: await concentration(session, period, t),
            rules.CANCELLED_AFTER_OPENING: await cancelled_after_opening(session, period),
            rules.DIRECT_SELECTION: await _count(session, direct_selection(period)),
            rules.QUALITY_MARKS_DECIDED: await quality_marks_decided(session, period),
            rules.OBJECTION_UPHELD: await _count(session, candidates.objection_upheld(period)),
        }

    async def firms(session: AsyncSession) -> dict[str, int]:
        links = rules.firm_links(await load_firms(session))
        return {
            rules.LINKED_BIDDERS: await linked_bidders(session, period, links),
            rules.LINKED_FIRMS: len({firm for link in links for firm in (link.a, link.b)}),
        }

    async def contracts(session: AsyncSession) -> dict[str, int]:
        return await contract_flags(session, settings, period, now)

    return [purchases, firms, contracts]


def severity_counts(by_code: Mapping[str, int]) -> dict[str, int]:
    """The counts per code summed per severity (severities without a flag left out)."""
    found: dict[str, int] = defaultdict(int)
    for code, n in by_code.items():
        if n:
            found[rules.SEVERITY[code]] += n
    return dict(found)


async def _count(session: AsyncSession, query: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def direct_selection(period: Period) -> Any:
    """Selected direct purchases with a current selection (its winner and price are never empty)."""
    current = (
        select(col(Selection.id))
        .join(Bid, col(Bid.id) == col(Selection.winner_bid_id))
        .where(col(Selection.purchase_id) == col(Purchase.id), col(Selection.status) == SelectionStatus.current)
        .correlate(Purchase)
    )
    return scoped(
        select(col(Purchase.id)).where(
            col(Purchase.method) == "direct", col(Purchase.status).in_(rules.SELECTED), current.exists()
        ),
        period,
    )


async def split_purchase(session: AsyncSession, period: Period, t: rules.Thresholds) -> int:
    """The purchases in a split group: the groups of the live purchases capped under the
    threshold that have another such purchase of the same owner and item within the window (the
    nearest one before or after, by window functions): no group holds any other, and leaving
    those out changes no group. Each purchase flagged once."""
    dialect = session.get_bind().dialect.name
    published = col(Purchase.published_at)
    same = (col(Purchase.owner_id), col(Purchase.catalog_code))
    live = scoped(
        select(
            col(Purchase.id).label("id"),
            col(Purchase.owner_id).label("owner_id"),
            col(Purchase.catalog_code).label("catalog_code"),
            col(Purchase.budget_cap).label("cap"),
            published.label("published_at"),
            func.lag(published).over(partition_by=same, order_by=published).label("before"),
            func.lead(published).over(partition_by=same, order_by=published).label("after"),
        ).where(col(Purchase.status).in_(rules.LIVE), col(Purchase.budget_cap) < t.split_threshold),
        period,
    ).subquery("live")
    window = t.split_window + timedelta(seconds=1)  # a second more: a superset
    if dialect == "postgresql":
        span = literal(window, Interval())
        close = or_(live.c.published_at - live.c.before <= span, live.c.after - live.c.published_at <= span)
    else:
        days = window.total_seconds() / 86400
        close = or_(
            func.julianday(live.c.published_at) - func.julianday(live.c.before) <= days,
            func.julianday(live.c.after) - func.julianday(live.c.published_at) <= days,
        )
    rows = await session.execute(
        select(live.c.id, live.c.owner_id, live.c.catalog_code, live.c.cap, live.c.published_at).where(close)
    )
    items = [
        rules.SplitItem(pid, owner, catalog, cap, published_at)
        for pid, owner, catalog, cap, published_at in rows.all()
        if published_at is not None  # always: the period holds published purchases only
    ]
    return len({m.id for group in rules.split_groups(items, t.split_threshold, t.split_window) for m in group})


async def linked_bidders(session: AsyncSession, period: Period, links: list[rules.Link]) -> int:
    """The opened purchases where two linked firms bid (active bids)."""
    linked = sorted({i for link in links for i in (link.a, link.b)}, key=str)
    query = candidates.linked_bidders(period, linked)
    if query is None:
        return 0
    pairs = {frozenset((link.a, link.b)) for link in links}
    rows = await session.execute(
        select(col(Bid.purchase_id), col(Bid.provider_id))
        .where(
            col(Bid.purchase_id).in_(query),
            col(Bid.status) == BidStatus.active,
            col(Bid.provider_id).in_(linked),  # only linked firms make a pair
        )
        .distinct()
    )
    bidders: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for purchase_id, provider_id in rows.all():
        bidders[purchase_id].append(provider_id)
    return sum(
        any(frozenset((a, b)) in pairs for i, a in enumerate(firms) for b in firms[i + 1 :])
        for firms in bidders.values()
    )


def _light(**known: Any) -> rules.PurchaseFact:
    """A purchase fact with only what a purchase rule reads; the rest (names, references, dates
    no such rule reads) left empty."""
    blank: dict[str, Any] = {
        "ref": "",
        "title": "",
        "owner_id": uuid.UUID(int=0),
        "owner_name": "",
        "catalog_code": "",
        "catalog_name": "",
        "method": "",
        "funding": "",
        "published_at": datetime.min,
        "deadline": datetime.min,
    }
    return rules.PurchaseFact(**{**blank, **known})


async def bid_flags(
    session: AsyncSession, period: Period, t: rules.Thresholds, figures: sums.Figures | None = None
) -> dict[str, int]:
    """The flags read from a purchase's bids, from the summary's one ``GROUP BY``
    (:func:`oversight.sums.figures`, over :func:`oversight.sums.bid_summary`; ``figures``: already
    made): ``identical_prices`` (one per price two active bids share in an opened purchase, counted
    in the purchases it names), ``single_bid``
    (exactly one valid bid, in evaluation or selected), and ``low_price``:
    :func:`oversight.rules.low_price` over the candidates it names (a winning price below the cap's
    share or the highest valid price's share) with their valid opened bids, in the facts' order, so
    that a firm's last valid bid counts."""
    if figures is None:
        figures = await sums.figures(session, period, "funding", t)
    identical = 0
    shared = sorted(set(figures.shared_prices), key=str)
    for start in range(0, len(shared), CHUNK):
        identical += await _count(
            session,
            select(col(Bid.purchase_id))
            .where(col(Bid.purchase_id).in_(shared[start : start + CHUNK]), col(Bid.status) == BidStatus.active)
            .group_by(col(Bid.purchase_id), col(Bid.price))
            .having(func.count() > 1),  # one active bid per firm (uq_bids_one_active): two firms
        )
    low_price = 0
    low = sorted(set(figures.low_price_candidates), key=str)
    for start in range(0, len(low), CHUNK):
        low_price += await _low_price(session, low[start : start + CHUNK], t)
    return {
        rules.IDENTICAL_PRICES: identical,
        rules.SINGLE_BID: figures.single_bid,
        rules.LOW_PRICE: low_price,
    }


async def _low_price(session: AsyncSession, ids: list[uuid.UUID], t: rules.Thresholds) -> int:
    """:func:`oversight.rules.low_price` over the purchases ``ids``: their status, cap, current
    price and winner, and their valid opened bids in the facts' order (a firm's last valid bid
    counts)."""
    cur = sums.current_selections(of=ids)
    rows = (
        await session.execute(
            select(col(Purchase.id), col(Purchase.status), col(Purchase.budget_cap), cur.c.price, cur.c.winner_id)
            .join(cur, cur.c.purchase_id == col(Purchase.id))
            .where(col(Purchase.id).in_(ids))
        )
    ).all()
    valid_bids: dict[uuid.UUID, list[rules.BidFact]] = defaultdict(list)
    for purchase_id, provider_id, price in await session.execute(
        select(col(Bid.purchase_id), col(Bid.provider_id), col(Bid.price))
        .join(Purchase, col(Purchase.id) == col(Bid.purchase_id))
        .where(
            col(Bid.purchase_id).in_(ids),
            col(Purchase.opened_at).is_not(None),
            col(Bid.status) == BidStatus.active,
            col(Bid.valid).is_(True),
        )
        .order_by(col(Bid.price), col(Bid.digest))
    ):
        valid_bids[purchase_id].append(rules.BidFact(provider_id=provider_id, price=price, valid=True))
    return sum(
        rules.low_price(
            _light(id=pid, status=status, cap=cap, price=price, winner_id=winner, bids=tuple(valid_bids.get(pid, ()))),
            t,
        )
        is not None
        for pid, status, cap, price, winner in rows
    )


async def quality_marks_decided(session: AsyncSession, period: Period) -> int:
    """:func:`oversight.rules.quality_marks_decided` over the selected scored purchases whose
    winning bid is not the cheapest of their bids (the rule needs a cheaper one): their quality
    weight and their current selection's published evaluation."""
    cur = sums.current_selections(
        col(Selection.winner_bid_id).label("winner_bid_id"),
        col(Selection.method).label("method"),
        col(Selection.evaluation).label("evaluation"),
        col(Bid.price).label("winner_price"),
        of=select(col(Purchase.id)).where(col(Purchase.method) == "scored").correlate(None),
    )
    cheaper = aliased(Bid)
    rows = await session.execute(
        scoped(
            select(
                col(Purchase.id),
                col(Purchase.status),
                col(Purchase.weight_quality),
                cur.c.price,
                cur.c.winner_id,
                cur.c.winner_bid_id,
                cur.c.method,
                cur.c.evaluation,
            )
            .join(cur, cur.c.purchase_id == col(Purchase.id))
            .where(
                col(Purchase.method) == "scored",
                col(Purchase.status).in_(rules.SELECTED),
                select(col(cheaper.id))
                .where(col(cheaper.purchase_id) == col(Purchase.id), col(cheaper.price) < cur.c.winner_price)
                .exists(),
            ),
            period,
        )
    )
    return sum(
        rules.quality_marks_decided(
            _light(
                id=pid,
                method="scored",
                status=status,
                cap=ZERO,
                weight_quality=weight,
                price=price,
                winner_id=winner,
                winner_bid_id=winner_bid,
                scores=_scores(evaluation) if method == "scored" else (),
            )
        )
        is not None
        for pid, status, weight, price, winner, winner_bid, method, evaluation in rows.all()
    )


def _scores(evaluation: str) -> tuple[rules.ScoreFact, ...]:
    """:func:`oversight.facts.score_facts` of a selection's evaluation text."""
    return tuple(
        rules.ScoreFact(
            bid_id=uuid.UUID(row["bid_id"]),
            price=Decimal(row["price"]),
            quality_mark=int(row["quality_mark"]),
            credit_score=int(row["credit_score"]),
            score=Decimal(row["score"]),
        )
        for row in json.loads(evaluation)
        if row.get("score") is not None and row.get("quality_mark") is not None
    )


async def cancelled_after_opening(session: AsyncSession, period: Period) -> int:
    """One flag per purchase of the period cancelled after its bids were opened, and one per
    earlier round so cancelled that a purchase republishes (``previous_id`` back to the first)."""
    cancelled = set(
        await session.scalars(
            select(col(CancellationRequest.purchase_id)).where(
                col(CancellationRequest.status) == CancellationStatus.approved
            )
        )
    )
    if not cancelled:
        return 0
    previous: dict[uuid.UUID, uuid.UUID | None] = {
        pid: prev
        for pid, prev in await session.execute(
            select(col(Purchase.id), col(Purchase.previous_id)).where(col(Purchase.previous_id).is_not(None))
        )
    }
    rounds = await candidates.cancelled_rounds(session)
    found = 0
    for pid in await session.scalars(
        scoped(select(col(Purchase.id)).where(col(Purchase.id).in_(sorted(rounds, key=str))), period)
    ):
        found += pid in cancelled
        chain: list[uuid.UUID] = []
        current = previous.get(pid)
        while current is not None and current not in chain:
            chain.append(current)
            current = previous.get(current)
        found += sum(e in cancelled for e in chain)
    return found


async def contract_flags(session: AsyncSession, settings: Settings, period: Period, now: datetime) -> dict[str, int]:
    """The contract flags at ``now`` of the period's contracts (a void contract is none: the facts
    leave it out). Where the stored columns decide — every contract not yet accepted, and the
    accepted ones with their payment term's end stored, as acceptance stores it — one ``COUNT``
    per flag; the accepted contracts without it (older rows) go through
    :func:`invoices.rules.contract_flags` with the term computed."""
    dialect = session.get_bind().dialect.name
    live = col(Contract.status) != ContractStatus.void
    stored = contracts_service.term_stored()
    conditions = contracts_service.flag_conditions(now, settings.accelerator, dialect)
    row = (
        await session.execute(
            scoped(
                select(*(_sum_of(c).label(code) for code, c in conditions.items()))
                .select_from(Contract)
                .join(Purchase, col(Purchase.id) == col(Contract.purchase_id))
                .where(live, stored),
                period,
            )
        )
    ).one()
    found: dict[str, int] = {code: int(getattr(row, code) or 0) for code in conditions}
    rows = await session.execute(
        scoped(
            select(
                col(Contract.status),
                col(Contract.sign_by),
                col(Contract.signed_at),
                col(Contract.due_at_current),
                col(Contract.delivered_at),
                col(Contract.accepted_at),
                col(Contract.amount_current),
                col(Contract.invoiced_total),
                col(Contract.paid_total),
                col(Contract.paid_on),
                col(Contract.paid_recorded_at),
                col(Contract.payment_days),
            )
            .join(Purchase, col(Purchase.id) == col(Contract.purchase_id))
            .where(live, ~stored),
            period,
        )
    )
    for status, sign_by, signed, due, delivered, accepted, amount, invoiced, paid, paid_on, recorded, days in rows:
        facts = invoice_rules.ContractFacts(
            status=status,
            sign_by=sign_by,
            signed_at=signed,
            due_at=due,
            delivered_at=delivered,
            accepted_at=accepted,
            amount=amount,
            invoiced=invoiced,
            paid_total=paid,
            paid_on=paid_on,
            paid_recorded_at=recorded,
            payment_days=days,
        )
        for code in invoice_rules.contract_flags(facts, now, settings.accelerator):
            found[code] += 1
    return {code: found[code] for code in rules.CONTRACT_FLAGS}


def _sum_of(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def concentration(session: AsyncSession, period: Period, t: rules.Thresholds) -> int:
    """:func:`oversight.rules.concentration` over every award of the owners it may find (their
    whole totals: all their awards of the period)."""
    cur = sums.current_selections()
    awards = scoped(
        select(
            col(Purchase.id).label("id"),
            col(Purchase.owner_id).label("owner_id"),
            col(Purchase.status).label("status"),
            cur.c.price,
            cur.c.winner_id,
        ).join(cur, cur.c.purchase_id == col(Purchase.id)),
        period,
    ).cte("awards")  # read twice, computed once
    owners = candidates.concentration_owners_query(t, awards)
    rows = await session.execute(
        select(awards.c.owner_id, awards.c.winner_id, awards.c.price).where(
            awards.c.status.in_(rules.AWARDED), awards.c.price.is_not(None), awards.c.owner_id.in_(owners)
        )
    )
    found = [rules.AwardItem(owner, winner, price) for owner, winner, price in rows.all() if winner and price]
    return len(rules.concentration(found, t.concentration_share, t.concentration_min_awards))
