"""Demo contracts: signed, delivered, returned and redelivered, accepted, invoiced (with a credit
note), paid on time and paid late, rated both ways, one overdue, one awaiting signatures and one
past its signing period.

Two paths, both through the real services (the clock is set back while each step runs, so that
the history is real: audit events, due dates and flags all follow from it):

* **Event path.** When the bidding package's demo has awarded purchases, the ``purchase.awarded``
  event has already drafted their contracts (same transaction: the demo loaders share one
  session). The scenarios below are then played on those contracts, each step at its offset from
  the contract's drafting time; steps that would lie in the future are left for real time.
* **Synthetic path (works before bidding is merged).** With no such contracts, awards are built
  from approved owner and provider organisations (created here if there are none) and the
  catalog items of the listings package when they exist; these contracts are flagged
  ``demo`` and their purchase references start with ``DEMO-``.

Idempotent: once any contract has been signed, the loader does nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from invoices import billing, contracts, delivery, ratings
from invoices.contracts import Award
from invoices.models import Contract, ContractAgreement
from listings.models import CatalogItem
from market import clock
from market.actor import SYSTEM, Actor
from market.demo import DEMO_PASSWORD, ensure_org, ensure_users
from market.identity.models import Organization, OrgKind, OrgStatus, User
from market.settings import Settings

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)

# used only when no approved owner or provider exists yet (before the listings demo is merged)
FALLBACK_OWNERS = [
    {
        "kind": OrgKind.owner,
        "org_type": "government",
        "name": "云岭县自然资源局",
        "legal_rep": "刘洋",
        "address": "云岭县人民路 66 号",
        "phone": "0871-6000 3101",
        "email": "zrzyj@yunling.gov.example",
        "users": [("zrzyj", "规划科 孙红")],
    },
    {
        "kind": OrgKind.owner,
        "org_type": "public_institution",
        "name": "云岭县第二人民医院",
        "legal_rep": "杨志强",
        "address": "云岭县滨河路 12 号",
        "phone": "0871-6000 4120",
        "email": "eyuan@yunling.example",
        "users": [("eyuan", "后勤科 李娜")],
    },
]
FALLBACK_PROVIDERS = [
    {
        "kind": OrgKind.provider,
        "name": "云南滇中地质勘查咨询有限公司",
        "legal_rep": "陈静",
        "address": "昆明市五华区学府路 8 号",
        "phone": "0871-6512 3388",
        "email": "office@dzkc.example",
        "users": [("dzkc", "项目经理 周凯")],
    },
    {
        "kind": OrgKind.provider,
        "name": "昆明正衡工程测绘有限公司",
        "legal_rep": "马骁",
        "address": "昆明市盘龙区北京路 1022 号",
        "phone": "0871-6588 1200",
        "email": "info@zhenghengch.example",
        "users": [("zhch", "测绘部 赵磊")],
    },
    {
        "kind": OrgKind.provider,
        "name": "云南清源环境科技有限公司",
        "legal_rep": "何雪梅",
        "address": "昆明市呈贡区春融西路 310 号",
        "phone": "0871-6766 0506",
        "email": "service@qingyuan-env.example",
        "users": [("qyhj", "环评部 吴婷")],
    },
]


@dataclass
class Scenario:
    """One contract's story: the award it starts from and the steps, each at an offset from the drafting."""

    key: str
    title: str
    catalog_code: str
    catalog_name: str
    amount: Decimal
    service_days: int
    method: str
    drafted_ago: timedelta  # synthetic path: how long ago the contract was drafted
    owner: int
    provider: int
    steps: list[tuple[timedelta, str, dict[str, Any]]] = field(default_factory=list)
    scope: str = ""


