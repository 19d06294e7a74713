"""Qualifications (资质) and practitioners of providers.

A provider adds and changes its qualifications in any status (they are part of its own profile),
but they count and are public only once the operator approved them and the provider itself is
approved. Every change sends the qualification back to review. Practitioners' ID numbers are
checked, then kept only as a mask and a keyed hash (HMAC-SHA256 with the platform's secret key).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumValidationError

from listings import notifications
from listings.models import (
    CatalogItem,
    FormerValue,
    ItemStatus,
    LinkedField,
    Practitioner,
    Qualification,
    QualificationItem,
    ReviewStatus,
)
from listings.rules import id_number_hash, mask_id_number
from listings.storage import uploaded_by
from market import audit, clock
from market.actor import Actor
from market.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied, RuleViolation
from market.i18n import gettext as _
from market.identity.models import Organization, OrgKind, OrgStatus
from market.terms import label

MAX_CODES = 50
# the longest texts of a qualification and of a practitioner; the request schemas declare the same
QUALIFICATION_LIMITS = {"name": 120, "grade": 60, "certificate_no": 80, "issuer": 120}
PRACTITIONER_LIMITS = {"name": 60, "certificate": 120}


@dataclass(frozen=True)
class QualificationInput:
    name: str
    certificate_no: str
    issuer: str
    valid_until: date
    catalog_codes: list[str] = field(default_factory=list)
    grade: str = ""
    document_sha256: str | None = None


async def provider_org(session: AsyncSession, provider_id: uuid.UUID) -> Organization:
    org = await session.get(Organization, provider_id)
    if org is None or org.kind != OrgKind.provider:
        raise NotFound(_("No such provider."))
    return org


def _own(actor: Actor, provider_id: uuid.UUID) -> None:
    if actor.org_id != provider_id:
        raise PermissionDenied(_("This belongs to another organisation."))


async def _items_for(session: AsyncSession, codes: list[str]) -> list[CatalogItem]:
    wanted = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if not wanted:
        raise InvalidInput.field("catalog_codes", _("Choose the catalog items this qualification covers."))
    if len(wanted) > MAX_CODES:
        raise InvalidInput.field("catalog_codes", _("At most %(n)d catalog items.", n=MAX_CODES))
    items = list(await session.scalars(select(CatalogItem).where(col(CatalogItem.code).in_(wanted))))
    found = {i.code for i in items}
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise InvalidInput.field("catalog_codes", _("Not in the catalog: %(codes)s.", codes=", ".join(unknown)))
    cancelled = [i.code for i in items if i.status == ItemStatus.cancelled]
    if cancelled:
        raise InvalidInput.field(
            "catalog_codes", _("Cancelled items cannot be covered: %(codes)s.", codes=", ".join(cancelled))
        )
    return sorted(items, key=lambda i: i.code)


def _check_fields(data: QualificationInput) -> dict[str, Any]:
    errors: list[FieldError] = []
    texts = {name: str(getattr(data, name)).strip() for name in QUALIFICATION_LIMITS}
    for name, limit in QUALIFICATION_LIMITS.items():
        if not texts[name] and name != "grade":
            errors.append(FieldError(name, _("Required.")))
        elif len(texts[name]) > limit:
            errors.append(FieldError(name, _("At most %(n)d characters.", n=limit)))
    values: dict[str, Any] = {**texts, "valid_until": data.valid_until}
    if data.valid_until < clock.today_local():
        errors.append(FieldError("valid_until", _("This certificate has expired; add a valid one.")))
    if errors:
        raise InvalidInput(_("The qualification is not valid."), _("Correct the fields named below."), errors=errors)
    return values


async def _check_document(session: AsyncSession, provider_id: uuid.UUID, sha256: str | None) -> str | None:
    if not sha256:
        return None
    digest = sha256.strip().lower()
    if len(digest) != 64 or not await uploaded_by(session, digest, provider_id):
        raise InvalidInput.field("document_sha256", _("Upload the scanned certificate first, then refer to it."))
    return digest


async def _duplicate_certificate(
    session: AsyncSession, provider_id: uuid.UUID, certificate_no: str, except_id: uuid.UUID | None = None
) -> None:
    stmt = select(Qualification.id).where(
        col(Qualification.provider_id) == provider_id, col(Qualification.certificate_no) == certificate_no
    )
    if except_id is not None:
        stmt = stmt.where(col(Qualification.id) != except_id)
    if await session.scalar(stmt):
        raise Conflict(
            _("You have already listed this certificate."),
            errors=[FieldError("certificate_no", _("Already listed."))],
        )


async def add_qualification(
    session: AsyncSession, actor: Actor, provider_id: uuid.UUID, data: QualificationInput
) -> Qualification:
    _own(actor, provider_id)
    await provider_org(session, provider_id)
    values = _check_fields(data)
    items = await _items_for(session, data.catalog_codes)
    document = await _check_document(session, provider_id, data.document_sha256)
    await _duplicate_certificate(session, provider_id, values["certificate_no"])
    now = clock.now()
    qualification = Qualification(
        provider_id=provider_id, document_sha256=document, created_at=now, updated_at=now, **values
    )
    session.add(qualification)
    await session.flush()
    session.add_all([QualificationItem(qualification_id=qualification.id, item_id=i.id) for i in items])
    audit.record(
        session,
        actor,
        "qualification.submitted",
        "qualification",
        qualification.id,
        {**values, "provider_id": provider_id, "catalog_codes": [i.code for i in items], "document": document},
    )
    await notifications.qualification_filed(session, await provider_org(session, provider_id), qualification.name)
    return qualification


async def _locked(session: AsyncSession, qualification_id: uuid.UUID) -> Qualification:
    qualification = await session.scalar(
        select(Qualification)
        .where(col(Qualification.id) == qualification_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if qualification is None:
        raise NotFound(_("No such qualification."))
    return qualification


async def covered_codes(
    session: AsyncSession, qualification_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[CatalogItem]]:
    rows = await session.execute(
        select(QualificationItem.qualification_id, CatalogItem)
        .join(CatalogItem, col(CatalogItem.id) == col(QualificationItem.item_id))
        .where(col(QualificationItem.qualification_id).in_(qualification_ids))
        .order_by(col(CatalogItem.code))
    )
    out: dict[uuid.UUID, list[CatalogItem]] = defaultdict(list)
    for qid, item in rows:
        out[qid].append(item)
    return out


async def update_qualification(
    session: AsyncSession, actor: Actor, qualification_id: uuid.UUID, data: QualificationInput
) -> Qualification:
    """Replace the qualification's details; it goes back to review whatever its status was."""
    qualification = await _locked(session, qualification_id)
    if actor.org_id != qualification.provider_id:
        raise NotFound(_("No such qualification."))
    values = _check_fields(data)
    items = await _items_for(session, data.catalog_codes)
    document = await _check_document(session, qualification.provider_id, data.document_sha256)
    if data.document_sha256 is None:
        document = qualification.document_sha256  # not sent: keep the scan it has
    await _duplicate_certificate(session, qualification.provider_id, values["certificate_no"], qualification.id)
    before = {k: getattr(qualification, k) for k in values} | {"status": qualification.status}
    old_codes = [i.code for i in (await covered_codes(session, [qualification.id])).get(qualification.id, [])]
    for name, value in values.items():
        setattr(qualification, name, value)
    qualification.document_sha256 = document
    qualification.status = ReviewStatus.pending
    qualification.review_reason = None
    qualification.reviewed_at = None
    qualification.reviewed_by = None
    qualification.updated_at = clock.now()
    await session.execute(delete(QualificationItem).where(col(QualificationItem.qualification_id) == qualification.id))
    session.add_all([QualificationItem(qualification_id=qualification.id, item_id=i.id) for i in items])
    await session.flush()
    audit.record(
        session,
        actor,
        "qualification.changed",
        "qualification",
        qualification.id,
        {
            "before": before | {"catalog_codes": old_codes},
            "after": values | {"catalog_codes": [i.code for i in items], "document": document},
        },
    )
    return qualification


