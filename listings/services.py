"""Listings services that other packages call (bidding asks who is qualified for what).

``from listings.services import qualified, get_catalog_item`` is the stable entry point for the
bidding package; the rule itself is the pure :func:`listings.rules.is_qualified`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from listings.models import CatalogItem, Qualification, QualificationItem, ReviewStatus
from listings.rules import QualificationFacts, Standing, is_qualified
from market.errors import NotFound
from market.i18n import gettext as _
from market.identity.models import Organization, OrgKind


async def get_catalog_item(session: AsyncSession, code: str) -> CatalogItem:
    item = await session.scalar(select(CatalogItem).where(col(CatalogItem.code) == code))
    if item is None:
        raise NotFound(_("No catalog item with this code."))
    return item


async def qualified(session: AsyncSession, provider_id: uuid.UUID, catalog_code: str, on_date: date) -> bool:
    """Is the provider qualified for the catalog item on that date?

    One query reads the organisation's standing and every qualification of it that covers the
    item (whatever its status or validity); :func:`listings.rules.is_qualified` decides.
    """
    covering = (
        select(col(Qualification.provider_id), col(Qualification.status), col(Qualification.valid_until))
        .join(QualificationItem, col(QualificationItem.qualification_id) == col(Qualification.id))
        .join(CatalogItem, col(CatalogItem.id) == col(QualificationItem.item_id))
        .where(col(CatalogItem.code) == catalog_code, col(Qualification.provider_id) == provider_id)
        .subquery()
    )
    rows = (
        await session.execute(
            sa.select(  # five columns: more than sqlmodel's select() is typed for
                col(Organization.kind),
                col(Organization.status),
                col(Organization.suspended_until),
                covering.c.status,
                covering.c.valid_until,
            )
            .select_from(Organization)
            .outerjoin(covering, covering.c.provider_id == col(Organization.id))
            .where(col(Organization.id) == provider_id)
        )
    ).all()
    if not rows:
        return False
    kind, status, suspended_until = rows[0][0], rows[0][1], rows[0][2]
    facts = [
        QualificationFacts(status=q_status, valid_until=valid_until, covers=frozenset({catalog_code}))
        for *_org, q_status, valid_until in rows
        if q_status is not None
    ]
    return is_qualified(Standing(kind, status, suspended_until), facts, catalog_code, on_date)


async def qualified_codes(session: AsyncSession, provider_id: uuid.UUID, on_date: date) -> set[str]:
    """The catalog codes the provider is qualified for on that date (:func:`qualified` for each
    code at once): one query reads its standing and every qualification with the codes it covers."""
    rows = (
        await session.execute(
            sa.select(
                col(Organization.kind),
                col(Organization.status),
                col(Organization.suspended_until),
                col(Qualification.id),
                col(Qualification.status),
                col(Qualification.valid_until),
                col(CatalogItem.code),
            )
            .select_from(Organization)
            .outerjoin(Qualification, col(Qualification.provider_id) == col(Organization.id))
            .outerjoin(QualificationItem, col(QualificationItem.qualification_id) == col(Qualification.id))
            .outerjoin(CatalogItem, col(CatalogItem.id) == col(QualificationItem.item_id))
            .where(col(Organization.id) == provider_id)
        )
    ).all()
    if not rows:
        return set()
    standing = Standing(rows[0][0], rows[0][1], rows[0][2])
    covers: dict[uuid.UUID, set[str]] = {}
    facts_of: dict[uuid.UUID, tuple[ReviewStatus, date]] = {}
    for *_org, q_id, q_status, valid_until, code in rows:
        if q_id is not None:
            facts_of[q_id] = (q_status, valid_until)
            if code is not None:
                covers.setdefault(q_id, set()).add(code)
    facts = [
        QualificationFacts(status=status, valid_until=until, covers=frozenset(covers.get(q_id, ())))
        for q_id, (status, until) in facts_of.items()
    ]
    codes = {code for f in facts for code in f.covers}
    return {code for code in codes if is_qualified(standing, facts, code, on_date)}


async def qualified_many(
    session: AsyncSession, provider_ids: Iterable[uuid.UUID], catalog_code: str, on_date: date
) -> dict[uuid.UUID, bool]:
    """:func:`qualified` for several providers in one query (the bids of a purchase at its opening)."""
    ids = sorted(set(provider_ids), key=str)
    if not ids:
        return {}
    covering = (
        select(col(Qualification.provider_id), col(Qualification.status), col(Qualification.valid_until))
        .join(QualificationItem, col(QualificationItem.qualification_id) == col(Qualification.id))
        .join(CatalogItem, col(CatalogItem.id) == col(QualificationItem.item_id))
        .where(col(CatalogItem.code) == catalog_code, col(Qualification.provider_id).in_(ids))
        .subquery()
    )
    rows = (
        await session.execute(
            sa.select(
                col(Organization.id),
                col(Organization.kind),
                col(Organization.status),
                col(Organization.suspended_until),
                covering.c.status,
                covering.c.valid_until,
            )
            .select_from(Organization)
            .outerjoin(covering, covering.c.provider_id == col(Organization.id))
            .where(col(Organization.id).in_(ids))
        )
    ).all()
    standing: dict[uuid.UUID, Standing] = {}
    facts: dict[uuid.UUID, list[QualificationFacts]] = {i: [] for i in ids}
    for org_id, kind, status, suspended_until, q_status, valid_until in rows:
        standing[org_id] = Standing(kind, status, suspended_until)
        if q_status is not None:
            facts[org_id].append(
                QualificationFacts(status=q_status, valid_until=valid_until, covers=frozenset({catalog_code}))
            )
    return {i: is_qualified(standing.get(i), facts[i], catalog_code, on_date) for i in ids}


async def qualified_providers(session: AsyncSession, catalog_code: str, on_date: date) -> list[uuid.UUID]:
    """Every provider qualified for the catalog item on that date (one query; the same rule as
    :func:`qualified`), for the new-purchase subscription."""
    rows = (
        await session.execute(
            sa.select(
                col(Organization.id),
                col(Organization.kind),
                col(Organization.status),
                col(Organization.suspended_until),
                col(Qualification.status),
                col(Qualification.valid_until),
            )
            .select_from(Organization)
            .join(Qualification, col(Qualification.provider_id) == col(Organization.id))
            .join(QualificationItem, col(QualificationItem.qualification_id) == col(Qualification.id))
            .join(CatalogItem, col(CatalogItem.id) == col(QualificationItem.item_id))
            .where(col(CatalogItem.code) == catalog_code, col(Organization.kind) == OrgKind.provider)
        )
    ).all()
    facts: dict[uuid.UUID, tuple[Standing, list[QualificationFacts]]] = {}
    for org_id, kind, status, suspended_until, q_status, valid_until in rows:
        entry = facts.setdefault(org_id, (Standing(kind, status, suspended_until), []))
        entry[1].append(QualificationFacts(status=q_status, valid_until=valid_until, covers=frozenset({catalog_code})))
    return sorted(
        org_id for org_id, (standing, quals) in facts.items() if is_qualified(standing, quals, catalog_code, on_date)
    )
