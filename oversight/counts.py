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
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
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
from market.audit.models import AuditHead
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
    """The purchases in a split group, each flagged once (:func:`split_run`)."""
    return len(split_members(await split_run(session, period, t), t))


def split_members(run: list[rules.PurchaseFact], t: rules.Thresholds) -> list[uuid.UUID]:
    """The purchases of ``run`` in a split group (:func:`oversight.rules.split_groups`)."""
    items = [rules.SplitItem(p.id, p.owner_id, p.catalog_code, p.cap, p.published_at) for p in run]
    return sorted(
        {m.id for group in rules.split_groups(items, t.split_threshold, t.split_window) for m in group}, key=str
    )


async def split_run(session: AsyncSession, period: Period, t: rules.Thresholds) -> list[rules.PurchaseFact]:
    """The live purchases capped under the threshold that have another such purchase of the same
    owner and item within the window (the nearest one before or after, by window functions): no
    split group holds any other, and leaving those out changes no group. As light facts (id,
    reference, owner, item, status, cap, publication: what the split rule reads)."""
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
            col(Purchase.ref).label("ref"),
            col(Purchase.status).label("status"),
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
        select(
            live.c.id, live.c.owner_id, live.c.catalog_code, live.c.cap, live.c.published_at, live.c.ref, live.c.status
        ).where(close)
    )
    return [
        _light(
            id=pid,
            ref=ref or "",
            owner_id=owner,
            catalog_code=catalog,
            cap=cap,
            published_at=published_at,
            status=status,
        )
        for pid, owner, catalog, cap, published_at, ref, status in rows.all()
        if published_at is not None  # always: the period holds published purchases only
    ]


async def linked_bidders(session: AsyncSession, period: Period, links: list[rules.Link]) -> int:
    """The opened purchases where two linked firms bid (active bids)."""
    return len(await linked_bidders_ids(session, period, links))


async def linked_bidders_ids(session: AsyncSession, period: Period, links: list[rules.Link]) -> list[uuid.UUID]:
    """The opened purchases where two linked firms bid (active bids)."""
    linked = sorted({i for link in links for i in (link.a, link.b)}, key=str)
    query = candidates.linked_bidders(period, linked)
    if query is None:
        return []
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
    return [
        pid
        for pid, firms in bidders.items()
        if any(frozenset((a, b)) in pairs for i, a in enumerate(firms) for b in firms[i + 1 :])
    ]


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
    return len(await low_price_ids(session, ids, t))


async def low_price_ids(session: AsyncSession, ids: list[uuid.UUID], t: rules.Thresholds) -> list[uuid.UUID]:
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
    return [
        pid
        for pid, status, cap, price, winner in rows
        if rules.low_price(
            _light(id=pid, status=status, cap=cap, price=price, winner_id=winner, bids=tuple(valid_bids.get(pid, ()))),
            t,
        )
        is not None
    ]


async def quality_marks_decided(session: AsyncSession, period: Period) -> int:
    return len(await quality_marks_decided_ids(session, period))