async def withdraw_qualification(session: AsyncSession, actor: Actor, qualification_id: uuid.UUID) -> None:
    qualification = await _locked(session, qualification_id)
    if actor.org_id != qualification.provider_id:
        raise NotFound(_("No such qualification."))
    codes = [i.code for i in (await covered_codes(session, [qualification.id])).get(qualification.id, [])]
    await session.execute(delete(QualificationItem).where(col(QualificationItem.qualification_id) == qualification.id))
    await session.delete(qualification)
    audit.record(
        session,
        actor,
        "qualification.withdrawn",
        "qualification",
        qualification_id,
        {
            "provider_id": qualification.provider_id,
            "certificate_no": qualification.certificate_no,
            "catalog_codes": codes,
        },
    )


async def review_qualification(
    session: AsyncSession, actor: Actor, qualification_id: uuid.UUID, *, approve: bool, reason: str | None = None
) -> Qualification:
    qualification = await _locked(session, qualification_id)
    if qualification.status != ReviewStatus.pending:
        raise RuleViolation(
            _("Only a qualification waiting for review can be decided."),
            _("Its status is: %(status)s.", status=label(qualification.status, "review_status")),
        )
    text = (reason or "").strip()
    if not approve and not text:
        raise InvalidInput.field("reason", _("Give the reason; the provider will see it."))
    qualification.status = ReviewStatus.approved if approve else ReviewStatus.rejected
    qualification.review_reason = text or None
    qualification.reviewed_at = clock.now()
    qualification.reviewed_by = actor.user_id
    qualification.updated_at = qualification.reviewed_at
    audit.record(
        session,
        actor,
        "qualification.approved" if approve else "qualification.rejected",
        "qualification",
        qualification.id,
        {"provider_id": qualification.provider_id, "reason": text or None},
    )
    await notifications.qualification_decided(
        session, qualification.provider_id, qualification.id, qualification.name, None if approve else text
    )
    return qualification


