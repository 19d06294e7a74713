"""Helpers for integration tests: accounts, sign-in, direct service calls."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from market.actor import SYSTEM
from market.identity import services as identity
from market.identity.models import Role
from market.settings import Settings

PASSWORD = "Secret-2026-pass"
TEST_SETTINGS = Settings(argon2_profile="fast")  # what make_user hashes passwords with


async def make_user(
    factory: async_sessionmaker[AsyncSession], role: str, org_name: str, username: str, password: str = PASSWORD
) -> Any:
    async with factory() as session:
        user = await identity.ensure_user(
            session, SYSTEM, TEST_SETTINGS, role=Role(role), org_name=org_name, username=username, password=password
        )
        await session.commit()
        return user


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.delete("market_session")  # API clients authenticate with the bearer token
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def account(
    client: httpx.AsyncClient,
    factory: async_sessionmaker[AsyncSession],
    role: str,
    username: str,
    org_name: str | None = None,
) -> dict[str, str]:
    await make_user(factory, role, org_name or f"{username} 组织", username)
    return await login(client, username)


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status and body["title"] and "type" in body and "detail" in body
    if field is not None:
        fields = [e["field"] for e in body.get("errors", [])]
        assert field in fields, body
    return body


# --- listings rows for bidding tests (inserted directly: the listings services are another package's) ---


async def make_catalog_item(
    factory: async_sessionmaker[AsyncSession],
    code: str = "ZJ-HP-01",
    *,
    name: str = "环境影响评价文件编制",
    time_limit_days: int = 20,
    fee_type: str = "market_regulated",
    fee_cap: str | None = None,
    status: str = "retained",
) -> Any:
    from datetime import date
    from decimal import Decimal

    from listings.models import CatalogItem

    async with factory() as session:
        item = CatalogItem(
            code=code,
            name=name,
            category="环境保护",
            approval="建设项目环境影响评价审批",
            department="云岭县生态环境分局",
            legal_basis="《中华人民共和国环境影响评价法》",
            time_limit_days=time_limit_days,
            fee_type=fee_type,
            fee_standard="市场调节价" if fee_type == "market_regulated" else "按省定标准",
            fee_cap=Decimal(fee_cap) if fee_cap else None,
            status=status,
            effective_date=date(2024, 1, 1),
        )
        session.add(item)
        await session.commit()
        return item


async def qualify(
    factory: async_sessionmaker[AsyncSession],
    provider_id: Any,
    codes: list[str],
    *,
    status: str = "approved",
    valid_until: Any = None,
) -> None:
    """Give a provider an approved qualification covering the catalog items ``codes``."""
    from datetime import date

    from sqlalchemy import select

    from listings.models import CatalogItem, Qualification, QualificationItem

    async with factory() as session:
        q = Qualification(
            provider_id=provider_id,
            name="环评资质",
            grade="乙级",
            certificate_no=f"HP-{str(provider_id)[:8]}",
            issuer="云南省生态环境厅",
            valid_until=valid_until or date(2099, 12, 31),
            status=status,
        )
        session.add(q)
        await session.flush()
        for code in codes:
            item_id = await session.scalar(select(CatalogItem.id).where(CatalogItem.code == code))
            session.add(QualificationItem(qualification_id=q.id, item_id=item_id))
        await session.commit()


async def provider(
    client: httpx.AsyncClient,
    factory: async_sessionmaker[AsyncSession],
    username: str,
    codes: list[str] | None = None,
    org_name: str | None = None,
) -> tuple[dict[str, str], Any]:
    """An approved provider (qualified for ``codes``), signed in: (headers, org_id)."""
    user = await make_user(factory, "provider", org_name or f"{username} 咨询有限公司", username)
    if codes:
        await qualify(factory, user.org_id, codes)
    return await login(client, username), user.org_id


async def owner(
    client: httpx.AsyncClient, factory: async_sessionmaker[AsyncSession], username: str, org_name: str | None = None
) -> tuple[dict[str, str], Any]:
    """An approved owner organisation with a user, signed in: (headers, org_id)."""
    user = await make_user(factory, "owner", org_name or f"云岭县{username}局", username)
    return await login(client, username), user.org_id


def purchase_body(
    code: str = "ZJ-HP-01", deadline: Any = None, *, settings: Settings | None = None, **changes: Any
) -> dict[str, Any]:
    """A valid draft (the deadline defaults to the earliest one ``settings`` allow, plus a minute)."""
    from datetime import timedelta

    from bidding.purchases import earliest_deadline
    from market import clock

    deadline = deadline or earliest_deadline(settings or Settings(), clock.now()) + timedelta(minutes=1)
    body: dict[str, Any] = {
        "title": "云岭县城南污水处理厂扩建工程环境影响评价",
        "catalog_code": code,
        "description": "编制环境影响报告书，配合审批部门完成技术评审。",
        "budget_cap": "50000.00",
        "funding": "fiscal",
        "method": "random",
        "bid_deadline": deadline.isoformat(),
        "service_days": 15,
    }
    body.update(changes)
    return body


# --- contracts (invoices package) ---------------------------------------------------------------
# Contracts come from real awards: the helpers run a purchase through the bidding services
# (a verifiable draw among the valid bids) so that the award's ``purchase.awarded`` event
# drafts the contract, exactly as in production.

SAMPLE_SCOPE = "对云岭县城南片区 12.6 公顷建设用地开展地质灾害危险性评估，提交评估报告及附图。"
AWARD_CODE = "ZJ-013"


async def make_parties(
    factory: async_sessionmaker[AsyncSession],
    *,
    owner: str = "owner1",
    provider: str = "prov1",
    owner_org: str = "云岭县自然资源局",
    provider_org: str = "云南地勘工程咨询有限公司",
) -> tuple[Any, Any]:
    """An approved owner and an approved provider (with a user each), with real-looking details."""
    from market.identity.models import Organization

    owner_user = await make_user(factory, "owner", owner_org, owner)
    provider_user = await make_user(factory, "provider", provider_org, provider)
    async with factory() as session:
        for user, rep, address in (
            (owner_user, "刘洋", "云岭县人民路 66 号"),
            (provider_user, "陈静", "昆明市五华区学府路 8 号"),
        ):
            org = await session.get(Organization, user.org_id)
            if org.legal_rep == "—":
                org.legal_rep, org.address = rep, address
        await session.commit()
    return owner_user, provider_user


def actor_of(user: Any, role: str, ip: str = "198.51.100.20") -> Any:
    from market.actor import Actor

    return Actor(user_id=user.id, org_id=user.org_id, role=role, username=user.username, ip=ip)


async def awarded_purchase(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    owner_user: Any,
    provider_user: Any,
    *,
    amount: Decimal = Decimal("12800.00"),
    service_days: int = 11,
    awarded_at: datetime | None = None,
    title: str = "城南片区建设用地地质灾害危险性评估",
) -> Any:
    """A purchase the owner published (random draw, one valid bid enough), the provider bid on, the
    draw selected, and that
    was awarded at ``awarded_at`` (default: now, by the clock) when its publicity ended; the award
    drafts the contract. The clock is left as it was."""
    from bidding import bids as bid_service
    from bidding import purchases, selecting, timeline
    from bidding.models import Purchase
    from bidding.schemas import PurchaseCreate
    from listings.models import CatalogItem
    from market import clock
    from market.app import wire

    wire(settings)
    owner_actor, provider_actor = actor_of(owner_user, "owner"), actor_of(provider_user, "provider")
    previous = clock.frozen_moment()
    awarded_at = awarded_at or clock.now()
    try:
        async with factory() as session:
            exists = await session.scalar(select(CatalogItem.id).where(CatalogItem.code == AWARD_CODE))
        if exists is None:
            await make_catalog_item(factory, AWARD_CODE, name="地质灾害危险性评估", time_limit_days=40)
        from listings.services import qualified

        async with factory() as session:
            ready = await qualified(session, provider_user.org_id, AWARD_CODE, clock.today_local())
        if not ready:
            await qualify(factory, provider_user.org_id, [AWARD_CODE])
        start = awarded_at - timedelta(days=30)
        clock.freeze(start)
        async with factory() as session:
            draft = await purchases.create_draft(
                session,
                owner_actor,
                settings,
                PurchaseCreate(
                    title=title,
                    catalog_code=AWARD_CODE,
                    description=SAMPLE_SCOPE,
                    budget_cap=max(amount, Decimal("100.00")),
                    funding="fiscal",
                    method="random",
                    min_bids=1,
                    bid_deadline=purchases.earliest_deadline(settings, start) + timedelta(hours=1),
                    service_days=service_days,
                ),
            )
            published = await purchases.publish(session, owner_actor, settings, draft.id)
            await bid_service.submit(
                session, provider_actor, settings, published.id, price=amount, service_days=service_days, note=""
            )
            deadline = published.bid_deadline
            await session.commit()
        clock.freeze(deadline + timedelta(minutes=5))
        async with factory() as session:
            p = await timeline.lock(session, draft.id)
            await timeline.apply_due(session, settings, p, clock.now())
            await selecting.select_winner(session, owner_actor, settings, draft.id)
            await session.commit()
        clock.freeze(awarded_at)
        async with factory() as session:
            p = await timeline.lock(session, draft.id)
            await timeline.apply_due(session, settings, p, awarded_at)
            await session.commit()
        async with factory() as session:
            purchase = await session.get(Purchase, draft.id)
            assert purchase is not None and purchase.status == "awarded", purchase
            return purchase
    finally:
        clock.freeze(previous)


def award(purchase: Any, **changes: Any) -> Any:
    """The :class:`~bidding.events.PurchaseAwarded` event of an awarded purchase."""
    from bidding.events import PurchaseAwarded

    data: dict[str, Any] = {
        "purchase_id": purchase.id,
        "purchase_ref": purchase.ref,
        "title": purchase.title,
        "scope": purchase.description,
        "catalog_code": purchase.catalog_code,
        "catalog_name": "地质灾害危险性评估",
        "owner_id": purchase.owner_id,
        "provider_id": changes.pop("provider_id", None),
        "bid_id": changes.pop("bid_id", None),
        "amount": purchase.budget_cap,
        "service_days": purchase.service_days,
        "method": purchase.method,
        "draw_seed": None,
        "awarded_at": purchase.awarded_at,
    }
    data.update(changes)
    return PurchaseAwarded(**data)


async def draft_contract(
    factory: async_sessionmaker[AsyncSession], settings: Any, owner_user: Any, provider_user: Any, **changes: Any
) -> Any:
    """The contract the award of a fresh purchase drafted (``changes``: amount, service_days, awarded_at)."""
    from invoices.models import Contract

    purchase = await awarded_purchase(factory, settings, owner_user, provider_user, **changes)
    async with factory() as session:
        contract = await session.scalar(select(Contract).where(Contract.purchase_id == purchase.id))
        assert contract is not None, "the award did not draft a contract"
        return contract


async def signed_contract(
    factory: async_sessionmaker[AsyncSession], settings: Any, owner_user: Any, provider_user: Any, **changes: Any
) -> Any:
    """A contract drafted by an award and signed by both parties (through the services)."""
    from invoices.contracts import sign_contract

    contract = await draft_contract(factory, settings, owner_user, provider_user, **changes)
    async with factory() as session:
        await sign_contract(session, actor_of(owner_user, "owner"), settings, contract.id)
        contract = await sign_contract(session, actor_of(provider_user, "provider"), settings, contract.id)
        await session.commit()
        return contract


async def browser(app: Any, username: str, password: str = PASSWORD) -> httpx.AsyncClient:
    """A client signed in through the login form, holding the session and CSRF cookies (for pages).
    Close it with ``await client.aclose()``."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50001))
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    await client.get("/login")
    token = client.cookies.get("market_csrf")
    r = await client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert r.status_code == 303, r.text
    return client


def csrf(client: httpx.AsyncClient) -> str:
    return client.cookies.get("market_csrf") or ""


@contextlib.contextmanager
def statements(engine: Any) -> Iterator[list[str]]:
    """The SQL statements ``engine`` runs inside the block, in order."""
    seen: list[str] = []

    def _seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", _seen)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", _seen)
