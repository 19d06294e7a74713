"""Listings services that other packages call (bidding asks who is qualified for what)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from listings.models import CatalogItem, Qualification, QualificationItem, ReviewStatus
from market.errors import NotFound
from market.i18n import gettext as _
from market.identity.models import Organization, OrgKind, OrgStatus


async def get_catalog_item(session: AsyncSession, code: str) -> CatalogItem:
    item = await session.scalar(select(CatalogItem).where(CatalogItem.code == code))
    if item is None:
        raise NotFound(_("No catalog item with this code."))
    return item


def organization_can_act(org: Organization, on_date: date) -> bool:
    """Approved, and not under a suspension that still runs on ``on_date``."""
    if org.status == OrgStatus.approved.value:
        return org.suspended_until is None or org.suspended_until < on_date
    return False


async def qualified(session: AsyncSession, provider_id: uuid.UUID, catalog_code: str, on_date: date) -> bool:
    """Is the provider qualified for the catalog item on that date?

    Yes when the provider is an approved, unsuspended provider organisation holding an approved
    qualification, valid on ``on_date``, that covers the item.
    """
    org = await session.get(Organization, provider_id)
    if org is None or org.kind != OrgKind.provider.value or not organization_can_act(org, on_date):
        return False
    covered = (
        select(QualificationItem.qualification_id)
        .join(CatalogItem, CatalogItem.id == QualificationItem.item_id)
        .join(Qualification, Qualification.id == QualificationItem.qualification_id)
        .where(
            CatalogItem.code == catalog_code,
            Qualification.provider_id == provider_id,
            Qualification.status == ReviewStatus.approved.value,
            Qualification.valid_until >= on_date,
        )
    )
    return bool(await session.scalar(select(exists(covered))))