SCENARIOS = [
    Scenario(
        key="paid",
        title="城南片区建设用地地质灾害危险性评估",
        catalog_code="ZJ-013",
        catalog_name="地质灾害危险性评估",
        amount=Decimal("12800.00"),
        service_days=20,
        method="lowest_price",
        drafted_ago=timedelta(days=80),
        owner=0,
        provider=0,
        scope="对城南片区 12.6 公顷建设用地开展地质灾害危险性评估，提交评估报告及附图（1:2000）。",
        steps=[
            (DAY + 2 * HOUR, "sign", {"side": "owner"}),
            (DAY + 5 * HOUR, "sign", {"side": "provider"}),
            (
                20 * DAY,
                "deliver",
                {"files": ["地质灾害危险性评估报告.pdf", "评估区附图.png"], "note": "评估报告及附图"},
            ),
            (22 * DAY, "accept", {}),
            (23 * DAY, "invoice", {"share": "1", "tax_invoice_no": "53120026"}),
            (30 * DAY, "pay", {"reference": "YL-GK-2026-0811"}),
            (
                31 * DAY,
                "rate",
                {"side": "owner", "scores": (5, 5, 4, 4), "comment": "报告规范，现场踏勘细致，按期交付。"},
            ),
            (32 * DAY, "rate", {"side": "provider", "scores": (5, 5), "comment": "需求明确，付款及时。"}),
        ],
    ),
    Scenario(
        key="paid-late",
        title="县第二人民医院门诊楼房产测绘",
        catalog_code="ZJ-006",
        catalog_name="房产测绘",
        amount=Decimal("8600.00"),
        service_days=10,
        method="lowest_price",
        drafted_ago=timedelta(days=130),
        owner=1,
        provider=1,
        scope="门诊楼（地上 6 层、地下 1 层）房产面积测算，出具房产测绘成果报告。",
        steps=[
            (DAY, "sign", {"side": "owner"}),
            (DAY + 3 * HOUR, "sign", {"side": "provider"}),
            (12 * DAY, "deliver", {"files": ["房产测绘成果报告.pdf"], "note": "成果报告一份"}),
            (14 * DAY, "accept", {}),
            (14 * DAY + 2 * HOUR, "invoice", {"share": "1"}),
            (84 * DAY, "pay", {"reference": "EY-CW-2026-0392"}),  # about 48 working days after acceptance
            (85 * DAY, "rate", {"side": "owner", "scores": (4, 4, 5, 4), "comment": "测绘数据准确。"}),
            (85 * DAY + HOUR, "rate", {"side": "provider", "scores": (4, 2), "comment": "付款超过约定期限。"}),
        ],
    ),
    Scenario(
        key="overdue",
        title="乡村振兴产业园水土保持方案编制",
        catalog_code="ZJ-002",
        catalog_name="水土保持方案编制",
        amount=Decimal("46000.00"),
        service_days=10,
        method="scored",
        drafted_ago=timedelta(days=40),
        owner=0,
        provider=2,
        scope="编制产业园一期（占地 38 公顷）水土保持方案报告书，配合专家评审并修改完善。",
        steps=[
            (DAY, "sign", {"side": "provider"}),
            (2 * DAY, "sign", {"side": "owner"}),
        ],
    ),
    Scenario(
        key="returned",
        title="县城污水处理厂提标改造环境影响评价",
        catalog_code="ZJ-001",
        catalog_name="环境影响评价文件编制",
        amount=Decimal("98000.00"),
        service_days=25,
        method="scored",
        drafted_ago=timedelta(days=30),
        owner=0,
        provider=2,
        scope="编制污水处理厂提标改造工程环境影响报告表，含现状监测、预测评价和公众参与说明。",
        steps=[
            (DAY, "sign", {"side": "owner"}),
            (DAY + 4 * HOUR, "sign", {"side": "provider"}),
            (12 * DAY, "deliver", {"files": ["环境影响报告表（送审稿）.pdf"], "note": "送审稿"}),
            (14 * DAY, "return", {"reason": "监测点位图缺少比例尺；公众参与说明未附调查表，请补充后重新提交。"}),
            (15 * DAY, "agreement", {"text": "因补充枯水期监测，服务期限延长 5 个工作日，价款不变。", "extra_days": 5}),
            (
                24 * DAY,
                "deliver",
                {"files": ["环境影响报告表（修改稿）.pdf", "监测点位图.png"], "note": "已按意见修改"},
            ),
        ],
    ),
    Scenario(
        key="awaiting-signature",
        title="滨河路建设工程规划放线测量",
        catalog_code="ZJ-005",
        catalog_name="建设工程规划放线测量",
        amount=Decimal("5200.00"),
        service_days=5,
        method="lowest_price",
        drafted_ago=timedelta(hours=20),
        owner=0,
        provider=1,
        scope="滨河路（K0+000—K1+360）道路工程规划放线测量，提交放线测量成果。",
        steps=[(3 * HOUR, "sign", {"side": "owner"})],
    ),
    Scenario(
        key="credited",
        title="县政务服务中心物业管理服务",
        catalog_code="GM-101",
        catalog_name="物业管理服务",
        amount=Decimal("36000.00"),
        service_days=15,
        method="scored",
        drafted_ago=timedelta(days=50),
        owner=1,
        provider=0,
        scope="政务服务中心大楼保洁、秩序维护及设施设备日常巡检，服务期内按月报告。",
        steps=[
            (DAY, "sign", {"side": "owner"}),
            (DAY + HOUR, "sign", {"side": "provider"}),
            (18 * DAY, "deliver", {"files": ["物业服务月度报告.pdf"], "note": "服务报告"}),
            (20 * DAY, "accept", {}),
            (21 * DAY, "invoice", {"share": "1"}),
            (23 * DAY, "credit", {"share": "0.2", "reason": "开票金额有误，按合同分期冲销 20%。"}),
            (23 * DAY + HOUR, "invoice", {"share": "0.2"}),
            (30 * DAY, "pay", {"reference": "ZW-2026-1107", "which": "first"}),
        ],
    ),
    Scenario(
        key="signing-overdue",
        title="云岭中学教学楼防雷装置设计技术评价",
        catalog_code="ZJ-019",
        catalog_name="防雷装置设计技术评价",
        amount=Decimal("7400.00"),
        service_days=8,
        method="lowest_price",
        drafted_ago=timedelta(days=14),
        owner=1,
        provider=2,
        scope="教学楼新建工程防雷装置设计技术评价，出具技术评价报告。",
        steps=[(2 * DAY, "sign", {"side": "provider"})],
    ),
]