async def quality_marks_decided_ids(session: AsyncSession, period: Period) -> list[uuid.UUID]:
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
    return [
        pid
        for pid, status, weight, price, winner, winner_bid, method, evaluation in rows.all()
        if rules.quality_marks_decided(
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
    ]


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
    return len(await cancelled_after_opening_ids(session, period))


async def cancelled_after_opening_ids(session: AsyncSession, period: Period) -> list[uuid.UUID]:
    """One flag per purchase of the period cancelled after its bids were opened, and one per
    earlier round so cancelled that a purchase republishes (``previous_id`` back to the first)."""
    cancelled = set(
        await session.scalars(
            select(col(CancellationRequest.purchase_id)).where(
                col(CancellationRequest.status) == CancellationStatus.approved
            )
        )
    )
    previous: dict[uuid.UUID, uuid.UUID | None] = {
        pid: prev
        for pid, prev in await session.execute(
            select(col(Purchase.id), col(Purchase.previous_id)).where(col(Purchase.previous_id).is_not(None))
        )
    }
    rounds = await candidates.cancelled_rounds(session)
    found: list[uuid.UUID] = []
    for pid in await session.scalars(
        scoped(select(col(Purchase.id)).where(col(Purchase.id).in_(sorted(rounds, key=str))), period)
    ):
        chain: list[uuid.UUID] = []
        current = previous.get(pid)
        while current is not None and current not in chain:
            chain.append(current)
            current = previous.get(current)
        found += [pid] * ((pid in cancelled) + sum(e in cancelled for e in chain))
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
    for _pid, codes in await _by_the_rule(session, settings, period, now):
        for code in codes:
            found[code] += 1
    return {code: found[code] for code in rules.CONTRACT_FLAGS}


async def _by_the_rule(
    session: AsyncSession, settings: Settings, period: Period, now: datetime
) -> list[tuple[uuid.UUID, list[str]]]:
    """The contract flags of the period's live contracts that the stored columns do not decide
    (accepted without a stored payment term): per purchase, :func:`invoices.rules.contract_flags`."""
    live = col(Contract.status) != ContractStatus.void
    rows = await session.execute(
        scoped(
            select(
                col(Purchase.id),
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
            .where(live, ~contracts_service.term_stored()),
            period,
        )
    )
    return [
        (
            pid,
            invoice_rules.contract_flags(
                invoice_rules.ContractFacts(
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
                ),
                now,
                settings.accelerator,
            ),
        )
        for pid, status, sign_by, signed, due, delivered, accepted, amount, invoiced, paid, paid_on, recorded, days in (
            rows
        )
    ]


def _sum_of(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def concentration(session: AsyncSession, period: Period, t: rules.Thresholds) -> int:
    return len(await concentrations(session, period, t))


async def concentrations(session: AsyncSession, period: Period, t: rules.Thresholds) -> list[rules.Concentration]:
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
    return rules.concentration(found, t.concentration_share, t.concentration_min_awards)


# --- the flagged subjects per code (the flag list's pages: oversight.flagpages) ---------------------


async def bid_flag_ids(session: AsyncSession, period: Period, t: rules.Thresholds) -> dict[str, list[uuid.UUID]]:
    """The purchases flagged ``identical_prices`` (once per shared price), ``single_bid`` and
    ``low_price``, from one pass over the period's purchases with their bid summary
    (:func:`oversight.sums.bid_summary`) and current selection, as :func:`bid_flags` counts them."""
    f = sums._facts(period)
    single = (f.c.opened == 1) & (f.c.valid == 1) & f.c.status.in_((*rules.SELECTED, "evaluating"))
    shared = f.c.shared_price == 1
    low = f.c.status.in_(rules.SELECTED) & or_(
        f.c.price < f.c.cap * sums.above(t.low_price_ratio), f.c.price < f.c.highest * sums.above(t.abnormal_low_ratio)
    )
    rows = (
        await session.execute(
            select(
                f.c.id,
                case((single, 1), else_=0).label("single"),
                case((shared, 1), else_=0).label("shared"),
                case((low, 1), else_=0).label("low"),
            ).where(or_(single, shared, low))
        )
    ).all()
    identical: list[uuid.UUID] = []
    shared_ids = sorted({r.id for r in rows if r.shared}, key=str)
    # each asked even for no purchase: the statements a request makes do not depend on its data
    for start in range(0, max(len(shared_ids), 1), CHUNK):
        identical += await session.scalars(
            select(col(Bid.purchase_id))
            .where(col(Bid.purchase_id).in_(shared_ids[start : start + CHUNK]), col(Bid.status) == BidStatus.active)
            .group_by(col(Bid.purchase_id), col(Bid.price))
            .having(func.count() > 1)  # one active bid per firm (uq_bids_one_active): two firms
        )
    low_ids: list[uuid.UUID] = []
    candidates_low = sorted({r.id for r in rows if r.low}, key=str)
    for start in range(0, max(len(candidates_low), 1), CHUNK):
        low_ids += await low_price_ids(session, candidates_low[start : start + CHUNK], t)
    return {
        rules.IDENTICAL_PRICES: identical,
        rules.SINGLE_BID: [r.id for r in rows if r.single],
        rules.LOW_PRICE: low_ids,
    }


async def contract_flag_ids(
    session: AsyncSession, settings: Settings, period: Period, now: datetime
) -> dict[str, list[uuid.UUID]]:
    """The purchases whose contract carries each contract flag at ``now``, decided as
    :func:`contract_flags` counts them (the stored columns' conditions, the rule for accepted
    contracts without a stored payment term)."""
    dialect = session.get_bind().dialect.name
    live = col(Contract.status) != ContractStatus.void
    stored = contracts_service.term_stored()
    conditions = contracts_service.flag_conditions(now, settings.accelerator, dialect)
    found: dict[str, list[uuid.UUID]] = {code: [] for code in rules.CONTRACT_FLAGS}
    codes = list(conditions)
    bits = sum((case((conditions[code], 1 << n), else_=0) for n, code in enumerate(codes)), literal(0))
    rows = await session.execute(
        scoped(
            select(col(Purchase.id), bits)  # one number per contract: a bit per flag
            .select_from(Contract)
            .join(Purchase, col(Purchase.id) == col(Contract.purchase_id))
            .where(live, stored, or_(*conditions.values())),
            period,
        )
    )
    for pid, mask in rows.all():
        for n, code in enumerate(codes):
            if mask & (1 << n):
                found[code].append(pid)
    for pid, codes in await _by_the_rule(session, settings, period, now):
        for code in codes:
            found[code].append(pid)
    return found


@dataclass
class Flagged:
    """Per code, the subjects of the period's red flags: a subject once per flag it carries of
    that code, in the flags' order (by the subject id as text); and what the list's pages reuse to
    build the flags of some of them (:mod:`oversight.flagpages`)."""

    subjects: dict[str, list[uuid.UUID]]
    firms: list[rules.FirmFact]
    links: list[rules.Link]
    split_run: list[rules.PurchaseFact]  # light facts: every purchase a split group may hold
    concentrations: list[rules.Concentration]
    now: datetime  # the moment the contract flags were read at

    @property
    def counts(self) -> dict[str, int]:
        return {code: len(ids) for code, ids in self.subjects.items() if ids}


# the subjects that depend on the data alone (every code but the contract flags, which depend on the
# moment too), per database, period, thresholds and audit-chain head: every commit that changes
# state appends to the chain (market.web.etag), so a head seen again means the same data
_BY_HEAD: OrderedDict[tuple[Any, ...], Flagged] = OrderedDict()
BY_HEAD_SIZE = 8


async def flagged_subjects(
    session: AsyncSession, settings: Settings, period: Period, now: datetime | None = None
) -> Flagged:
    """The subjects of every red flag of the period at ``now``, per code: exactly those of
    :func:`oversight.rules.all_flags` over the period's facts (its counts are :func:`flag_counts`'),
    found as :func:`flag_counts` counts them, without building a flag. What depends on the data
    alone is kept for the same audit-chain head (issue 12.8: a small in-process cache keyed by the
    change sequence); the contract flags, which the clock moves, are read each time."""
    now = now or clock.now()
    t = rules.Thresholds.of(settings)
    head = await session.scalar(select(col(AuditHead.seq)).where(col(AuditHead.id) == 1)) or 0
    key = (session.get_bind().engine.url.render_as_string(hide_password=True), period, t, head)
    found = _BY_HEAD.get(key)
    if found is None:
        found = await _data_subjects(session, period, t)
        _BY_HEAD[key] = found
        while len(_BY_HEAD) > BY_HEAD_SIZE:
            _BY_HEAD.popitem(last=False)
    else:
        _BY_HEAD.move_to_end(key)
    contracts = await contract_flag_ids(session, settings, period, now)
    return replace(
        found,
        subjects={**found.subjects, **{code: sorted(ids) for code, ids in contracts.items()}},
        now=now,
    )


async def _data_subjects(session: AsyncSession, period: Period, t: rules.Thresholds) -> Flagged:
    """Every code's subjects but the contract flags'."""
    firms = await load_firms(session)
    links = rules.firm_links(firms)
    run = await split_run(session, period, t)
    found = await concentrations(session, period, t)
    subjects: dict[str, list[uuid.UUID]] = {
        rules.SPLIT_PURCHASE: split_members(run, t),
        **await bid_flag_ids(session, period, t),
        rules.LINKED_BIDDERS: await linked_bidders_ids(session, period, links),
        rules.CANCELLED_AFTER_OPENING: await cancelled_after_opening_ids(session, period),
        rules.DIRECT_SELECTION: list(await session.scalars(direct_selection(period))),
        rules.QUALITY_MARKS_DECIDED: await quality_marks_decided_ids(session, period),
        rules.OBJECTION_UPHELD: list(await session.scalars(candidates.objection_upheld(period))),
        rules.CONCENTRATION: [c.provider_id for c in found],
        rules.LINKED_FIRMS: list({firm for link in links for firm in (link.a, link.b)}),
    }
    return Flagged(
        # a UUID's order is its text's (fixed-width lowercase hex): the flags' order by subject
        subjects={code: sorted(ids) for code, ids in subjects.items()},
        firms=firms,
        links=links,
        split_run=run,
        concentrations=found,
        now=datetime.min,
    )
