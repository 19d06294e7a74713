"""Demo purchases that the finance bureau should notice, played through the real services like the
bidding demo's (same planner, same audit trail), after the other demos:

* one owner buys the same service three times within three weeks, each capped under the split
  threshold and together above it, and the same firm wins all three (a split, and awards
  concentrated on one firm); in the second of them two other firms offer exactly the same price;
* a purchase of another service that drew a single valid bid, from the same firm, at less than half
  of its cap.

Their contracts are signed, delivered and accepted in time, so that only the signs above show.
Idempotent: once the first lot exists, the loader does nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bidding import demo as bidding_demo
from bidding.models import Method, Purchase, PurchaseStatus
from invoices import contracts, delivery
from invoices.demo import deliverable_bytes
from invoices.models import Contract
from market import clock
from market.actor import Actor
from market.identity.models import Organization, User
from market.settings import Settings

TITLES = (
    "云岭县城区背街小巷改造工程（一标段）",
    "云岭县城区背街小巷改造工程（二标段）",
    "云岭县城区背街小巷改造工程（三标段）",
)
SINGLE_TITLE = "云岭县乡镇卫生院标准化建设项目"


def _price(cap: Decimal, factor: str) -> Decimal:
    """A bid at ``factor`` of the cap, in whole hundreds (as firms quote)."""
    return (cap * Decimal(factor) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 100


def _cap(split_threshold: Decimal, share: str) -> Decimal:
    """A cap just under the split threshold's share, rounded to hundreds (45 % → 45 000 of 100 000)."""
    return (split_threshold * Decimal(share)).quantize(Decimal("100"))


async def _owner_with_least_awards(session: AsyncSession, cast: bidding_demo.Cast) -> tuple[Organization, User]:
    """The owner with the smallest awarded amount so far (the one firm's wins then dominate it)."""
    awarded: dict[uuid.UUID, Decimal] = {
        owner_id: total
        for owner_id, total in await session.execute(
            select(col(Purchase.owner_id), func.sum(col(Purchase.budget_cap)))
            .where(col(Purchase.status).in_((PurchaseStatus.awarded, PurchaseStatus.contracted)))
            .group_by(col(Purchase.owner_id))
        )
    }
    return min(cast.owners, key=lambda o: (awarded.get(o[0].id, Decimal(0)), o[0].name))


def plan(
    cast: bidding_demo.Cast,
    owner: tuple[Organization, User],
    now: datetime,
    settings: Settings,
    latest_contract: datetime | None = None,
) -> list[bidding_demo.Scenario]:
    """The scenarios. Contracts are numbered in the order they are drafted, so an award (which
    drafts one) never comes before ``latest_contract``, the newest contract the other demos drafted:
    where the publicity ended earlier, the award is applied then, as a lagging worker would."""
    pl = bidding_demo.Planner(now, settings)
    office = bidding_demo.Office(settings)
    d = timedelta(days=1) / settings.accelerator
    h = timedelta(hours=1) / settings.accelerator
    minute = timedelta(minutes=1) / settings.accelerator
    scenarios = []
    # a service without a government price, so that the caps are the owner's choice
    item, providers = next(((i, p) for i, p in reversed(cast.items) if i.fee_cap is None), cast.items[-1])
    # three lots of one service, published a week apart, each under the threshold
    for n, (title, ago, share) in enumerate(zip(TITLES, (52, 45, 38), ("0.48", "0.45", "0.42"), strict=True)):
        sc = bidding_demo.Scenario(f"split-{n}", TITLES[0], title, owner, item, providers)
        cap = _cap(settings.split_threshold, share)
        start = office.morning(now - ago * d)
        deadline = office.deadline(start)
        pl.draft(sc, start - h, cap=cap, method=Method.lowest_price, deadline=deadline)
        pl.publish(sc, start)
        prices = ["0.86", "0.93", "0.93"] if n == 1 else ["0.86", "0.91", "0.95"]  # lot 2: identical prices
        for i, factor in enumerate(prices):
            pl.bid(sc, start + d + i * h, i, _price(cap, factor))
        pl.due(sc, deadline + minute)
        selected = office.morning(deadline + d) + 2 * h
        pl.select(sc, selected)
        pl.due(sc, award_at(pl.period(selected, settings.publicity_days) + minute, latest_contract, n, minute))
        scenarios.append(sc)
    # a single valid bid, far below the cap, from the firm that won the three lots (another service)
    winner = providers[0][0].id
    item, providers = next(
        (
            (i, sorted(p, key=lambda firm: firm[0].id != winner))
            for i, p in cast.items
            if i.fee_cap is None and i.id != item.id and any(firm[0].id == winner for firm in p)
        ),
        next(((i, p) for i, p in cast.items if i.fee_cap is None and i.id != item.id), cast.items[0]),
    )
    sc = bidding_demo.Scenario("single-low", SINGLE_TITLE, f"{SINGLE_TITLE}{item.name}", owner, item, providers)
    cap = Decimal("60000")
    start = office.morning(now - 35 * d)
    deadline = office.deadline(start)
    pl.draft(sc, start - h, cap=cap, method=Method.random, deadline=deadline, min_bids=1)
    pl.publish(sc, start)
    pl.bid(sc, start + d, 0, _price(cap, "0.42"))
    pl.due(sc, deadline + minute)
    selected = office.morning(deadline + d) + 3 * h
    pl.select(sc, selected)
    pl.due(sc, award_at(pl.period(selected, settings.publicity_days) + minute, latest_contract, 3, minute))
    scenarios.append(sc)
    return scenarios