def deliverable_bytes(name: str) -> tuple[str, bytes]:
    """A small, valid file standing for a deliverable (a one-page PDF or a tiny PNG)."""
    if name.endswith(".png"):
        import struct
        import zlib

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

        raw = b"".join(b"\x00" + bytes([200, 220, 240] * 16) for _ in range(16))
        png = (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b"")
        )
        return name, png
    text = f"Demo deliverable {hashlib.sha256(name.encode()).hexdigest()[:12]}".encode()
    stream = b"BT /F1 14 Tf 72 760 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return name, out


async def _first_user(session: AsyncSession, org: Organization) -> User:
    user = await session.scalar(select(User).where(User.org_id == org.id).order_by(User.created_at, User.username))
    if user is None:
        raise RuntimeError(f"demo organisation {org.name} has no user")
    return user


async def _parties(session: AsyncSession) -> tuple[list[Organization], list[Organization], bool]:
    def approved(kind: OrgKind) -> Any:
        return (
            select(Organization)
            .where(Organization.kind == kind.value, Organization.status == OrgStatus.approved.value)
            .order_by(Organization.created_at, Organization.name)
        )

    owners = [o for o in await session.scalars(approved(OrgKind.owner)) if await _has_user(session, o)]
    providers = [o for o in await session.scalars(approved(OrgKind.provider)) if await _has_user(session, o)]
    created = False
    if not owners or not providers:
        created = True
        for spec in FALLBACK_OWNERS + FALLBACK_PROVIDERS:
            org = await ensure_org(session, spec)
            await ensure_users(session, org, spec["users"])
            (owners if spec["kind"] == OrgKind.owner else providers).append(org)
    return owners, providers, created


async def _has_user(session: AsyncSession, org: Organization) -> bool:
    return await session.scalar(select(User.id).where(User.org_id == org.id).limit(1)) is not None


async def _catalog_name(session: AsyncSession, scenario: Scenario) -> tuple[str, str]:
    item = await session.scalar(select(CatalogItem).where(CatalogItem.name == scenario.catalog_name).limit(1))
    return (item.code, item.name) if item is not None else (scenario.catalog_code, scenario.catalog_name)


def _actor(user: User, role: str) -> Actor:
    return Actor(user_id=user.id, org_id=user.org_id, role=role, username=user.username, ip="198.51.100.24")


async def _play(
    session: AsyncSession, settings: Settings, contract: Contract, scenario: Scenario, now: datetime
) -> int:
    """Apply the scenario's steps that are not in the future; returns how many were applied."""
    owner = _actor(await _first_user(session, await session.get(Organization, contract.owner_id)), "owner")
    provider = _actor(await _first_user(session, await session.get(Organization, contract.provider_id)), "provider")
    start = contract.drafted_at
    issued: list[Any] = []
    done = 0
    for offset, action, args in scenario.steps:
        moment = start + offset
        if moment > now:
            break
        with clock.frozen(moment):
            await _step(session, settings, contract, action, args, owner, provider, issued)
        done += 1
    return done


