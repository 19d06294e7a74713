"""Registration of providers and owners, the operator's review, and the registrant's own profile.

A registration creates the organisation (``pending``), its first user and the record that the
commitment letter was accepted. The operator approves it, or rejects it with a reason; an
approved organisation may be suspended (with a reason and an end date, inclusive) or
blacklisted, and reinstated. A rejected registrant sees the reason, corrects the profile and
resubmits. Every decision is an audit event; decisions lock the organisation's row.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col, select

from listings import commitment
from market import audit, clock, workdays
from market.actor import SYSTEM, Actor
from market.audit.models import AuditEvent
from market.db import fetch_page, is_postgres
from market.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied, RuleViolation
from market.i18n import gettext as _
from market.identity import services as identity
from market.identity.models import OWNER_TYPES, Organization, OrgKind, OrgStatus, User
from market.settings import Settings
from market.terms import label

REVIEW_TARGET_WORKING_DAYS = 2
MAX_REASON = 2000

# (shortest, longest) of the texts a registrant types; the request schemas declare the same
TEXT_BOUNDS: dict[str, tuple[int, int]] = {
    "name": (2, 200),
    "uscc": (1, 40),
    "legal_rep": (1, 60),
    "address": (1, 300),
    "phone": (5, 40),
    "email": (3, 254),
    "username": (2, 64),
    "display_name": (0, 100),
}


def length_errors(values: dict[str, Any]) -> list[FieldError]:
    """The texts of ``values`` (those :data:`TEXT_BOUNDS` names) that are too short or too long."""
    errors: list[FieldError] = []
    for name, value in values.items():
        if name not in TEXT_BOUNDS or not isinstance(value, str):
            continue
        shortest, longest = TEXT_BOUNDS[name]
        if len(value) < shortest:
            errors.append(FieldError(name, _("At least %(n)s characters.", n=shortest)))
        elif len(value) > longest:
            errors.append(FieldError(name, _("At most %(n)s characters.", n=longest)))
    return errors


@dataclass(frozen=True)
class Registration:
    kind: OrgKind
    name: str
    uscc: str
    legal_rep: str
    address: str
    phone: str
    email: str
    username: str
    password: str
    commitment_accepted: bool
    org_type: str | None = None
    display_name: str | None = None


async def register(
    session: AsyncSession, actor: Actor, settings: Settings, data: Registration
) -> tuple[Organization, User]:
    """A new organisation, ``pending``, with its first user; the commitment letter must be accepted."""
    if data.kind not in (OrgKind.provider, OrgKind.owner):
        raise InvalidInput.field("kind", _("Only intermediary firms and project owners register themselves."))
    if not data.commitment_accepted:
        raise InvalidInput.field(
            "commitment_accepted",
            _("Read and accept the commitment letter to register."),
            _("The commitment letter is not accepted."),
        )
    if data.kind == OrgKind.owner and data.org_type not in OWNER_TYPES:
        raise InvalidInput.field("org_type", _("Choose the kind of owner organisation."))
    errors = length_errors({name: getattr(data, name) for name in TEXT_BOUNDS})
    if errors:
        raise InvalidInput(_("The registration is not valid."), _("Correct the fields named below."), errors=errors)
    identity.normalize_uscc(data.uscc)  # 422 naming uscc before anything else is looked at
    identity.normalize_username(data.username)
    identity.check_password_strength(data.password)
    org = await identity.create_organization(
        session,
        actor,
        identity.OrgInput(
            kind=data.kind,
            name=data.name,
            uscc=data.uscc,
            legal_rep=data.legal_rep,
            address=data.address,
            phone=data.phone,
            email=data.email,
            org_type=data.org_type,
        ),
        status=OrgStatus.pending,
        commitment_accepted=True,
    )
    user = await identity.create_user(
        session, actor, settings, org, username=data.username, password=data.password, display_name=data.display_name
    )
    audit.record(
        session,
        actor,
        "organization.registered",
        "organization",
        org.id,
        {
            "kind": org.kind,
            "user_id": user.id,
            "commitment_version": commitment.VERSION,
            "commitment_accepted_at": org.commitment_accepted_at,
        },
    )
    return org, user


# --- the operator's decisions ------------------------------------------------------------------


async def locked_org(session: AsyncSession, org_id: uuid.UUID) -> Organization:
    org = await session.scalar(
        select(Organization)
        .where(col(Organization.id) == org_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if org is None:
        raise NotFound(_("No such organisation."))
    return org


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput.field("reason", _("Give the reason; the organisation will see it."))
    if len(text) > MAX_REASON:
        raise InvalidInput.field("reason", _("At most %(n)d characters.", n=MAX_REASON))
    return text


def _refuse(org: Organization) -> RuleViolation:
    return RuleViolation(
        _("This decision does not apply to the organisation now."),
        _("The organisation's status is: %(status)s.", status=label(org.status, "org_status")),
    )


def _decided(session: AsyncSession, actor: Actor, org: Organization, action: str, before: str, **data: Any) -> None:
    org.updated_at = clock.now()
    audit.record(
        session,
        actor,
        f"organization.{action}",
        "organization",
        org.id,
        {"from": before, "to": org.status, **data},
    )


async def approve(session: AsyncSession, actor: Actor, org_id: uuid.UUID) -> Organization:
    org = await locked_org(session, org_id)
    if org.status != OrgStatus.pending:
        raise _refuse(org)
    before = org.status
    org.status, org.status_reason, org.suspended_until = OrgStatus.approved, None, None
    _decided(session, actor, org, "approved", before)
    return org


async def reject(session: AsyncSession, actor: Actor, org_id: uuid.UUID, reason: str) -> Organization:
    text = _reason(reason)
    org = await locked_org(session, org_id)
    if org.status != OrgStatus.pending:
        raise _refuse(org)
    before = org.status
    org.status, org.status_reason = OrgStatus.rejected, text
    _decided(session, actor, org, "rejected", before, reason=text)
    return org


async def suspend(session: AsyncSession, actor: Actor, org_id: uuid.UUID, reason: str, until: date) -> Organization:
    """Suspended through ``until`` (inclusive); the next day it may act again."""
    text = _reason(reason)
    if until < clock.today_local():
        raise InvalidInput.field("until", _("The suspension must end today or later."))
    org = await locked_org(session, org_id)
    if org.status not in (OrgStatus.approved, OrgStatus.suspended):
        raise _refuse(org)
    before = org.status
    org.status, org.status_reason, org.suspended_until = OrgStatus.suspended, text, until
    _decided(session, actor, org, "suspended", before, reason=text, until=until)
    return org


async def blacklist(session: AsyncSession, actor: Actor, org_id: uuid.UUID, reason: str) -> Organization:
    text = _reason(reason)
    org = await locked_org(session, org_id)
    if org.status == OrgStatus.blacklisted:
        raise _refuse(org)
    before = org.status
    org.status, org.status_reason, org.suspended_until = OrgStatus.blacklisted, text, None
    _decided(session, actor, org, "blacklisted", before, reason=text)
    return org


async def reinstate(session: AsyncSession, actor: Actor, org_id: uuid.UUID, reason: str) -> Organization:
    """End a suspension early, or lift a blacklisting."""
    text = _reason(reason)
    org = await locked_org(session, org_id)
    if org.status not in (OrgStatus.suspended, OrgStatus.blacklisted):
        raise _refuse(org)
    before = org.status
    org.status, org.status_reason, org.suspended_until = OrgStatus.approved, None, None
    _decided(session, actor, org, "reinstated", before, reason=text)
    return org


async def lift_expired_suspensions(session: AsyncSession, today: date) -> int:
    """Write suspensions that ended before ``today`` back to ``approved`` (the worker's tick)."""
    stmt = (
        select(Organization)
        .where(col(Organization.status) == OrgStatus.suspended, col(Organization.suspended_until) < today)
        .order_by(col(Organization.suspended_until))
        .limit(100)
        .execution_options(populate_existing=True)
    )
    stmt = stmt.with_for_update(skip_locked=True) if is_postgres(session) else stmt.with_for_update()
    count = 0
    for org in await session.scalars(stmt):
        ended = org.suspended_until
        org.status, org.status_reason, org.suspended_until = OrgStatus.approved, None, None
        _decided(session, SYSTEM, org, "suspension_ended", OrgStatus.suspended, until=ended)
        count += 1
    return count


async def suspension_tick(factory: async_sessionmaker[AsyncSession], settings: Settings, now: datetime) -> int:
    async with factory() as session:
        count = await lift_expired_suspensions(session, now.astimezone(clock.LOCAL_TZ).date())
        await session.commit()
    return count


# --- the registrant's own profile --------------------------------------------------------------


def own_org_id(actor: Actor) -> uuid.UUID:
    """The organisation of the person acting (every account belongs to one)."""
    if actor.org_id is None:
        raise PermissionDenied(_("Only registered firms and owners have this profile."))
    return actor.org_id


PROFILE_FIELDS = ("name", "uscc", "legal_rep", "address", "phone", "email", "org_type")
LOCKED_WHEN_APPROVED = ("name", "uscc", "org_type")


async def update_profile(
    session: AsyncSession, actor: Actor, org_id: uuid.UUID, changes: dict[str, Any]
) -> Organization:
    """The registrant corrects its own profile. Until approval every field may change; afterwards
    the name, credit code and owner type change only through the operator."""
    if actor.org_id != org_id:
        raise PermissionDenied(_("This belongs to another organisation."))
    org = await locked_org(session, org_id)
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise InvalidInput.field(sorted(unknown)[0], _("This field cannot be changed."))
    open_for_all = org.status in (OrgStatus.pending, OrgStatus.rejected)
    diff: dict[str, dict[str, Any]] = {}
    errors: list[FieldError] = []
    for name, raw in changes.items():
        value = raw.strip() if isinstance(raw, str) else raw
        if name == "org_type" and org.kind != OrgKind.owner:
            continue
        if name == "uscc" and value:
            value = identity.normalize_uscc(value)
        if value == getattr(org, name):
            continue
        if name in LOCKED_WHEN_APPROVED and not open_for_all:
            errors.append(FieldError(name, _("After approval only the operator can change this.")))
            continue
        if not value and name != "org_type":
            errors.append(FieldError(name, _("Required.")))
            continue
        if name == "org_type" and value not in OWNER_TYPES:
            errors.append(FieldError(name, _("Choose the kind of owner organisation.")))
            continue
        if too_short_or_long := length_errors({name: value}):
            errors.extend(too_short_or_long)
            continue
        diff[name] = {"from": getattr(org, name), "to": value}
    if errors:
        raise InvalidInput(_("The profile is not valid."), _("Correct the fields named below."), errors=errors)
    if "uscc" in diff and await session.scalar(
        select(Organization.id).where(col(Organization.uscc) == diff["uscc"]["to"], col(Organization.id) != org.id)
    ):
        raise Conflict(
            _("An organisation with this unified social credit code is already registered."),
            errors=[FieldError("uscc", _("Already registered."))],
        )
    if not diff:
        return org
    for name, change in diff.items():
        setattr(org, name, change["to"])
    org.updated_at = clock.now()
    audit.record(session, actor, "organization.profile_updated", "organization", org.id, {"changes": diff})
    return org


async def resubmit(session: AsyncSession, actor: Actor, org_id: uuid.UUID) -> Organization:
    """A rejected registrant, having corrected its profile, asks for review again."""
    if actor.org_id != org_id:
        raise PermissionDenied(_("This belongs to another organisation."))
    org = await locked_org(session, org_id)
    if org.status != OrgStatus.rejected:
        raise RuleViolation(
            _("Only a rejected registration can be resubmitted."),
            _("The organisation's status is: %(status)s.", status=label(org.status, "org_status")),
        )
    previous = org.status_reason
    org.status, org.status_reason = OrgStatus.pending, None
    _decided(session, actor, org, "resubmitted", OrgStatus.rejected, previous_reason=previous)
    return org


# --- reading -----------------------------------------------------------------------------------


def review_due(org: Organization, settings: Settings) -> datetime:
    """When the operator should have decided (SPEC: within 2 working days of the submission)."""
    return workdays.add_period(org.updated_at, REVIEW_TARGET_WORKING_DAYS, settings.accelerator)


async def pending_organizations(session: AsyncSession) -> list[Organization]:
    rows = await session.scalars(
        select(Organization).where(col(Organization.status) == OrgStatus.pending).order_by(col(Organization.updated_at))
    )
    return list(rows)


async def organizations_by_status(
    session: AsyncSession, statuses: tuple[OrgStatus, ...], limit: int = 100
) -> list[Organization]:
    rows = await session.scalars(
        select(Organization)
        .where(col(Organization.status).in_(statuses), col(Organization.kind).in_((OrgKind.provider, OrgKind.owner)))
        .order_by(col(Organization.updated_at).desc())
        .limit(limit)
    )
    return list(rows)


async def search(
    session: AsyncSession,
    *,
    q: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 30,
    offset: int = 0,
) -> tuple[list[Organization], int]:
    """Registered providers and owners, by name or credit code, status and kind (for the operator)."""
    stmt = select(Organization).where(col(Organization.kind).in_((OrgKind.provider, OrgKind.owner)))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(col(Organization.name).ilike(like), col(Organization.uscc).ilike(like)))
    if status:
        stmt = stmt.where(col(Organization.status) == status)
    if kind:
        stmt = stmt.where(col(Organization.kind) == kind)
    return await fetch_page(
        session, stmt.order_by(col(Organization.kind).desc(), col(Organization.name)), limit=limit, offset=offset
    )


async def decisions(session: AsyncSession, org_id: uuid.UUID) -> list[dict[str, Any]]:
    """The organisation's review history from the audit trail (newest first)."""
    rows = await session.scalars(
        select(AuditEvent)
        .where(
            col(AuditEvent.entity_type) == "organization",
            col(AuditEvent.entity_id) == str(org_id),
            col(AuditEvent.action).in_(
                [
                    "organization.created",
                    "organization.approved",
                    "organization.rejected",
                    "organization.suspended",
                    "organization.blacklisted",
                    "organization.reinstated",
                    "organization.resubmitted",
                    "organization.suspension_ended",
                    "organization.profile_updated",
                ]
            ),
        )
        .order_by(col(AuditEvent.seq).desc())
    )
    names = {"created": "registered"}
    return [
        {
            "action": names.get(ev.action.split(".", 1)[1], ev.action.split(".", 1)[1]),
            "at": ev.occurred_at,
            "role": ev.actor_role,
            "data": json.loads(ev.data),
        }
        for ev in rows
    ]