def award_at(publicity_over: datetime, latest_contract: datetime | None, n: int, minute: timedelta) -> datetime:
    if latest_contract is None or publicity_over > latest_contract:
        return publicity_over
    return latest_contract + (n + 1) * minute


async def _keep_contract(session: AsyncSession, settings: Settings, contract: Contract, now: datetime) -> None:
    """Signed the next day, delivered and accepted well within the service time (past steps only)."""
    owner_user = await session.scalar(
        select(User).where(col(User.org_id) == contract.owner_id).order_by(col(User.created_at))
    )
    firm_user = await session.scalar(
        select(User).where(col(User.org_id) == contract.provider_id).order_by(col(User.created_at))
    )
    assert owner_user is not None and firm_user is not None
    owner = Actor(user_id=owner_user.id, org_id=contract.owner_id, role="owner", username=owner_user.username)
    firm = Actor(user_id=firm_user.id, org_id=contract.provider_id, role="provider", username=firm_user.username)
    day = timedelta(days=1) / settings.accelerator
    steps: list[tuple[timedelta, Callable[[], Awaitable[object]]]] = [
        (day, lambda: contracts.sign_contract(session, owner, settings, contract.id)),
        (day + day / 8, lambda: contracts.sign_contract(session, firm, settings, contract.id)),
        (
            8 * day,
            lambda: delivery.submit(
                session,
                firm,
                settings,
                contract.id,
                note="成果报告",
                files=[delivery.Upload(*deliverable_bytes("成果报告.pdf"))],
            ),
        ),
        (10 * day, lambda: delivery.accept(session, owner, contract.id)),
    ]
    for offset, step in steps:
        moment = contract.drafted_at + offset
        if moment >= now:
            break
        with clock.frozen(moment):
            await step()


async def load(session: AsyncSession, settings: Settings) -> dict[str, Any]:
    cast = await bidding_demo.find_cast(session)
    if not cast.owners or not cast.items:
        return {"oversight demo": "nothing created (load the listings demo first)"}
    if await session.scalar(select(col(Purchase.id)).where(col(Purchase.title) == TITLES[0]).limit(1)):
        return {"oversight demo": "already loaded"}
    now = clock.now()
    owner = await _owner_with_least_awards(session, cast)
    fresh = []
    latest = await session.scalar(select(func.max(col(Contract.drafted_at))))
    for sc in plan(cast, owner, now, settings, clock.ensure_aware(latest) if latest else None):
        exists = await session.scalar(
            select(col(Purchase.id)).where(col(Purchase.owner_id) == sc.owner[0].id, col(Purchase.title) == sc.title)
        )
        if exists is None:
            fresh.append(sc)
    steps = sorted(
        ((moment, i, n, step) for i, sc in enumerate(fresh) for n, (moment, step) in enumerate(sc.steps)),
        key=lambda s: (s[0], s[1], s[2]),
    )
    for moment, _i, _n, step in steps:
        if moment >= now:  # pragma: no cover - the plan keeps every step in the past
            raise RuntimeError(f"demo step planned in the future: {moment}")
        with clock.frozen(moment):
            await step(session)
    await session.flush()
    for sc in fresh:
        contract = await session.scalar(select(Contract).where(col(Contract.purchase_id) == sc.purchase_id))
        if contract is not None and contract.signed_at is None:
            await _keep_contract(session, settings, contract, now)
    return {"oversight demo purchases created": len(fresh)}