async def get_qualification(session: AsyncSession, actor: Actor, qualification_id: uuid.UUID) -> Qualification:
    qualification = await session.get(Qualification, qualification_id)
    if qualification is None or (actor.role not in ("admin", "finance") and actor.org_id != qualification.provider_id):
        raise NotFound(_("No such qualification."))
    return qualification


async def provider_qualifications(
    session: AsyncSession, provider_id: uuid.UUID
) -> list[tuple[Qualification, list[CatalogItem]]]:
    rows = list(
        await session.scalars(
            select(Qualification)
            .where(col(Qualification.provider_id) == provider_id)
            .order_by(col(Qualification.created_at).desc())
        )
    )
    covered = await covered_codes(session, [q.id for q in rows])
    return [(q, covered.get(q.id, [])) for q in rows]


async def pending_qualifications(session: AsyncSession) -> list[tuple[Qualification, Organization, list[CatalogItem]]]:
    rows = list(
        (
            await session.execute(
                select(Qualification, Organization)
                .join(Organization, col(Organization.id) == col(Qualification.provider_id))
                .where(col(Qualification.status) == ReviewStatus.pending)
                .order_by(col(Qualification.updated_at))
            )
        ).all()
    )
    covered = await covered_codes(session, [q.id for q, _org in rows])
    return [(q, org, covered.get(q.id, [])) for q, org in rows]


# --- practitioners -----------------------------------------------------------------------------


PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()  # noqa: SIM905
)


def normalize_id_number(number: str) -> str:
    """An 18-character resident ID number: format, check digit, birth date and province.

    ``stdnum.cn.ric.validate`` also requires the county code to have existed in the birth year,
    which refuses real people whose card carries a code assigned later (玉溪 红塔区 530402 for
    someone born before 1997, for instance); so the county is not checked here.
    """
    value = ric.compact(number).upper()
    try:
        if len(value) != 18 or not value[:17].isdigit() or value[:2] not in PROVINCES:
            raise StdnumValidationError()
        if ric.calc_check_digit(value) != value[-1]:
            raise StdnumValidationError()
        if ric.get_birth_date(value) > clock.today_local():
            raise StdnumValidationError()
    except StdnumValidationError:
        raise InvalidInput.field(
            "id_number", _("This is not a valid resident ID number: check the 18 characters.")
        ) from None
    return value


