"""Registration of providers and owners, the operator's review, and the registrant's own profile.

A registration creates the organisation (``pending``), its first user and the record that the
commitment letter was accepted. The operator approves it, or rejects it with a reason; an
approved organisation may be suspended (with a reason and an end date, inclusive) or
blacklisted, and reinstated. A rejected registrant sees the reason, corrects the profile and
resubmits. Every decision is an audit event; decisions lock the organisation's row.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col, select

from listings import commitment, directory, notifications, storage
from listings.models import BusinessLicence, FileUpload, FormerValue, LinkedField, RegistrationCounter
from listings.rules import normalize_phone
from market import audit, clock, workdays
from market.actor import SYSTEM, Actor
from market.audit.models import AuditEvent
from market.db import is_postgres
from market.errors import (
    Conflict,
    DomainError,
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RuleViolation,
    TooManyRequests,
)
from market.i18n import gettext as _
from market.identity import services as identity
from market.identity.models import OWNER_TYPES, Organization, OrgKind, OrgStatus, User
from market.settings import Settings
from market.terms import label

T = TypeVar("T")

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
class Licence:
    """The business licence (营业执照) a provider sends with its registration: a PDF or an image."""

    data: bytes
    filename: str


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
    licence: Licence | None = None


# the fields of a registration in the order the form shows them (the errors are listed so)
REGISTRATION_FIELDS = (
    "name",
    "uscc",
    "org_type",
    "legal_rep",
    "address",
    "phone",
    "email",
    "business_licence",
    "username",
    "display_name",
    "password",
    "password2",
    "commitment_accepted",
)


def phone_number(value: str, field: str = "phone") -> str:
    """The phone number in its one written form, or InvalidInput naming ``field``."""
    number = normalize_phone(value)
    if number is None:
        raise InvalidInput.field(
            field,
            _(
                "Enter a mainland mobile number (11 digits starting with 13–19) or a landline with its "
                "area code, such as 0871-65123456."
            ),
        )
    return number


class _Problems:
    """The problems found while checking a registration, collected so that all are named at once."""

    def __init__(self) -> None:
        self.found: list[DomainError] = []

    def check(self, rule: Callable[..., T], *args: Any) -> T | None:
        try:
            return rule(*args)
        except DomainError as problem:
            self.found.append(problem)
            return None

    def add(self, problem: DomainError) -> None:
        self.found.append(problem)

    def raise_any(self, order: Sequence[str] = ()) -> None:
        """Nothing when no problem was found; the one problem as it is (its own status: a 409 for a
        credit code already registered, a 413 for a licence too large); otherwise one 422 naming
        every field (one message per field, the first found; the fields in ``order`` first, in that
        order, as the form shows them)."""
        if not self.found:
            return
        if len(self.found) == 1:
            raise self.found[0]
        errors: list[FieldError] = []
        named: set[str] = set()
        for problem in self.found:
            for error in problem.errors or [FieldError("body", problem.detail)]:
                if error.field not in named:
                    named.add(error.field)
                    errors.append(error)
        rank = {name: i for i, name in enumerate(order)}
        errors.sort(key=lambda e: rank.get(e.field, len(rank)))
        if all(isinstance(p, Conflict) for p in self.found):
            raise Conflict(_("Already registered."), _("Correct the fields named below."), errors=errors)
        raise InvalidInput(_("The registration is not valid."), _("Correct the fields named below."), errors=errors)


async def count_registration(session: AsyncSession, settings: Settings, client: str | None) -> None:
    """Count one registration from ``client`` (its address) in the current hour, or refuse it with
    429 beyond ``settings.registrations_per_hour``. The counter row is incremented in the
    registration's transaction (a refused registration does not count) and is locked until it
    ends, so that parallel registrations from one address cannot pass the bound together."""
    now = clock.now()
    window = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    insert = pg_insert if is_postgres(session) else sqlite_insert
    statement = (
        insert(RegistrationCounter)
        .values(client=(client or "-")[:64], window_start=window, accepted=1)
        .on_conflict_do_update(
            index_elements=["client", "window_start"],
            set_={"accepted": col(RegistrationCounter.accepted) + 1},
        )
        .returning(col(RegistrationCounter.accepted))
    )
    accepted = int(await session.scalar(statement) or 0)
    if accepted > settings.registrations_per_hour:
        wait = max(1, math.ceil((window + timedelta(hours=1) - now).total_seconds()))
        raise TooManyRequests(
            _("Too many registrations from your address."),
            _(
                "At most %(n)d registrations an hour are accepted from one address. Try again in %(minutes)d minutes.",
                n=settings.registrations_per_hour,
                minutes=math.ceil(wait / 60),
            ),
            retry_after=wait,
        )


async def registration_problems(session: AsyncSession, settings: Settings, data: Registration) -> _Problems:
    """Every field of ``data`` checked, the credit code and the username not taken already, a
    provider's licence there and acceptable."""
    problems = _Problems()
    if data.kind not in (OrgKind.provider, OrgKind.owner):
        problems.add(InvalidInput.field("kind", _("Only intermediary firms and project owners register themselves.")))
    if not data.commitment_accepted:
        problems.add(
            InvalidInput.field(
                "commitment_accepted",
                _("Read and accept the commitment letter to register."),
                _("The commitment letter is not accepted."),
            )
        )
    if data.kind == OrgKind.owner and data.org_type not in OWNER_TYPES:
        problems.add(InvalidInput.field("org_type", _("Choose the kind of owner organisation.")))
    too_short_or_long = length_errors({name: getattr(data, name) for name in TEXT_BOUNDS})
    if too_short_or_long:
        problems.add(
            InvalidInput(
                _("The registration is not valid."), _("Correct the fields named below."), errors=too_short_or_long
            )
        )
    uscc = problems.check(identity.normalize_uscc, data.uscc)
    problems.check(phone_number, data.phone)
    username = problems.check(identity.normalize_username, data.username)
    problems.check(identity.check_password_strength, data.password)
    if data.kind == OrgKind.provider:
        if data.licence is None:
            problems.add(
                InvalidInput.field(
                    "business_licence", _("Attach the business licence (营业执照): a PDF, PNG or JPEG file.")
                )
            )
        else:
            licence_name = problems.check(storage.clean_filename, data.licence.filename, "business_licence")
            if licence_name is not None:
                problems.check(
                    storage.check_upload,
                    data.licence.data,
                    licence_name,
                    settings.max_upload_bytes,
                    "business_licence",
                )
    if uscc and await session.scalar(select(col(Organization.id)).where(col(Organization.uscc) == uscc)):
        problems.add(
            Conflict(
                _("An organisation with this unified social credit code is already registered."),
                errors=[FieldError("uscc", _("Already registered."))],
            )
        )
    if username and await session.scalar(select(col(User.id)).where(col(User.username) == username)):
        problems.add(Conflict(_("This username is taken."), errors=[FieldError("username", _("Already taken."))]))
    return problems


