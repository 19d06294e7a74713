"""No N+1: the main lists run the same number of SQL statements whatever the number of rows.

Each list is requested with two purchases awarded (each with its bid, selection and contract)
and two open ones the firm bid on, then with five of each; a statement counter on every engine
(an SQLAlchemy event listener, here in the test) must show the same count both times."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bidding import bids as bid_service
from bidding import purchases
from bidding.schemas import PurchaseCreate
from market import clock
from tests.integration.helpers import (
    AWARD_CODE,
    SAMPLE_SCOPE,
    account,
    actor_of,
    awarded_purchase,
    browser,
    make_parties,
)

PUBLIC = ["/purchases", "/api/v1/purchases", "/api/v1/ocds/releases", "/api/v1/providers"]
PROVIDER_PAGES = ["/workspace/bidding/open", "/workspace/bids", "/workspace/contracts"]
OWNER_PAGES = ["/workspace/purchases", "/workspace/contracts"]
FINANCE = ["/api/v1/finance/flags"]
FINANCE_PAGES = ["/finance/flags"]


@contextmanager
def counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", seen)


async def _counts(client, pages: dict[str, Any], finance: dict[str, str]) -> dict[str, int]:
    counts = {}
    for path in PUBLIC:
        with counting() as statements:
            r = await client.get(path)
        assert r.status_code == 200, (path, r.text)
        counts[path] = len(statements)
    for path in FINANCE:
        with counting() as statements:
            r = await client.get(path, headers=finance)
        assert r.status_code == 200, (path, r.text)
        counts[path] = len(statements)
    for who, paths in (("provider", PROVIDER_PAGES), ("owner", OWNER_PAGES), ("finance", FINANCE_PAGES)):
        for path in paths:
            with counting() as statements:
                r = await pages[who].get(path)
            assert r.status_code == 200, (who, path, r.text)
            counts[f"{who} {path}"] = len(statements)
    return counts


async def test_the_main_lists_do_not_grow_with_their_rows(client, factory, settings, app):
    start = clock.now()
    owner_user, provider_user = await make_parties(factory)

    async def award(n: int) -> None:
        for i in range(n):
            await awarded_purchase(
                factory,
                settings,
                owner_user,
                provider_user,
                awarded_at=start - timedelta(days=30 - i),
                title=f"城南片区地质灾害危险性评估（{i}）",
            )
        async with factory() as session:  # open ones, each with the firm's bid
            for i in range(n):
                draft = await purchases.create_draft(
                    session,
                    actor_of(owner_user, "owner"),
                    settings,
                    PurchaseCreate(
                        title=f"地质灾害危险性评估（在投{i}）",
                        catalog_code=AWARD_CODE,
                        description=SAMPLE_SCOPE,
                        budget_cap=Decimal("20000.00"),
                        funding="fiscal",
                        method="random",
                        min_bids=1,
                        bid_deadline=purchases.earliest_deadline(settings, clock.now()) + timedelta(hours=1),
                        service_days=11,
                    ),
                )
                await purchases.publish(session, actor_of(owner_user, "owner"), settings, draft.id)
                await bid_service.submit(
                    session,
                    actor_of(provider_user, "provider"),
                    settings,
                    draft.id,
                    price=Decimal("9000.00"),
                    service_days=11,
                    note="",
                )
            await session.commit()

    finance = await account(client, factory, "finance", "czj", "云岭县财政局")
    pages = {"provider": await browser(app, "prov1"), "owner": await browser(app, "owner1")}
    pages["finance"] = await browser(app, "czj")
    try:
        await award(2)
        small = await _counts(client, pages, finance)
        await award(3)
        large = await _counts(client, pages, finance)
    finally:
        for page in pages.values():
            await page.aclose()
    assert all(small.values()), small  # the counter sees the statements
    grown = {path: (small[path], large[path]) for path in small if large[path] > small[path]}
    assert not grown, grown