async def add_practitioner(
    session: AsyncSession,
    actor: Actor,
    secret_key: str,
    provider_id: uuid.UUID,
    *,
    name: str,
    certificate: str,
    id_number: str,
) -> Practitioner:
    _own(actor, provider_id)
    org = await provider_org(session, provider_id)
    errors: list[FieldError] = []
    name, certificate = name.strip(), certificate.strip()
    if not name:
        errors.append(FieldError("name", _("Required.")))
    for field_name, value in (("name", name), ("certificate", certificate)):
        if len(value) > PRACTITIONER_LIMITS[field_name]:
            errors.append(FieldError(field_name, _("At most %(n)d characters.", n=PRACTITIONER_LIMITS[field_name])))
    if errors:
        raise InvalidInput(_("The practitioner is not valid."), _("Correct the fields named below."), errors=errors)
    number = normalize_id_number(id_number)
    digest = id_number_hash(secret_key, number)
    if await session.scalar(
        select(Practitioner.id).where(col(Practitioner.provider_id) == provider_id, col(Practitioner.id_hash) == digest)
    ):
        raise Conflict(_("This person is already listed."), errors=[FieldError("id_number", _("Already listed."))])
    practitioner = Practitioner(
        provider_id=provider_id, name=name, certificate=certificate, id_masked=mask_id_number(number), id_hash=digest
    )
    session.add(practitioner)
    await session.flush()
    audit.record(
        session,
        actor,
        "practitioner.added",
        "practitioner",
        practitioner.id,
        {
            "provider_id": provider_id,
            "name": name,
            "certificate": certificate,
            "id_masked": practitioner.id_masked,
            "after_approval": org.status not in (OrgStatus.pending, OrgStatus.rejected),
        },
    )
    return practitioner


async def remove_practitioner(session: AsyncSession, actor: Actor, practitioner_id: uuid.UUID) -> None:
    """Remove a practitioner; the keyed hash of the person's ID number is kept as a former value of
    the provider (the red flags link firms that shared the person, even after it left)."""
    practitioner = await session.get(Practitioner, practitioner_id)
    if practitioner is None or practitioner.provider_id != actor.org_id:
        raise NotFound(_("No such practitioner."))
    org = await provider_org(session, practitioner.provider_id)
    former = FormerValue(
        org_id=org.id,
        field=LinkedField.practitioner,
        value=practitioner.id_hash,
        label=f"{practitioner.name} ({practitioner.id_masked})",
        held_since=practitioner.created_at,
        ended_at=clock.now(),
        ended_by=actor.user_id,
        after_approval=org.status not in (OrgStatus.pending, OrgStatus.rejected),
    )
    session.add(former)
    await session.delete(practitioner)
    audit.record(
        session,
        actor,
        "practitioner.removed",
        "practitioner",
        practitioner_id,
        {
            "provider_id": practitioner.provider_id,
            "name": practitioner.name,
            "id_masked": practitioner.id_masked,
            "after_approval": former.after_approval,
        },
    )


async def provider_practitioners(session: AsyncSession, provider_id: uuid.UUID) -> list[Practitioner]:
    rows = await session.scalars(
        select(Practitioner).where(col(Practitioner.provider_id) == provider_id).order_by(col(Practitioner.created_at))
    )
    return list(rows)


async def practitioner_conflicts(session: AsyncSession, provider_id: uuid.UUID) -> dict[uuid.UUID, list[str]]:
    """For each of the provider's practitioners, the other providers that list the same person
    (same keyed hash of the ID number): a conflict the operator looks at."""
    mine = select(Practitioner.id_hash).where(col(Practitioner.provider_id) == provider_id)
    rows = await session.execute(
        select(Practitioner.id_hash, Organization.name)
        .join(Organization, col(Organization.id) == col(Practitioner.provider_id))
        .where(col(Practitioner.id_hash).in_(mine), col(Practitioner.provider_id) != provider_id)
        .order_by(col(Organization.name))
    )
    others: dict[str, list[str]] = defaultdict(list)
    for digest, org_name in rows:
        others[digest].append(org_name)
    result: dict[uuid.UUID, list[str]] = {}
    for p in await provider_practitioners(session, provider_id):
        if others.get(p.id_hash):
            result[p.id] = others[p.id_hash]
    return result


async def count_practitioners(session: AsyncSession, provider_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = await session.execute(
        select(Practitioner.provider_id, func.count())
        .where(col(Practitioner.provider_id).in_(provider_ids))
        .group_by(col(Practitioner.provider_id))
    )
    return {pid: int(n) for pid, n in rows}
