"""The public provider directory: approved providers, what they are qualified for, and their
approved, unexpired qualifications. Pending, rejected, suspended and blacklisted providers, and
qualifications not (yet) approved, are not public."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from listings import credit
from listings.credit_rules import Grade
from listings.models import CatalogItem, Practitioner, Qualification, QualificationItem, ReviewStatus
from listings.qualifications import count_practitioners, covered_codes
from listings.ratings import RatingSummary, ratings_for
from market import clock
from market.errors import NotFound
from market.i18n import gettext as _
from market.identity.models import Organization, OrgKind, OrgStatus


@dataclass
class ProviderCard:
    org: Organization
    qualifications: list[tuple[Qualification, list[CatalogItem]]] = field(default_factory=list)
    practitioners: int = 0
    rating: RatingSummary | None = None
    grade: Grade | None = None  # the credit grade (listings.credit)

    @property
    def items(self) -> list[CatalogItem]:
        seen: dict[str, CatalogItem] = {}
        for _q, items in self.qualifications:
            for item in items:
                seen.setdefault(item.code, item)
        return sorted(seen.values(), key=lambda i: i.code)


def _public_providers() -> SelectOfScalar[Organization]:
    return select(Organization).where(
        col(Organization.kind) == OrgKind.provider, col(Organization.status) == OrgStatus.approved
    )


def _counting_qualification(on_date: date) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (col(Qualification.status) == ReviewStatus.approved, col(Qualification.valid_until) >= on_date)


async def _cards(session: AsyncSession, orgs: list[Organization], on_date: date) -> list[ProviderCard]:
    ids = [o.id for o in orgs]
    if not ids:
        return []
    quals = list(
        await session.scalars(
            select(Qualification)
            .where(col(Qualification.provider_id).in_(ids), *_counting_qualification(on_date))
            .order_by(col(Qualification.name))
        )
    )
    covered = await covered_codes(session, [q.id for q in quals])
    staff = await count_practitioners(session, ids)
    ratings = await ratings_for(session, ids)
    grades = await credit.grades_of(session, ids, clock.now())
    cards = {
        o.id: ProviderCard(org=o, practitioners=staff.get(o.id, 0), rating=ratings.get(o.id), grade=grades.get(o.id))
        for o in orgs
    }
    for q in quals:
        cards[q.provider_id].qualifications.append((q, covered.get(q.id, [])))
    return [cards[i] for i in ids]


async def list_providers(
    session: AsyncSession,
    *,
    on_date: date,
    q: str | None = None,
    catalog_code: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[ProviderCard], int]:
    stmt = _public_providers()
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(
            or_(
                col(Organization.name).ilike(like),
                col(Organization.uscc).ilike(like),
                col(Organization.address).ilike(like),
            )
        )
    if catalog_code:
        stmt = stmt.where(
            exists(
                select(Qualification.id)
                .join(QualificationItem, col(QualificationItem.qualification_id) == col(Qualification.id))
                .join(CatalogItem, col(CatalogItem.id) == col(QualificationItem.item_id))
                .where(
                    col(Qualification.provider_id) == col(Organization.id),
                    col(CatalogItem.code) == catalog_code,
                    *_counting_qualification(on_date),
                )
            )
        )
    orgs, total = await page_in_pinyin_order(session, stmt, limit=limit, offset=offset)
    return await _cards(session, orgs, on_date), total


async def page_in_pinyin_order(
    session: AsyncSession,
    stmt: SelectOfScalar[Organization],
    *,
    limit: int,
    offset: int,
    providers_first: bool = False,
) -> tuple[list[Organization], int]:
    """One page of the organisations ``stmt`` selects, in the order of a Chinese dictionary (by
    pinyin, :func:`listings.rules.pinyin_key`; with ``providers_first`` the firms before the
    owners), and how many there are in all. The order is the stored key's
    (``Organization.name_key``, :func:`listings.rules.name_sort_key`, then the id): the public
    directory's page is a walk of ``ix_organizations_directory`` with LIMIT, not a sort of every
    firm; each organisation is on exactly one page."""
    order: list[Any] = [col(Organization.name_key), col(Organization.id)]
    if providers_first:
        order.insert(0, case((col(Organization.kind) == OrgKind.provider, 0), else_=1))
    rows = list(await session.scalars(stmt.order_by(*order).limit(limit).offset(offset)))
    if len(rows) < limit and (rows or offset == 0):  # the last page tells the total
        return rows, offset + len(rows)
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return rows, int(total or 0)


async def provider_card(
    session: AsyncSession, provider_id: uuid.UUID, on_date: date, *, sanctioned: bool = False
) -> ProviderCard:
    """An approved provider's card; with ``sanctioned``, a suspended or blacklisted one's too (its
    public page shows the sanction and its period)."""
    if sanctioned:
        stmt = select(Organization).where(
            col(Organization.kind) == OrgKind.provider,
            col(Organization.status).in_((OrgStatus.approved, OrgStatus.suspended, OrgStatus.blacklisted)),
        )
    else:
        stmt = _public_providers()
    org = await session.scalar(stmt.where(col(Organization.id) == provider_id))
    if org is None:
        raise NotFound(_("No such provider in the directory."))
    return (await _cards(session, [org], on_date))[0]


async def public_practitioners(session: AsyncSession, provider_id: uuid.UUID) -> list[Practitioner]:
    rows = await session.scalars(
        select(Practitioner).where(col(Practitioner.provider_id) == provider_id).order_by(col(Practitioner.name))
    )
    return list(rows)


async def providers_per_item(session: AsyncSession, on_date: date) -> dict[str, int]:
    """How many directory providers are qualified for each catalog item today."""
    rows = await session.execute(
        select(col(CatalogItem.code), func.count(func.distinct(col(Qualification.provider_id))))
        .join(QualificationItem, col(QualificationItem.item_id) == col(CatalogItem.id))
        .join(Qualification, col(Qualification.id) == col(QualificationItem.qualification_id))
        .join(Organization, col(Organization.id) == col(Qualification.provider_id))
        .where(
            col(Organization.kind) == OrgKind.provider,
            col(Organization.status) == OrgStatus.approved,
            *_counting_qualification(on_date),
        )
        .group_by(col(CatalogItem.code))
    )
    return {code: int(n) for code, n in rows}
