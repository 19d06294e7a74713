"""Demo data of the listings package, loaded from ``listings/data``: the county's catalog
(``catalog.csv``, the same format the operator imports and exports), and the providers and
owners of ``organizations.json`` with their qualifications and practitioners.

Idempotent: what exists (by catalog code, organisation name, username, certificate number or
practitioner) is left as it is, so that running it again never undoes a change made since.
Dates of validity are relative to today, so the demo stays current.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from stdnum.cn import ric, uscc

from listings import catalog, organizations, storage
from listings.models import (
    BusinessLicence,
    CatalogItem,
    Practitioner,
    Qualification,
    QualificationItem,
    ReviewStatus,
)
from listings.rules import id_number_hash, mask_id_number
from market import audit, clock
from market.actor import SYSTEM
from market.demo import DEMO_PASSWORD, ensure_org, ensure_users
from market.identity import services as identity
from market.identity.models import Organization, OrgKind, OrgRole, OrgStatus
from market.settings import Settings

DATA = Path(__file__).resolve().parent / "data"
REGIONS = ("530402", "530421", "530102", "530103", "530111", "530423", "530424", "530425")


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def demo_id_number(seed: str) -> str:
    """A well-formed, made-up resident ID number derived from ``seed`` (demo data only)."""
    digest = int(hashlib.sha256(("demo-id:" + seed).encode()).hexdigest(), 16)
    region = REGIONS[digest % len(REGIONS)]
    born = date(1968, 1, 1).toordinal() + (digest >> 8) % (30 * 365)
    body = region + date.fromordinal(born).strftime("%Y%m%d") + f"{(digest >> 40) % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def firm_uscc(name: str, address: str) -> str:
    """A well-formed, made-up credit code of a firm: registered with market regulation (91…), or for
    a law firm with the justice administration (31…), in Kunming (530100) or Yuxi (530400)."""
    prefix = "31" if name.endswith("律师事务所") else "91"
    region = "530100" if address.startswith("昆明") else "530400"
    digest = hashlib.sha256(("demo-firm:" + name).encode()).hexdigest()
    code = "".join(str(int(c, 16) % 10) for c in digest[:8])
    remainder = 11 - sum(int(d) * w for d, w in zip(code, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    body = prefix + region + code + {10: "X", 11: "0"}.get(remainder, str(remainder))
    return body + uscc.calc_check_digit(body)


async def ensure_provider(session: AsyncSession, spec: dict[str, Any]) -> tuple[Organization, bool]:
    org = await session.scalar(select(Organization).where(col(Organization.name) == spec["name"]))
    if org is not None:
        return org, False
    org = await identity.create_organization(
        session,
        SYSTEM,
        identity.OrgInput(
            kind=OrgKind.provider,
            name=spec["name"],
            uscc=firm_uscc(spec["name"], spec["address"]),
            legal_rep=spec["legal_rep"],
            address=spec["address"],
            phone=spec["phone"],
            email=spec["email"],
        ),
        status=OrgStatus(spec["status"]),
        commitment_accepted=True,
    )
    return org, True


def demo_licence_pdf(org: Organization) -> bytes:
    """A one-page PDF standing in for a firm's scanned business licence (demo data only): the
    credit code and the words DEMO, drawn in a standard font (no CJK font is embedded)."""
    lines = ["BUSINESS LICENCE (DEMO DATA)", f"Unified social credit code: {org.uscc}", "Not a real document."]
    text = "BT /F1 16 Tf 60 760 Td 22 TL " + " ".join(f"({line}) Tj T*" for line in lines) + " ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text.encode("ascii")),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


async def _licence(session: AsyncSession, settings: Settings, org: Organization) -> None:
    """Every demo firm has its business licence on file, as a registration now requires."""
    if await organizations.current_licence(session, org.id) is not None:
        return
    stored = await storage.store_upload(
        session, SYSTEM, settings, demo_licence_pdf(org), "营业执照.pdf", field="business_licence", org_id=org.id
    )
    session.add(BusinessLicence(org_id=org.id, sha256=stored.sha256, filename=stored.filename))


async def load_catalog(session: AsyncSession) -> int:
    rows, errors = catalog.parse_csv((DATA / "catalog.csv").read_bytes())
    if errors:  # pragma: no cover - the data file is checked by the tests
        raise ValueError(f"listings/data/catalog.csv: {errors}")
    existing = set(await session.scalars(select(CatalogItem.code)))
    created = 0
    for _row, item in rows:
        if item.code not in existing:
            await catalog.create_item(session, SYSTEM, item, note="示例数据：云岭县中介服务事项清单")
            created += 1
    return created


async def _qualifications(session: AsyncSession, org: Organization, specs: list[dict[str, Any]]) -> int:
    items = {i.code: i for i in await session.scalars(select(CatalogItem))}
    have = set(
        await session.scalars(select(Qualification.certificate_no).where(col(Qualification.provider_id) == org.id))
    )
    today = clock.today_local()
    now = clock.now()
    created = 0
    for spec in specs:
        if spec["certificate_no"] in have:
            continue
        status = ReviewStatus(spec.get("status", ReviewStatus.approved))
        q = Qualification(
            provider_id=org.id,
            name=spec["name"],
            grade=spec.get("grade", ""),
            certificate_no=spec["certificate_no"],
            issuer=spec["issuer"],
            valid_until=add_months(today, int(spec["valid_months"])),
            status=status,
            review_reason=spec.get("reason"),
            reviewed_at=now if status != ReviewStatus.pending else None,
            created_at=now,
            updated_at=now,
        )
        session.add(q)
        await session.flush()
        session.add_all([QualificationItem(qualification_id=q.id, item_id=items[c].id) for c in spec["covers"]])
        audit.record(
            session,
            SYSTEM,
            "qualification.submitted",
            "qualification",
            q.id,
            {"provider_id": org.id, "certificate_no": q.certificate_no, "catalog_codes": spec["covers"], "demo": True},
        )
        if status != ReviewStatus.pending:
            audit.record(
                session,
                SYSTEM,
                f"qualification.{status}",
                "qualification",
                q.id,
                {"reason": q.review_reason, "demo": True},
            )
        created += 1
    return created


async def _practitioners(
    session: AsyncSession, settings: Settings, org: Organization, specs: list[dict[str, Any]]
) -> int:
    created = 0
    for spec in specs:
        number = demo_id_number(spec["name"] + spec["certificate"].split(" ")[0])
        digest = id_number_hash(settings.secret_key, number)
        if await session.scalar(
            select(Practitioner.id).where(col(Practitioner.provider_id) == org.id, col(Practitioner.id_hash) == digest)
        ):
            continue
        p = Practitioner(
            provider_id=org.id,
            name=spec["name"],
            certificate=spec["certificate"],
            id_masked=mask_id_number(number),
            id_hash=digest,
        )
        session.add(p)
        await session.flush()
        audit.record(
            session,
            SYSTEM,
            "practitioner.added",
            "practitioner",
            p.id,
            {"provider_id": org.id, "name": p.name, "id_masked": p.id_masked, "demo": True},
        )
        created += 1
    return created


# a second user, a clerk (经办), for one demo owner and one demo firm (issue 11.5), each with an
# address of its own (one person, one account)
DEMO_CLERKS = {
    "owner01": ("owner01-clerk", "交通局 项目办 经办 孙丽"),
    "provider01": ("provider01-clerk", "杨建华事务所 经办 周敏"),
}
DEMO_CLERK_EMAILS = {"owner01": "sunli@yunling.gov.example", "provider01": "zhoumin@env.example"}


async def load(session: AsyncSession, settings: Settings) -> dict[str, Any]:
    items = await load_catalog(session)
    data = json.loads((DATA / "organizations.json").read_text(encoding="utf-8"))
    accounts = quals = staff = 0
    for spec in data["owners"]:
        org = await ensure_org(session, {**spec, "kind": OrgKind.owner, "status": OrgStatus.approved})
        accounts += await ensure_users(session, settings, org, [(spec["username"], spec["display_name"])])
        if spec["username"] in DEMO_CLERKS:
            accounts += await ensure_users(
                session,
                settings,
                org,
                [DEMO_CLERKS[spec["username"]]],
                OrgRole.clerk,
                email=DEMO_CLERK_EMAILS[spec["username"]],
            )
    for spec in data["providers"]:
        org, is_new = await ensure_provider(session, spec)
        if is_new and spec.get("reason"):
            org.status_reason = spec["reason"]
            audit.record(
                session, SYSTEM, f"organization.{org.status}", "organization", org.id, {"reason": spec["reason"]}
            )
        accounts += await ensure_users(session, settings, org, [(spec["username"], spec["display_name"])])
        if spec["username"] in DEMO_CLERKS:
            accounts += await ensure_users(
                session,
                settings,
                org,
                [DEMO_CLERKS[spec["username"]]],
                OrgRole.clerk,
                email=DEMO_CLERK_EMAILS[spec["username"]],
            )
        await _licence(session, settings, org)
        quals += await _qualifications(session, org, spec["qualifications"])
        staff += await _practitioners(session, settings, org, spec.get("practitioners", []))
    return {
        "catalog items created": items,
        "listings accounts created": accounts,
        "qualifications created": quals,
        "practitioners created": staff,
        "demo password": DEMO_PASSWORD,
    }
