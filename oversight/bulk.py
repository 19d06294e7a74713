"""A generated marketplace of a chosen size (``market demo --size town|province`` or
``--purchases N``), written by bulk inserts, for benchmarks and scale tests.

It sits on top of the county demo (which ``market demo`` loads first: the operator, the finance
bureau, the catalog) and adds owners, firms (each with one user, one approved qualification
covering a few catalog items), purchases in every settled state with their bids, selections,
contracts, invoices and payments. It lives here, in the top layer, because it writes the tables
of every package below it; it writes them only as they are, through SQLAlchemy Core inserts of
many rows per statement (``executemany``), never bypassing a constraint or a trigger:

* a purchase is inserted ``open`` with its bids (the trigger ``bids_only_while_open`` checks each
  bid), and only then moved to its final status by one UPDATE per status (the frozen terms are
  not touched);
* contracts, invoices and payments are inserted with consistent running totals (CHECKs);
* reference numbers (CG-, HT-, FP-) continue the counter rows of :mod:`market.numbering`, which
  are raised to the last number used;
* every generated fact is in the audit chain: events are hash-chained with
  :func:`market.audit.service.event_hash` behind the locked head row, exactly as
  ``audit.record`` would write them, so ``market audit verify`` passes. ``occurred_at`` is the
  fact's own (past) time; sequence order is the order of generation.

Deterministic: the same seed and size give the same data (ids included). Work is committed per
batch of purchases, so progress survives an interruption (a rerun adds another set).
"""

from __future__ import annotations

import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from bidding.models import Bid, Funding, Method, Purchase, PurchaseStatus, Selection
from bidding.rules import bid_content, digest_of
from invoices import rules as invoice_rules
from invoices.models import Contract, ContractStatus, Invoice, InvoiceKind, Payment
from listings.models import CatalogItem, ItemStatus, Qualification, QualificationItem, ReviewStatus
from market import clock, numbering
from market.audit.models import AuditEvent, AuditHead
from market.audit.service import event_hash
from market.collation import name_sort_key
from market.db import is_postgres
from market.identity.models import Organization, OrgKind, OrgStatus, Role, User
from market.identity.passwords import hash_password_sync
from market.identity.services import generate_uscc
from market.jsonutil import canonical
from market.money import to_money
from market.numbering import NumberCounter
from market.workdays import add_working_days_to_date

SIZES = {"town": 2_000, "province": 50_000}
BATCH = 500  # purchases per transaction

CITIES = ["昆明", "曲靖", "玉溪", "保山", "昭通", "丽江", "普洱", "临沧", "楚雄", "红河", "文山", "大理", "德宏"]
WORKS = [
    "道路改扩建工程",
    "污水处理厂建设项目",
    "学校教学楼建设项目",
    "医院综合楼项目",
    "标准厂房建设项目",
    "供水工程",
    "河道治理工程",
    "老旧小区改造项目",
    "冷链物流中心项目",
    "体育馆建设项目",
]
BUREAUS = ["住房和城乡建设局", "交通运输局", "水务局", "教育体育局", "卫生健康局"]
FIRM_KINDS = ["工程咨询", "测绘", "环境评价", "造价咨询", "勘察设计", "检测", "安全评价", "规划设计"]


_working_day = lru_cache(maxsize=65536)(add_working_days_to_date)


def add_period(start: datetime, days: int) -> datetime:
    """:func:`market.workdays.add_period` (unaccelerated), with the working-day arithmetic
    remembered per date (the generated history has only a few hundred distinct dates)."""
    local = clock.to_local(start)
    return datetime.combine(_working_day(local.date(), days), local.timetz()).astimezone(UTC)