async def register(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    data: Registration,
    *,
    client: str | None = None,
    refused: Sequence[DomainError] = (),
) -> tuple[Organization, User]:
    """A new organisation, ``pending``, with its first user (and a provider's business licence);
    the commitment letter must be accepted. Every problem is named at once, those the caller
    found first (``refused``: the request schema's, a form's own) with the service's; at most
    ``settings.registrations_per_hour`` registrations an hour come from one ``client`` address."""
    await count_registration(session, settings, client)
    problems = await registration_problems(session, settings, data)
    problems.found[:0] = refused
    problems.raise_any(REGISTRATION_FIELDS)
    org = await identity.create_organization(
        session,
        actor,
        identity.OrgInput(
            kind=data.kind,
            name=data.name,
            uscc=data.uscc,
            legal_rep=data.legal_rep,
            address=data.address,
            phone=phone_number(data.phone),
            email=data.email,
            org_type=data.org_type,
        ),
        status=OrgStatus.pending,
        commitment_accepted=True,
    )
    user = await identity.create_user(
        session, actor, settings, org, username=data.username, password=data.password, display_name=data.display_name
    )
    licence = None
    if data.licence is not None and data.kind == OrgKind.provider:
        uploader = Actor(user_id=user.id, org_id=org.id, role=org.role, ip=actor.ip)
        stored = await storage.store_upload(
            session, uploader, settings, data.licence.data, data.licence.filename, field="business_licence"
        )
        session.add(BusinessLicence(org_id=org.id, sha256=stored.sha256, filename=stored.filename, uploaded_by=user.id))
        licence = stored.sha256
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
            "business_licence": licence,
        },
    )
    await notifications.registration_filed(session, org)
    return org, user


