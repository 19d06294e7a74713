"""Demo accounts of the platform core: the operator and the finance bureau of 云岭县 (a
fictional county in Yunnan). Domain packages add their own demo data after this one.

Idempotent: accounts that exist are left as they are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from market.actor import SYSTEM
from market.identity import services as identity
from market.identity.models import Organization, OrgKind, OrgRole, OrgStatus, User
from market.settings import Settings

DEMO_PASSWORD = "demo2026"  # noqa: S105 - demo data only; printed in the README

CORE_ORGS: list[dict[str, Any]] = [
    {
        "kind": OrgKind.operator,
        "name": "云岭县政务服务管理局",
        "legal_rep": "李建国",
        "address": "云岭县政务服务中心三楼",
        "phone": "0871-6000 1001",
        "email": "zwfw@yunling.gov.example",
        "users": [("admin", "平台管理员 王丽")],
    },
    {
        "kind": OrgKind.finance,
        "name": "云岭县财政局",
        "legal_rep": "张卫东",
        "address": "云岭县人民路 18 号",
        "phone": "0871-6000 2002",
        "email": "czj@yunling.gov.example",
        "users": [("finance", "财政监督科 赵敏")],
    },
]


def demo_uscc(seed: str) -> str:
    return identity.generate_uscc("demo:" + seed)


async def ensure_org(session: AsyncSession, spec: dict[str, Any]) -> Organization:
    org = await session.scalar(select(Organization).where(col(Organization.name) == spec["name"]))
    if org is not None:
        return org
    return await identity.create_organization(
        session,
        SYSTEM,
        identity.OrgInput(
            kind=spec["kind"],
            name=spec["name"],
            uscc=demo_uscc(spec["name"]),
            legal_rep=spec["legal_rep"],
            address=spec["address"],
            phone=spec["phone"],
            email=spec["email"],
            org_type=spec.get("org_type"),
        ),
        status=spec.get("status", OrgStatus.approved),
        commitment_accepted=spec["kind"] in (OrgKind.provider, OrgKind.owner),
    )


async def ensure_users(
    session: AsyncSession,
    settings: Settings,
    org: Organization,
    users: list[tuple[str, str]],
    org_role: OrgRole | None = None,
    email: str | None = None,
) -> int:
    """Create the users not there yet; ``email`` (else the organisation's address) for each."""
    created = 0
    for username, display_name in users:
        if await session.scalar(select(col(User.id)).where(col(User.username) == username)):
            continue
        await identity.create_user(
            session,
            SYSTEM,
            settings,
            org,
            username=username,
            password=DEMO_PASSWORD,
            display_name=display_name,
            operator_set=True,
            org_role=org_role,
            email=email,
        )
        created += 1
    return created


async def load(session: AsyncSession, settings: Settings) -> dict[str, Any]:
    created = 0
    for spec in CORE_ORGS:
        org = await ensure_org(session, spec)
        created += await ensure_users(session, settings, org, spec["users"])
    return {"core accounts created": created, "demo password": DEMO_PASSWORD}