def sizes(purchases: int) -> dict[str, int]:
    """How many owners and firms go with ``purchases`` (province: 200 owners, 2,000 firms)."""
    return {"purchases": purchases, "owners": max(8, purchases // 250), "firms": max(24, purchases // 25)}


@dataclass
class _Chain:
    """The audit head as this generator advances it (locked in each batch's transaction)."""

    seq: int = 0
    prev: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        at: datetime,
        role: Role,
        user: uuid.UUID | None,
        org: uuid.UUID | None,
        action: str,
        entity_type: str,
        entity_id: uuid.UUID,
        data: dict[str, Any],
    ) -> None:
        self.seq += 1
        row: dict[str, Any] = {
            "seq": self.seq,
            "occurred_at": at,
            "actor_user_id": user,
            "actor_org_id": org,
            "actor_role": role.value,
            "actor_ip": None,
            "action": action,
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "data": canonical({**data, "generated": True}),
            "prev_hash": self.prev,
            "hash": "",
        }
        # the very function the chain is verified with, on a plain object (an ORM instance per event
        # costs more than the hash)
        row["hash"] = event_hash(cast(AuditEvent, SimpleNamespace(**row)))
        self.prev = row["hash"]
        self.rows.append(row)


def _columns(model: Any) -> list[str]:
    return [c.name for c in _table(model).columns]


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


class _Numbers:
    """Numbers of a series taken in memory from the counter rows, written back per batch."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str, int], int] = {}

    async def take(self, session: AsyncSession, series: str, year: int, scope: str = numbering.PLATFORM) -> int:
        key = (series, scope, year)
        if key not in self.values:
            current = await session.scalar(
                select(col(NumberCounter.value)).where(
                    col(NumberCounter.series) == series,
                    col(NumberCounter.scope) == scope,
                    col(NumberCounter.year) == year,
                )
            )
            self.values[key] = current or 0
        self.values[key] += 1
        return self.values[key]

    async def save(self, session: AsyncSession) -> None:
        for (series, scope, year), value in self.values.items():
            updated = await session.execute(
                update(NumberCounter)
                .where(
                    col(NumberCounter.series) == series,
                    col(NumberCounter.scope) == scope,
                    col(NumberCounter.year) == year,
                )
                .values(value=value)
            )
            if getattr(updated, "rowcount", 0) == 0:
                await session.execute(insert(NumberCounter).values(series=series, scope=scope, year=year, value=value))


async def _insert(session: AsyncSession, model: Any, rows: list[dict[str, Any]], chunk: int = 2000) -> None:
    for i in range(0, len(rows), chunk):
        await session.execute(insert(_table(model)), rows[i : i + chunk])


SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰萍红建国志文丽斌晶鹏宇浩"


def _org_row(kind: OrgKind, name: str, uscc: str, rnd: random.Random, now: datetime) -> dict[str, Any]:
    return {
        "id": uuid.UUID(int=rnd.getrandbits(128), version=4),
        "kind": kind.value,
        "name": name,
        "name_key": name_sort_key(name),  # as the app stores it with every name it writes
        "uscc": uscc,
        # a surname and a two-character given name: about 16,000 names, so that a province's 2,000
        # firms share a legal representative now and then (a red flag), not by the dozen
        "legal_rep": rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(GIVEN),
        "address": f"云南省{rnd.choice(CITIES)}市{rnd.randint(1, 300)}号",
        "phone": f"0871-{rnd.randint(1000000, 9999999)}",
        "email": f"{uscc.lower()}@example.cn",
        "org_type": "government" if kind == OrgKind.owner else None,
        "status": OrgStatus.approved.value,
        "status_reason": None,
        "suspended_until": None,
        "commitment_accepted_at": now,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }


async def generate(
    factory: async_sessionmaker[AsyncSession],
    purchases: int,
    *,
    seed: int = 2026,
    password: str = "demo2026",  # noqa: S107 - the demo password, printed in the README
    progress: Callable[[str], None] = lambda _msg: None,
    all_open: bool = False,
) -> dict[str, int]:
    """Add ``purchases`` generated purchases (and their owners, firms, bids, contracts, invoices
    and payments) to a database that holds the county demo. Returns the counts written.

    ``all_open``: every purchase open, with its bids, its deadline 1 to 10 days ahead (the
    worker benchmark moves the clock past them all and times the closing)."""
    rnd = random.Random(seed)
    started = time.monotonic()
    now = clock.now().replace(microsecond=0)
    n = sizes(purchases)
    counts: dict[str, int] = defaultdict(int)
    numbers = _Numbers()
    pw_hash = hash_password_sync(password, "standard")  # computed once, shared by every generated user
    tag = f"{seed}-{rnd.getrandbits(24):06x}"  # distinguishes the usernames of two runs

    async with factory() as session:
        items = (
            await session.execute(
                select(col(CatalogItem.id), col(CatalogItem.code), col(CatalogItem.name), col(CatalogItem.fee_cap))
                .where(col(CatalogItem.status) == ItemStatus.retained)
                .order_by(col(CatalogItem.code))
            )
        ).all()
        taken = set((await session.scalars(select(col(Organization.uscc)))).all())
    if not items:
        raise RuntimeError("no retained catalog items: load the county demo first (market demo)")

    # --- owners and firms, one user each; each firm qualified for 3 to 6 items ------------------
    orgs: list[dict[str, Any]] = []
    users: list[dict[str, Any]] = []
    quals: list[dict[str, Any]] = []
    qual_items: list[dict[str, Any]] = []
    owners: list[tuple[uuid.UUID, uuid.UUID]] = []  # (org, user)
    firms: list[tuple[uuid.UUID, uuid.UUID]] = []
    qualified: dict[uuid.UUID, list[int]] = defaultdict(list)  # item → indexes into firms
    for kind, count in ((OrgKind.owner, n["owners"]), (OrgKind.provider, n["firms"])):
        for i in range(count):
            uscc = generate_uscc(f"bulk:{tag}:{kind.value}:{i}")
            while uscc in taken:
                uscc = generate_uscc(f"bulk:{tag}:{kind.value}:{i}:{rnd.random()}")
            taken.add(uscc)
            city = rnd.choice(CITIES)
            name = (
                f"{city}市第{i + 1}{rnd.choice(BUREAUS)}"
                if kind == OrgKind.owner
                else f"云南{city}{rnd.choice(FIRM_KINDS)}有限公司（{i + 1}）"
            )
            org = _org_row(kind, name, uscc, rnd, now)
            orgs.append(org)
            user_id = uuid.UUID(int=rnd.getrandbits(128), version=4)
            users.append(
                {
                    "id": user_id,
                    "org_id": org["id"],
                    "username": f"g{tag}-{kind.value[0]}{i + 1}",
                    "display_name": f"{name[:40]} 经办人",
                    "password_hash": pw_hash,
                    "is_active": True,
                    "created_at": now,
                    "last_login_at": None,
                }
            )
            if kind == OrgKind.owner:
                owners.append((org["id"], user_id))
                continue
            firms.append((org["id"], user_id))
            qual_id = uuid.UUID(int=rnd.getrandbits(128), version=4)
            quals.append(
                {
                    "id": qual_id,
                    "provider_id": org["id"],
                    "name": rnd.choice(FIRM_KINDS) + "资质",
                    "grade": "乙级",
                    "certificate_no": f"ZZ-{uscc}",
                    "issuer": "云南省住房和城乡建设厅",
                    "valid_until": date(now.year + 3, 12, 31),
                    "document_sha256": None,
                    "status": ReviewStatus.approved.value,
                    "review_reason": None,
                    "reviewed_at": now,
                    "reviewed_by": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            for item in rnd.sample(items, min(len(items), rnd.randint(3, 6))):
                qual_items.append({"qualification_id": qual_id, "item_id": item.id})
                qualified[item.id].append(len(firms) - 1)
    # every item gets at least three firms, so every purchase can draw bidders
    for item in items:
        while len(qualified[item.id]) < 3:
            k = rnd.randrange(len(firms))
            if k not in qualified[item.id]:
                qual_items.append({"qualification_id": quals[k]["id"], "item_id": item.id})
                qualified[item.id].append(k)

    async with factory() as session, session.begin():
        chain = await _lock_head(session)
        for org in orgs:
            kind = OrgKind(org["kind"])
            chain.add(
                now,
                Role.admin,
                None,
                None,
                "org.created",
                "organization",
                org["id"],
                {"kind": kind.value, "name": org["name"], "uscc": org["uscc"]},
            )
        await _insert(session, Organization, orgs)
        await _insert(session, User, users)
        await _insert(session, Qualification, quals)
        await _insert(session, QualificationItem, qual_items)
        await _write_chain(session, chain)
    counts.update(owners=len(owners), firms=len(firms), users=len(users), qualifications=len(quals))
    progress(f"{len(orgs)} organisations in {time.monotonic() - started:.1f} s")

    parties = {org["id"]: org for org in orgs}
    # --- purchases, in batches --------------------------------------------------------------------
    span_days = 330
    for start in range(0, purchases, BATCH):
        async with factory() as session, session.begin():
            chain = await _lock_head(session)
            batch = _Batch()
            for _ in range(start, min(purchases, start + BATCH)):
                await _one_purchase(
                    session,
                    rnd,
                    now,
                    span_days,
                    items,
                    owners,
                    firms,
                    qualified,
                    parties,
                    numbers,
                    chain,
                    batch,
                    all_open=all_open,
                )
            for row in batch.purchases:
                # the number of the batch's last audit event, as bidding.changes stamps a commit that
                # changes purchases: the open data feed and the list's totals (bidding.queries) see
                # each generated purchase as changed by this commit
                row["change_seq"] = chain.seq
            await _insert(session, Purchase, batch.purchases)
            await _insert(session, Bid, batch.bids)
            for status, ids in batch.final_status.items():
                for i in range(0, len(ids), 500):
                    await session.execute(
                        update(_table(Purchase))
                        .where(_table(Purchase).c.id.in_(ids[i : i + 500]))
                        .values(status=status.value)
                    )
            await _insert(session, Selection, batch.selections)
            await _insert(session, Contract, batch.contracts)
            await _insert(session, Invoice, batch.invoices)
            await _insert(session, Payment, batch.payments)
            await numbers.save(session)
            await _write_chain(session, chain)
            for name in ("purchases", "bids", "selections", "contracts", "invoices", "payments"):
                counts[name] += len(getattr(batch, name))
            counts["audit events"] += chain.seq - chain.first
        progress(f"{min(purchases, start + BATCH)} purchases in {time.monotonic() - started:.1f} s")
    counts["seconds"] = round(time.monotonic() - started)
    return dict(counts)


@dataclass
class _Batch:
    purchases: list[dict[str, Any]] = field(default_factory=list)
    bids: list[dict[str, Any]] = field(default_factory=list)
    selections: list[dict[str, Any]] = field(default_factory=list)
    contracts: list[dict[str, Any]] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    final_status: dict[PurchaseStatus, list[uuid.UUID]] = field(default_factory=lambda: defaultdict(list))


class _LockedChain(_Chain):
    first: int = 0


async def _lock_head(session: AsyncSession) -> _LockedChain:
    if not is_postgres(session):
        # take SQLite's write lock now, as the app's writers do (BEGIN IMMEDIATE would, too)
        await session.execute(update(AuditHead).where(col(AuditHead.id) == -1).values(seq=0))
    head = (
        await session.execute(
            select(col(AuditHead.seq), col(AuditHead.hash)).where(col(AuditHead.id) == 1).with_for_update()
        )
    ).one()
    chain = _LockedChain(seq=head.seq, prev=head.hash)
    chain.first = head.seq
    return chain


async def _write_chain(session: AsyncSession, chain: _LockedChain) -> None:
    await _insert(session, AuditEvent, chain.rows)
    await session.execute(update(AuditHead).where(col(AuditHead.id) == 1).values(seq=chain.seq, hash=chain.prev))


# the share of settled states among generated purchases (the rest is contracted)
_STATES = [
    (PurchaseStatus.open, 0.05),
    (PurchaseStatus.failed, 0.08),
    (PurchaseStatus.cancelled, 0.03),
    (PurchaseStatus.publicity, 0.04),
    (PurchaseStatus.awarded, 0.10),
]


def _pick_state(rnd: random.Random) -> PurchaseStatus:
    x = rnd.random()
    for state, share in _STATES:
        if x < share:
            return state
        x -= share
    return PurchaseStatus.contracted


async def _one_purchase(
    session: AsyncSession,
    rnd: random.Random,
    now: datetime,
    span_days: int,
    items: Sequence[Any],
    owners: list[tuple[uuid.UUID, uuid.UUID]],
    firms: list[tuple[uuid.UUID, uuid.UUID]],
    qualified: dict[uuid.UUID, list[int]],
    parties: dict[uuid.UUID, dict[str, Any]],
    numbers: _Numbers,
    chain: _LockedChain,
    batch: _Batch,
    *,
    all_open: bool = False,
) -> None:
    state = _pick_state(rnd)
    if all_open:
        state = PurchaseStatus.open
    item = rnd.choice(items)
    owner_id, owner_user = rnd.choice(owners)
    if state == PurchaseStatus.open:
        published = now - timedelta(days=rnd.randint(1, 6), minutes=rnd.randint(0, 600))
        deadline = now + timedelta(days=rnd.randint(1, 10))
    else:
        published = now - timedelta(days=rnd.randint(30, span_days), minutes=rnd.randint(0, 600))
        deadline = published + timedelta(days=rnd.randint(7, 14))
    published = published.replace(microsecond=0)
    year = invoice_rules.local_year(published)
    ref = numbering.reference("CG", year, await numbers.take(session, "purchase", year))
    cap = to_money(item.fee_cap) if item.fee_cap else to_money(rnd.randint(20, 800) * 1000)
    method = Method.random if rnd.random() < 0.4 else Method.lowest_price
    service_days = rnd.randint(20, 90)
    pid = uuid.UUID(int=rnd.getrandbits(128), version=4)
    title = f"{rnd.choice(CITIES)}{rnd.choice(WORKS)}{item.name}"[:200]
    row: dict[str, Any] = {c: None for c in _columns(Purchase)}
    row.update(
        id=pid,
        ref=ref,
        round=1,
        change_seq=0,  # stamped with the batch's last event when the batch is inserted (generate)
        owner_id=owner_id,
        created_by=owner_user,
        catalog_item_id=item.id,
        catalog_code=item.code,
        title=title,
        description=f"为{title}提供{item.name}服务。",
        budget_cap=cap,
        funding=rnd.choice(list(Funding)).value,
        method=method.value,
        bid_deadline=deadline,
        service_days=service_days,
        min_bids=3,
        status=PurchaseStatus.open.value,
        published_at=published,
        created_at=published,
        updated_at=published,
    )
    chain.add(
        published,
        Role.owner,
        owner_user,
        owner_id,
        "purchase.published",
        "purchase",
        pid,
        {"ref": ref, "title": title, "budget_cap": cap, "bid_deadline": deadline},
    )
    batch.purchases.append(row)

    # bids: 0-2 for a failed purchase, none for most cancelled ones, 3-9 otherwise
    if state == PurchaseStatus.failed:
        n_bids = rnd.randint(0, 2)
    elif state == PurchaseStatus.cancelled:
        n_bids = 0
    else:
        n_bids = rnd.randint(3, 9)
    pool = qualified[item.id]
    bidders = rnd.sample(pool, min(n_bids, len(pool)))
    bids: list[dict[str, Any]] = []
    latest = min(deadline, now) - timedelta(minutes=1)
    for k in bidders:
        provider_id, provider_user = firms[k]
        bid_id = uuid.UUID(int=rnd.getrandbits(128), version=4)
        # 70 % to 100 % of the cap to the yuan's hundredth: two firms rarely offer the same price
        price = to_money(cap * Decimal(rnd.randint(7000, 10000)) / 10000)
        received = published + (latest - published) * rnd.random()
        received = received.replace(microsecond=0)
        days = rnd.randint(max(1, service_days // 2), service_days)
        digest = digest_of(
            bid_content(
                bid_id=bid_id,
                purchase_id=pid,
                purchase_ref=ref,
                provider_id=provider_id,
                price=price,
                service_days=days,
                note="",
                received_at=received,
            )
        )
        bid: dict[str, Any] = {c: None for c in _columns(Bid)}
        bid.update(
            id=bid_id,
            purchase_id=pid,
            provider_id=provider_id,
            submitted_by=provider_user,
            price=price,
            service_days=days,
            note="",
            received_at=received,
            digest=digest,
            status="active",
            valid=None if state == PurchaseStatus.open else True,
            abnormally_low=False,
            excluded=False,
        )
        chain.add(
            received,
            Role.provider,
            provider_user,
            provider_id,
            "bid.submitted",
            "bid",
            bid_id,
            {"purchase_id": pid, "digest": digest},
        )
        bids.append(bid)
    batch.bids.extend(bids)

    if state == PurchaseStatus.open:
        row["next_check_at"] = deadline
        return
    batch.final_status[state].append(pid)
    if state == PurchaseStatus.cancelled:
        row.update(closed_at=deadline - timedelta(days=2), cancel_reason="项目计划调整，采购取消。")
        chain.add(
            row["closed_at"],
            Role.owner,
            owner_user,
            owner_id,
            "purchase.cancelled",
            "purchase",
            pid,
            {"reason": row["cancel_reason"]},
        )
        return
    row["opened_at"] = deadline
    if state == PurchaseStatus.failed:
        row.update(closed_at=deadline, fail_reason="too_few_valid_bids")
        chain.add(
            deadline,
            Role.admin,
            None,
            None,
            "purchase.failed",
            "purchase",
            pid,
            {"reason": "too_few_valid_bids", "valid_bids": len(bids)},
        )
        return

    # selection: the lowest price, or a draw among the valid bids (seeded; the draw's proof is left out)
    winner = min(bids, key=lambda b: (b["price"], b["digest"])) if method == Method.lowest_price else rnd.choice(bids)
    selected = deadline + timedelta(hours=1)
    publicity_ends = add_period(selected, 3)
    if state == PurchaseStatus.publicity:
        publicity_ends = now + timedelta(days=rnd.randint(1, 3))
    evaluation = [
        {"bid_id": str(b["id"]), "digest": b["digest"], "price": f"{b['price']:.2f}"}
        for b in sorted(bids, key=lambda b: b["digest"])
    ]
    sel_id = uuid.UUID(int=rnd.getrandbits(128), version=4)
    batch.selections.append(
        {
            "id": sel_id,
            "purchase_id": pid,
            "round": 1,
            "method": method.value,
            "winner_bid_id": winner["id"],
            "price": winner["price"],
            "reason": None,
            "evaluation": canonical(evaluation),
            "draw_commitment": None,
            "draw_secret": None,
            "draw_seed": None,
            "draw_candidates": None,
            "draw_index": None,
            "selected_at": selected,
            "selected_by": None,
            "publicity_ends_at": publicity_ends,
            "status": "current",
        }
    )
    row.update(selected_at=selected, publicity_ends_at=publicity_ends)
    chain.add(
        selected,
        Role.admin,
        None,
        None,
        "purchase.selected",
        "purchase",
        pid,
        {"selection_id": sel_id, "winner_bid_id": winner["id"], "price": winner["price"]},
    )
    if state == PurchaseStatus.publicity:
        row["next_check_at"] = publicity_ends
        return
    row["awarded_at"] = publicity_ends
    chain.add(
        publicity_ends, Role.admin, None, None, "purchase.awarded", "purchase", pid, {"winner_bid_id": winner["id"]}
    )
    if state == PurchaseStatus.awarded:
        return

    # contract, signed a few days after the award; some delivered, most accepted, invoiced and paid
    provider_id, provider_user = winner["provider_id"], winner["submitted_by"]
    signed = publicity_ends + timedelta(days=rnd.randint(1, 5))
    if signed >= now:
        batch.final_status[PurchaseStatus.contracted].remove(pid)
        batch.final_status[PurchaseStatus.awarded].append(pid)
        return
    cyear = invoice_rules.local_year(signed)
    number = numbering.reference(invoice_rules.CONTRACT_PREFIX, cyear, await numbers.take(session, "contract", cyear))
    amount = winner["price"]
    due = add_period(signed, winner["service_days"])
    cid = uuid.UUID(int=rnd.getrandbits(128), version=4)
    progress = rnd.random()
    status = ContractStatus.signed
    delivered = accepted = paid_on = paid_recorded = None
    invoiced = paid = Decimal("0.00")
    if due < now and progress > 0.1:
        delivered = due - timedelta(days=rnd.randint(0, 10))
        status = ContractStatus.delivered
        if progress > 0.2 and delivered + timedelta(days=5) < now:
            accepted = delivered + timedelta(days=rnd.randint(1, 5))
            status = ContractStatus.accepted
    row.update(contracted_at=signed, contract_id=cid)
    contract: dict[str, Any] = {c: None for c in _columns(Contract)}
    contract.update(
        id=cid,
        number=number,
        purchase_id=pid,
        purchase_ref=ref,
        bid_id=winner["id"],
        title=title,
        scope=row["description"],
        catalog_code=item.code,
        catalog_name=item.name,
        method=method.value,
        awarded_at=publicity_ends,
        owner_id=owner_id,
        provider_id=provider_id,
        amount=amount,
        amount_in_words=invoice_rules.amount_in_capitals(amount),
        service_days=winner["service_days"],
        payment_days=30,
        template="standard-2026",
        drafted_at=publicity_ends,
        sign_by=publicity_ends + timedelta(days=10),
        owner_signed_at=signed,
        owner_signed_by=owner_user,
        provider_signed_at=signed,
        provider_signed_by=provider_user,
        signed_at=signed,
        due_at=due,
        status=status.value,
        amount_current=amount,
        due_at_current=due,
        delivered_at=delivered,
        accepted_at=accepted,
        # the payment term's end, stored at acceptance as invoices.contracts.accept does
        payment_due_at=invoice_rules.payment_deadline(accepted, 30) if accepted is not None else None,
        updated_at=accepted or delivered or signed,
    )
    for side, org_id in (("owner", owner_id), ("provider", provider_id)):
        party = parties[org_id]
        for key in ("name", "uscc", "address", "legal_rep"):
            contract[f"{side}_{key}"] = party[key]
    batch.contracts.append(contract)
    chain.add(
        signed,
        Role.owner,
        owner_user,
        owner_id,
        "contract.signed",
        "contract",
        cid,
        {"number": number, "amount": amount, "purchase_id": pid},
    )
    if accepted is not None:
        issued = accepted + timedelta(days=rnd.randint(0, 3))
        if issued < now:
            iyear = invoice_rules.local_year(issued)
            series = invoice_rules.INVOICE_SERIES[InvoiceKind.invoice]
            seq = await numbers.take(session, series, iyear, scope=str(provider_id))
            inv_id = uuid.UUID(int=rnd.getrandbits(128), version=4)
            inv_number = numbering.reference(invoice_rules.INVOICE_PREFIXES[InvoiceKind.invoice], iyear, seq)
            batch.invoices.append(
                {
                    "id": inv_id,
                    "kind": "invoice",
                    "contract_id": cid,
                    "issuer_id": provider_id,
                    "recipient_id": owner_id,
                    "year": iyear,
                    "seq": seq,
                    "number": inv_number,
                    "amount": amount,
                    "credits_invoice_id": None,
                    "reason": None,
                    "tax_invoice_no": None,
                    "issued_at": issued,
                    "issued_by": provider_user,
                    "issued_ip": None,
                }
            )
            invoiced = amount
            chain.add(
                issued,
                Role.provider,
                provider_user,
                provider_id,
                "invoice.issued",
                "invoice",
                inv_id,
                {"number": inv_number, "amount": amount, "contract_id": cid},
            )
            pay_at = issued + timedelta(days=rnd.randint(3, 40))
            if pay_at < now and rnd.random() < 0.85:
                paid_on_day = clock.to_local(pay_at).date()
                batch.payments.append(
                    {
                        "id": uuid.UUID(int=rnd.getrandbits(128), version=4),
                        "invoice_id": inv_id,
                        "contract_id": cid,
                        "amount": amount,
                        "paid_on": paid_on_day,
                        "reference": f"ZF{pay_at:%Y%m%d}{rnd.randint(0, 99999):05d}",
                        "recorded_at": pay_at,
                        "recorded_by": owner_user,
                        "recorded_ip": None,
                    }
                )
                paid, paid_on, paid_recorded = amount, paid_on_day, pay_at
                chain.add(
                    pay_at,
                    Role.owner,
                    owner_user,
                    owner_id,
                    "payment.recorded",
                    "invoice",
                    inv_id,
                    {"amount": amount, "paid_on": paid_on_day},
                )
    contract.update(invoiced_total=invoiced, paid_total=paid, paid_on=paid_on, paid_recorded_at=paid_recorded)