async def current_licence(session: AsyncSession, org_id: uuid.UUID) -> BusinessLicence | None:
    """The organisation's business licence (the newest it uploaded), if it has one."""
    return await session.scalar(
        select(BusinessLicence)
        .where(col(BusinessLicence.org_id) == org_id)
        .order_by(col(BusinessLicence.uploaded_at).desc())
        .limit(1)
    )


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


# the organisations suspension, blacklisting and rejection apply to: the market's participants
SANCTIONABLE = (OrgKind.provider, OrgKind.owner)


def _sanctionable(actor: Actor, org: Organization) -> None:
    """Sanctions (rejection, suspension, blacklisting) apply to intermediary firms and project
    owners only: never to the operator's or the finance bureau's organisation (suspending the
    finance bureau would silence the auditor, blacklisting the operator would lock every
    administrator out), and never to the acting person's own organisation."""
    if org.kind not in SANCTIONABLE:
        raise Conflict(
            _("Only intermediary firms and project owners can be rejected, suspended or blacklisted."),
            _(
                "%(name)s (%(kind)s) is not a market participant: sanctions do not apply to it.",
                name=org.name,
                kind=label(org.kind, "org_kind"),
            ),
        )
    if actor.org_id is not None and actor.org_id == org.id:
        raise Conflict(
            _("You cannot sanction your own organisation."),
            _("Rejection, suspension and blacklisting apply to other organisations only."),
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
    await notifications.registration_decided(session, org, approved=True)
    return org


async def reject(session: AsyncSession, actor: Actor, org_id: uuid.UUID, reason: str) -> Organization:
    text = _reason(reason)
    org = await locked_org(session, org_id)
    _sanctionable(actor, org)
    if org.status != OrgStatus.pending:
        raise _refuse(org)
    before = org.status
    org.status, org.status_reason = OrgStatus.rejected, text
    _decided(session, actor, org, "rejected", before, reason=text)
    await notifications.registration_decided(session, org, approved=False)
    return org


async def suspend(session: AsyncSession, actor: Actor, org_id: uuid.UUID, reason: str, until: date) -> Organization:
    """Suspended through ``until`` (inclusive); the next day it may act again."""
    text = _reason(reason)
    if until < clock.today_local():
        raise InvalidInput.field("until", _("The suspension must end today or later."))
    org = await locked_org(session, org_id)
    _sanctionable(actor, org)
    if org.status not in (OrgStatus.approved, OrgStatus.suspended):
        raise _refuse(org)
    before = org.status
    org.status, org.status_reason, org.suspended_until = OrgStatus.suspended, text, until
    _decided(session, actor, org, "suspended", before, reason=text, until=until)
    return org


async def blacklist(session: AsyncSession, actor: Actor, org_id: uuid.UUID, reason: str) -> Organization:
    text = _reason(reason)
    org = await locked_org(session, org_id)
    _sanctionable(actor, org)
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


LINKING_FIELDS = {"legal_rep": LinkedField.legal_rep, "phone": LinkedField.phone}


def is_reviewed(org: Organization) -> bool:
    """Has the operator approved the organisation (whatever has happened to it since)?"""
    return org.status not in (OrgStatus.pending, OrgStatus.rejected)


async def _held_since(session: AsyncSession, org: Organization, field: LinkedField) -> datetime:
    ended = await session.scalar(
        select(func.max(col(FormerValue.ended_at))).where(
            col(FormerValue.org_id) == org.id, col(FormerValue.field) == field
        )
    )
    return ended or org.created_at


async def record_former(
    session: AsyncSession,
    actor: Actor,
    org: Organization,
    field: LinkedField,
    value: str,
    *,
    label: str | None = None,
    replaced_by: str | None = None,
    held_since: datetime | None = None,
) -> FormerValue:
    """Keep a value of the organisation's linking data that it no longer holds (the red flags
    link firms on former values too)."""
    former = FormerValue(
        org_id=org.id,
        field=field,
        value=value[:200],
        label=(label or value)[:200],
        replaced_by_value=replaced_by[:200] if replaced_by is not None else None,
        held_since=held_since if held_since is not None else await _held_since(session, org, field),
        ended_at=clock.now(),
        ended_by=actor.user_id,
        after_approval=is_reviewed(org),
    )
    session.add(former)
    return former


async def update_profile(
    session: AsyncSession, actor: Actor, org_id: uuid.UUID, changes: dict[str, Any]
) -> Organization:
    """The registrant corrects its own profile. Until approval every field may change; afterwards
    the name, credit code and owner type change only through the operator. Every problem is named
    at once. A changed legal representative or phone number is kept as a former value (the red
    flags link firms on it still); a change after approval says so in its audit event, which the
    finance bureau sees on the firm's page."""
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
        try:
            if name == "uscc" and value:
                value = identity.normalize_uscc(value)
            if name == "phone" and value:
                if normalize_phone(value) == normalize_phone(org.phone):
                    continue  # the same number written another way
                value = phone_number(value)
        except InvalidInput as problem:
            errors.extend(problem.errors)
            continue
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
    if "uscc" in diff and await session.scalar(
        select(Organization.id).where(col(Organization.uscc) == diff["uscc"]["to"], col(Organization.id) != org.id)
    ):
        conflict = FieldError("uscc", _("Already registered."))
        if not errors:
            raise Conflict(
                _("An organisation with this unified social credit code is already registered."), errors=[conflict]
            )
        errors.append(conflict)
    if errors:
        raise InvalidInput(_("The profile is not valid."), _("Correct the fields named below."), errors=errors)
    if not diff:
        return org
    for name, change in diff.items():
        if name in LINKING_FIELDS:
            await record_former(
                session, actor, org, LINKING_FIELDS[name], str(change["from"]), replaced_by=str(change["to"])
            )
        setattr(org, name, change["to"])
    org.updated_at = clock.now()
    audit.record(
        session,
        actor,
        "organization.profile_updated",
        "organization",
        org.id,
        {"changes": diff, "after_approval": is_reviewed(org)},
    )
    return org


async def replace_licence(
    session: AsyncSession,
    actor: Actor,
    org_id: uuid.UUID,
    sha256: str,
    *,
    field: str = "business_licence_sha256",
) -> BusinessLicence:
    """A provider not approved yet (pending, or rejected and correcting its registration) replaces
    its business licence with a file it uploaded (``POST /api/v1/files``)."""
    if actor.org_id != org_id:
        raise PermissionDenied(_("This belongs to another organisation."))
    org = await locked_org(session, org_id)
    if org.kind != OrgKind.provider:
        raise InvalidInput.field(field, _("Only intermediary firms keep a business licence here."))
    if is_reviewed(org):
        raise InvalidInput.field(field, _("After approval only the operator can change this."))
    digest = sha256.strip().lower()
    upload = await session.scalar(
        select(FileUpload)
        .where(col(FileUpload.sha256) == digest, col(FileUpload.org_id) == org.id)
        .order_by(col(FileUpload.created_at).desc())
        .limit(1)
    )
    if upload is None:
        raise InvalidInput.field(field, _("Upload the business licence first, then refer to it."))
    licence = BusinessLicence(org_id=org.id, sha256=digest, filename=upload.filename, uploaded_by=actor.user_id)
    session.add(licence)
    org.updated_at = clock.now()
    audit.record(
        session,
        actor,
        "organization.licence_replaced",
        "organization",
        org.id,
        {"sha256": digest, "filename": upload.filename},
    )
    return licence


async def resubmit(session: AsyncSession, actor: Actor, org_id: uuid.UUID) -> Organization:
    """A rejected registrant, having corrected its profile (a provider: with its business licence on
    file), asks for review again."""
    if actor.org_id != org_id:
        raise PermissionDenied(_("This belongs to another organisation."))
    org = await locked_org(session, org_id)
    if org.status != OrgStatus.rejected:
        raise RuleViolation(
            _("Only a rejected registration can be resubmitted."),
            _("The organisation's status is: %(status)s.", status=label(org.status, "org_status")),
        )
    if org.kind == OrgKind.provider and await current_licence(session, org.id) is None:
        raise InvalidInput.field(
            "business_licence", _("Attach the business licence (营业执照): a PDF, PNG or JPEG file.")
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
    return await directory.page_in_pinyin_order(session, stmt, limit=limit, offset=offset, providers_first=True)


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
                    "organization.licence_replaced",
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
