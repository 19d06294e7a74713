"""The public provider directory: approved providers, what they are qualified for, and their
approved, unexpired qualifications. Pending, rejected, suspended and blacklisted providers, and
qualifications not (yet) approved, are not public."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from listings.models import CatalogItem, Practitioner, Qualification, QualificationItem, ReviewStatus
from listings.qualifications import count_practitioners, covered_codes
from listings.ratings import RatingSummary, ratings_for
from market.db import fetch_page
from market.errors import NotFound
from market.i18n import gettext as _
from market.identity.models import Organization, OrgKind, OrgStatus


@dataclass
class ProviderCard:
    org: Organization
    qualifications: list[tuple[Qualification, list[CatalogItem]]] = field(default_factory=list)
    practitioners: int = 0
    rating: RatingSummary | None = None

    @property
    def items(self) -> list[CatalogItem]:
        seen: dict[str, CatalogItem] = {}
        for _q, items in self.qualifications:
            for item in items:
                seen.setdefault(item.code, item)
        return sorted(seen.values(), key=lambda i: i.code)


def _public_providers():  # type: ignore[no-untyped-def]
    return select(Organization).where(
        Organization.kind == OrgKind.provider.value, Organization.status == OrgStatus.approved.value
    )


def _counting_qualification(on_date: date):  # type: ignore[no-untyped-def]
    return (Qualification.status == ReviewStatus.approved.value, Qualification.valid_until >= on_date)


async def _cards(session: AsyncSession, orgs: list[Organization], on_date: date) -> list[ProviderCard]:
    ids = [o.id for o in orgs]
    if not ids:
        return []
    quals = list(
        await session.scalars(
            select(Qualification)
            .where(Qualification.provider_id.in_(ids), *_counting_qualification(on_date))
            .order_by(Qualification.name)
        )
    )
    covered = await covered_codes(session, [q.id for q in quals])
    staff = await count_practitioners(session, ids)
    ratings = await ratings_for(session, ids)
    cards = {o.id: ProviderCard(org=o, practitioners=staff.get(o.id, 0), rating=ratings.get(o.id)) for o in orgs}
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
            or_(Organization.name.ilike(like), Organization.uscc.ilike(like), Organization.address.ilike(like))
        )
    if catalog_code:
        stmt = stmt.where(
            exists(
                select(Qualification.id)
                .join(QualificationItem, QualificationItem.qualification_id == Qualification.id)
                .join(CatalogItem, CatalogItem.id == QualificationItem.item_id)
                .where(
                    Qualification.provider_id == Organization.id,
                    CatalogItem.code == catalog_code,
                    *_counting_qualification(on_date),
                )
            )
        )
    orgs, total = await fetch_page(session, stmt.order_by(Organization.name), limit=limit, offset=offset)
    return await _cards(session, orgs, on_date), total


async def provider_card(session: AsyncSession, provider_id: uuid.UUID, on_date: date) -> ProviderCard:
    org = await session.scalar(_public_providers().where(Organization.id == provider_id))
    if org is None:
        raise NotFound(_("No such provider in the directory."))
    return (await _cards(session, [org], on_date))[0]


async def public_practitioners(session: AsyncSession, provider_id: uuid.UUID) -> list[Practitioner]:
    rows = await session.scalars(
        select(Practitioner).where(Practitioner.provider_id == provider_id).order_by(Practitioner.name)
    )
    return list(rows)


async def providers_per_item(session: AsyncSession, on_date: date) -> dict[str, int]:
    """How many directory providers are qualified for each catalog item today."""
    rows = await session.execute(
        select(CatalogItem.code, func.count(func.distinct(Qualification.provider_id)))
        .join(QualificationItem, QualificationItem.item_id == CatalogItem.id)
        .join(Qualification, Qualification.id == QualificationItem.qualification_id)
        .join(Organization, Organization.id == Qualification.provider_id)
        .where(
            Organization.kind == OrgKind.provider.value,
            Organization.status == OrgStatus.approved.value,
            *_counting_qualification(on_date),
        )
        .group_by(CatalogItem.code)
    )
    return {code: int(n) for code, n in rows}
