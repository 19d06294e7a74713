"""Demo contracts: signed, delivered, returned and redelivered, accepted, invoiced (with a credit
note), paid on time and paid late, rated both ways, one overdue, one awaiting signatures and one
past its signing period.

The stories are played on the contracts that the bidding demo's awards drafted (the
``purchase.awarded`` event, in the same transaction: the demo loaders share one session), each on
a contract old enough for it, through the real services with the clock set back while each step
runs, so that the history is real: audit events, due dates and flags all follow from it. Steps that
would lie in the future are left for real time.

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
from sqlmodel import col

from invoices import billing, contracts, delivery, ratings
from invoices.models import Contract, ContractAgreement
from market import clock
from market.actor import Actor
from market.identity.models import Organization, User
from market.settings import Settings

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


@dataclass
class Scenario:
    """One contract's story: its steps, each at an offset from the drafting of the contract. The story
    is played on an awarded purchase's contract at least ``age`` old (steps still in the future wait)."""

    key: str
    age: timedelta
    steps: list[tuple[timedelta, str, dict[str, Any]]] = field(default_factory=list)


SCENARIOS = [
    Scenario(
        key="paid",
        age=timedelta(days=80),
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
        age=timedelta(days=130),
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
        age=timedelta(days=40),
        steps=[
            (DAY, "sign", {"side": "provider"}),
            (2 * DAY, "sign", {"side": "owner"}),
        ],
    ),
    Scenario(
        key="returned",
        age=timedelta(days=30),
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
        age=timedelta(hours=20),
        steps=[(3 * HOUR, "sign", {"side": "owner"})],
    ),
    Scenario(
        key="credited",
        age=timedelta(days=50),
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
        age=timedelta(days=14),
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


async def _first_user(session: AsyncSession, org_id: uuid.UUID) -> User:
    org = await session.get(Organization, org_id)
    user = await session.scalar(
        select(User).where(col(User.org_id) == org_id).order_by(col(User.created_at), col(User.username))
    )
    if org is None or user is None:
        raise RuntimeError(f"demo organisation {org_id} has no user")
    return user


def _actor(user: User, role: str) -> Actor:
    return Actor(user_id=user.id, org_id=user.org_id, role=role, username=user.username, ip="198.51.100.24")


async def _play(
    session: AsyncSession, settings: Settings, contract: Contract, scenario: Scenario, now: datetime
) -> int:
    """Apply the scenario's steps that are not in the future; returns how many were applied."""
    owner = _actor(await _first_user(session, contract.owner_id), "owner")
    provider = _actor(await _first_user(session, contract.provider_id), "provider")
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
        "accept": lambda: delivery.accept(session, owner, contract.id, settings),
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
    if await session.scalar(select(col(Contract.id)).where(col(Contract.signed_at).is_not(None)).limit(1)):
        return {"demo contracts": "already loaded"}
    if await session.scalar(select(col(ContractAgreement.id)).limit(1)):
        return {"demo contracts": "already loaded"}
    now = clock.now()
    # the contracts that the bidding demo's awards drafted (purchase.awarded, same transaction)
    waiting = list(
        await session.scalars(
            select(Contract)
            .where(col(Contract.owner_signed_at).is_(None), col(Contract.provider_signed_at).is_(None))
            .order_by(col(Contract.drafted_at))
        )
    )
    if not waiting:
        return {"demo contracts": "none (no awarded purchases to draft them from)"}
    steps = played = 0
    for scenario in sorted(SCENARIOS, key=lambda sc: sc.age, reverse=True):
        contract = _fitting(waiting, scenario, now)
        if contract is None:
            break
        waiting.remove(contract)
        steps += await _play(session, settings, contract, scenario, now)
        played += 1
    for contract in waiting:  # the other awards: signed promptly, delivered and accepted in time
        steps += await _play(session, settings, contract, UNDER_WAY, now)
    return {
        "demo contracts with a history": played,
        "demo contracts under way": len(waiting),
        "demo contract steps": steps,
    }


UNDER_WAY = Scenario(
    key="under-way",
    age=timedelta(0),
    steps=[
        (DAY, "sign", {"side": "owner"}),
        (DAY + 3 * HOUR, "sign", {"side": "provider"}),
        (10 * DAY, "deliver", {"files": ["成果报告.pdf"], "note": "成果报告"}),
        (12 * DAY, "accept", {}),
    ],
)


def _fitting(contracts: list[Contract], scenario: Scenario, now: datetime) -> Contract | None:
    """The youngest contract old enough for the story, else the oldest one left."""
    old_enough = [c for c in contracts if now - c.drafted_at >= scenario.age]
    if old_enough:
        return old_enough[-1]
    return contracts[0] if contracts else None