async def _step(
    session: AsyncSession,
    settings: Settings,
    contract: Contract,
    action: str,
    args: dict[str, Any],
    owner: Actor,
    provider: Actor,
    issued: list[Any],
) -> None:
    side = owner if args.get("side") == "owner" else provider
    steps: dict[str, Callable[[], Awaitable[Any]]] = {
        "sign": lambda: contracts.sign_contract(session, side, settings, contract.id),
        "deliver": lambda: delivery.submit(
            session,
            provider,
            settings,
            contract.id,
            note=args.get("note", ""),
            files=[delivery.Upload(*deliverable_bytes(name)) for name in args["files"]],
        ),
        "return": lambda: delivery.return_delivery(session, owner, contract.id, args["reason"]),
        "accept": lambda: delivery.accept(session, owner, contract.id),
    }
    if action in steps:
        await steps[action]()
    elif action == "agreement":
        agreement = await contracts.propose_agreement(
            session, provider, contract.id, text=args["text"], extra_days=args.get("extra_days", 0)
        )
        await contracts.sign_agreement(session, provider, settings, agreement.id)
        await contracts.sign_agreement(session, owner, settings, agreement.id)
    elif action == "invoice":
        amount = (contract.amount_current * Decimal(args["share"])).quantize(Decimal("0.01"))
        issued.append(
            await billing.issue_invoice(
                session, provider, contract.id, amount=amount, tax_invoice_no=args.get("tax_invoice_no")
            )
        )
    elif action == "credit":
        amount = (contract.amount_current * Decimal(args["share"])).quantize(Decimal("0.01"))
        await billing.issue_credit_note(session, provider, issued[0].id, reason=args["reason"], amount=amount)
    elif action == "pay":
        targets = issued[:1] if args.get("which") == "first" else issued
        for invoice in targets:
            balance = await billing.balance_of(session, invoice)
            await billing.record_payment(
                session,
                owner,
                settings,
                invoice.id,
                amount=balance.outstanding,
                paid_on=clock.today_local(),
                reference=args["reference"],
            )
    elif action == "rate":
        names = ratings.PROVIDER_CRITERIA if args["side"] == "owner" else ratings.OWNER_CRITERIA
        await ratings.rate(session, side, contract.id, dict(zip(names, args["scores"], strict=True)), args["comment"])
    else:  # pragma: no cover - a typo in the scenarios above
        raise ValueError(action)


async def load(session: AsyncSession, settings: Settings) -> dict[str, Any]:
    if await session.scalar(select(Contract.id).where(Contract.signed_at.is_not(None)).limit(1)):
        return {"demo contracts": "already loaded"}
    if await session.scalar(select(ContractAgreement.id).limit(1)):
        return {"demo contracts": "already loaded"}
    now = clock.now()
    awarded = list(
        await session.scalars(
            select(Contract)
            .where(Contract.demo.is_(False), Contract.owner_signed_at.is_(None), Contract.provider_signed_at.is_(None))
            .order_by(Contract.drafted_at)
        )
    )
    if awarded:
        # event path: the contracts the bidding demo's awards drafted
        steps = 0
        for contract, scenario in zip(awarded, SCENARIOS, strict=False):
            steps += await _play(session, settings, contract, scenario, now)
        return {"demo contracts (from awarded purchases)": len(awarded), "demo contract steps": steps}

    owners, providers, created = await _parties(session)
    drafted = []
    oldest_first = sorted(SCENARIOS, key=lambda s: s.drafted_ago, reverse=True)
    for number, scenario in enumerate(oldest_first, start=1):
        ref = f"DEMO-{clock.today_local().year}-{number:06d}"
        owner = owners[scenario.owner % len(owners)]
        provider = providers[scenario.provider % len(providers)]
        code, name = await _catalog_name(session, scenario)
        drafted_at = now - scenario.drafted_ago
        award = Award(
            purchase_id=uuid.uuid5(uuid.NAMESPACE_URL, f"demo-purchase:{ref}"),
            purchase_ref=ref,
            title=scenario.title,
            scope=scenario.scope,
            catalog_code=code,
            catalog_name=name,
            owner_id=owner.id,
            provider_id=provider.id,
            bid_id=uuid.uuid5(uuid.NAMESPACE_URL, f"demo-bid:{ref}"),
            amount=scenario.amount,
            service_days=scenario.service_days,
            method=scenario.method,
            draw_seed=None,
            awarded_at=drafted_at - 2 * HOUR,
        )
        with clock.frozen(drafted_at):
            contract = await contracts.draft_contract(session, SYSTEM, award, settings, demo=True)
        drafted.append((contract, scenario))
    steps = 0
    for contract, scenario in drafted:
        steps += await _play(session, settings, contract, scenario, now)
    users = sorted({(await _first_user(session, o)).username for o in owners[:2] + providers[:3]})
    return {
        "demo contracts (synthetic awards, flagged demo)": len(drafted),
        "demo contract steps": steps,
        "demo contract users": ", ".join(users) + (" (created)" if created else ""),
        "demo contract password": DEMO_PASSWORD if created else "(their own)",
    }
