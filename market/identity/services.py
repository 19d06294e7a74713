"""Identity rules: organisations, users, logins, sessions. No HTTP here."""

from __future__ import annotations

import functools
import hashlib
import math
import re
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError as StdnumValidationError

from market import audit, clock
from market.actor import Actor
from market.errors import Conflict, FieldError, InvalidInput, NotFound
from market.i18n import gettext as _
from market.identity.models import (
    KIND_OF_ROLE,
    OWNER_TYPES,
    AuthToken,
    LoginAttempt,
    Organization,
    OrgKind,
    OrgRole,
    OrgStatus,
    Role,
    User,
)
from market.identity.passwords import hash_password, needs_rehash, verify_password
from market.identity.principal import Principal
from market.settings import Settings

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def normalize_uscc(value: str) -> str:
    """The 统一社会信用代码 in canonical form, or InvalidInput naming ``uscc``."""
    try:
        return stdnum_uscc.validate(value)
    except StdnumValidationError:
        raise InvalidInput.field(
            "uscc", _("This is not a valid unified social credit code (统一社会信用代码): check the 18 characters.")
        ) from None


MIN_PASSWORD_LENGTH = 10


@functools.cache
def common_passwords() -> frozenset[str]:
    """The common passwords refused (package data, lower-case)."""
    text = (resources.files("market.identity") / "data" / "common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password_strength(password: str, field: str = "password", username: str = "") -> None:
    """The one password policy (registration, change, reset, invitation): at least 10 characters,
    not a common password, not containing the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput.field(field, _("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    folded = unicodedata.normalize("NFKC", password).casefold()
    if folded in common_passwords():
        raise InvalidInput.field(field, _("This password is too common: choose another."))
    name = canonical_username(username)
    if len(name) >= 3 and name in folded:
        raise InvalidInput.field(field, _("The password must not contain the username."))


def check_operator_password(password: str, field: str = "password") -> None:
    """What a password set by the operator's tools (the CLI, the demo) needs at least."""
    if len(password) < 8 or not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise InvalidInput.field(field, _("The password needs at least 8 characters, with letters and digits."))


def canonical_username(username: str) -> str:
    """One spelling of a username: NFKC (full-width ``ＡＤＭＩＮ`` is ``admin``), case-folded,
    stripped, invisible format characters dropped. Registration stores it, sign-in looks it up
    and the sign-in throttle counts by it, so different spellings are one user."""
    folded = unicodedata.normalize("NFKC", username).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf").strip()


def normalize_username(username: str) -> str:
    name = canonical_username(username)
    if not USERNAME_RE.match(name):
        raise InvalidInput.field(
            "username", _("A username has 2 to 64 characters: letters, digits, dot, dash or underscore.")
        )
    return name


@dataclass(frozen=True)
class OrgInput:
    kind: OrgKind
    name: str
    uscc: str
    legal_rep: str
    address: str
    phone: str
    email: str
    org_type: str | None = None


async def create_organization(
    session: AsyncSession,
    actor: Actor,
    data: OrgInput,
    *,
    status: OrgStatus = OrgStatus.pending,
    commitment_accepted: bool = False,
) -> Organization:
    uscc = normalize_uscc(data.uscc)
    if data.kind == OrgKind.owner and data.org_type not in OWNER_TYPES:
        raise InvalidInput.field("org_type", _("Choose the kind of owner organisation."))
    if await session.scalar(select(col(Organization.id)).where(col(Organization.uscc) == uscc)):
        raise Conflict(
            _("An organisation with this unified social credit code is already registered."),
            errors=[FieldError("uscc", _("Already registered."))],
        )
    now = clock.now()
    org = Organization(
        kind=data.kind,
        name=data.name.strip(),
        uscc=uscc,
        legal_rep=data.legal_rep.strip(),
        address=data.address.strip(),
        phone=data.phone.strip(),
        email=data.email.strip(),
        org_type=data.org_type if data.kind == OrgKind.owner else None,
        status=status,
        commitment_accepted_at=now if commitment_accepted else None,
    )
    session.add(org)
    await session.flush()
    audit.record(
        session,
        actor,
        "organization.created",
        "organization",
        org.id,
        {"kind": org.kind, "name": org.name, "uscc": org.uscc, "status": org.status},
    )
    return org


async def create_user(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    org: Organization,
    *,
    username: str,
    password: str,
    display_name: str | None = None,
    email: str | None = None,
    operator_set: bool = False,
    org_role: OrgRole | None = None,
) -> User:
    """A user of ``org``, its administrator if it is the first. ``operator_set``: the password is
    set by the operator's own tools (CLI, demo), which the full policy does not bind."""
    name = normalize_username(username)
    if operator_set:
        check_operator_password(password)
    else:
        check_password_strength(password, username=name)
    first = await session.scalar(select(col(User.id)).where(col(User.org_id) == org.id).limit(1)) is None
    if await session.scalar(select(col(User.id)).where(col(User.username) == name)):
        raise Conflict(_("This username is taken."), errors=[FieldError("username", _("Already taken."))])
    user = User(
        org_id=org.id,
        username=name,
        display_name=(display_name or name).strip(),
        password_hash=await hash_password(password, settings.argon2_profile, settings.hash_concurrency),
        org_role=org_role or (OrgRole.admin if first else OrgRole.approver),
        email=(email or (org.email if "@" in org.email else "")).strip().lower() or None,
    )
    session.add(user)
    await session.flush()
    audit.record(session, actor, "user.created", "user", user.id, {"org_id": org.id, "username": name})
    return user


async def get_organization(session: AsyncSession, org_id: uuid.UUID) -> Organization:
    org = await session.get(Organization, org_id)
    if org is None:
        raise NotFound(_("No such organisation."))
    return org


async def ensure_user(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    *,
    role: Role,
    org_name: str,
    username: str,
    password: str,
    uscc: str | None = None,
) -> User:
    """The CLI's `users create`: the organisation named ``org_name`` is created (approved) if new."""
    kind = KIND_OF_ROLE[role]
    org = await session.scalar(
        select(Organization).where(col(Organization.name) == org_name, col(Organization.kind) == kind)
    )
    if org is None:
        org = await create_organization(
            session,
            actor,
            OrgInput(
                kind=kind,
                name=org_name,
                uscc=uscc or generate_uscc(org_name),
                legal_rep="—",
                address="—",
                phone="—",
                email="—",
                org_type="government" if kind == OrgKind.owner else None,
            ),
            status=OrgStatus.approved,
            commitment_accepted=kind in (OrgKind.provider, OrgKind.owner),
        )
    return await create_user(session, actor, settings, org, username=username, password=password, operator_set=True)


def generate_uscc(seed: str) -> str:
    """A well-formed USCC derived from ``seed`` (for accounts the operator creates by hand)."""
    digest = hashlib.sha256(seed.encode()).hexdigest()
    body = "11" + "530100" + "".join(str(int(c, 16) % 10) for c in digest[:9])
    return body + stdnum_uscc.calc_check_digit(body)


# --- sessions ---------------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoginOutcome:
    ok: bool
    token: str | None = None
    principal: Principal | None = None
    expires_in: int = 0
    error: str | None = None  # "invalid" | "throttled"
    retry_after: int = 0


def login_delay(settings: Settings, failures: int, allowed: int) -> int:
    """Seconds to wait after ``failures`` failed sign-ins where ``allowed`` are let through:
    nothing below, then ``login_delay_seconds`` doubling with each further failure, at most the
    window."""
    if failures < allowed:
        return 0
    doublings = min(failures - allowed, 20)
    return int(min(settings.login_delay_seconds * 2**doublings, settings.login_window_minutes * 60))


async def login_wait(session: AsyncSession, settings: Settings, username: str, ip: str | None) -> int:
    """Seconds this address must wait before it may try ``username`` again (0: it may now).

    Failures count per (username, address) — since that address last signed in as that user —
    and per address over all usernames (four times as many allowed). Nothing counts per username
    alone, so failures from one address never refuse the right password from another.
    """
    now = clock.now()
    since = now - timedelta(minutes=settings.login_window_minutes)
    failed = (col(LoginAttempt.at) > since, col(LoginAttempt.success).is_(False))
    same_ip = col(LoginAttempt.ip) == ip if ip is not None else col(LoginAttempt.ip).is_(None)
    last_success = await session.scalar(
        select(func.max(col(LoginAttempt.at))).where(
            col(LoginAttempt.username) == username, same_ip, col(LoginAttempt.success)
        )
    )
    pair_since = max(since, clock.ensure_aware(last_success)) if last_success is not None else since
    pair_count, pair_last = (
        await session.execute(
            select(func.count(), func.max(col(LoginAttempt.at))).where(
                col(LoginAttempt.username) == username,
                same_ip,
                col(LoginAttempt.at) > pair_since,
                col(LoginAttempt.success).is_(False),
            )
        )
    ).one()
    ip_count, ip_last = (0, None)
    if ip is not None:
        ip_count, ip_last = (
            await session.execute(select(func.count(), func.max(col(LoginAttempt.at))).where(same_ip, *failed))
        ).one()
    wait = 0
    for count, last, allowed in (
        (pair_count, pair_last, settings.login_max_failures),
        (ip_count, ip_last, settings.login_max_failures * 4),
    ):
        delay = login_delay(settings, int(count or 0), allowed)
        if delay and last is not None:
            remaining = clock.ensure_aware(last) + timedelta(seconds=delay) - now
            wait = max(wait, math.ceil(remaining.total_seconds()))
    return wait


async def login(
    session: AsyncSession,
    settings: Settings,
    username: str,
    password: str,
    *,
    ip: str | None,
    user_agent: str | None,
    first_in_unit: bool = False,
) -> LoginOutcome:
    """Check the password, throttled per (username, address) and per address; on success open
    a session. The password is verified in a worker thread (market.identity.passwords).

    The outcome is returned, not raised, so that the caller commits the attempt either way.
    When sign-in is the first thing of its unit of work (``first_in_unit``: the sign-in forms and
    API), what was read is let go before the hash is verified (the transaction ends, nothing having
    been written), so that no database connection — and on SQLite not the write lock either — is
    held while sign-ins queue for the hashers. A caller that has written before (a registration
    signing its new user in) keeps its transaction: ending it would undo what it wrote.
    """
    name = canonical_username(username)[:64]
    wait = await login_wait(session, settings, name, ip)
    if wait > 0:
        return LoginOutcome(ok=False, error="throttled", retry_after=wait)
    found = (
        await session.execute(
            select(col(User.id), col(User.password_hash)).where(col(User.username) == name, col(User.is_active))
        )
    ).first()
    user_id, stored_hash = (found[0], found[1]) if found else (None, None)
    if first_in_unit:
        await session.rollback()  # only reads so far: the connection goes back to the pool
    valid = await verify_password(stored_hash, password, settings.argon2_profile, settings.hash_concurrency)
    row = (
        (await session.execute(select(User, Organization).join(Organization).where(col(User.id) == user_id))).first()
        if valid and user_id is not None
        else None
    )
    user, org = (row[0], row[1]) if row else (None, None)
    if not valid or user is None or org is None or not user.is_active:
        session.add(LoginAttempt(username=name, ip=ip, success=False))
        return LoginOutcome(ok=False, error="invalid")
    session.add(LoginAttempt(username=name, ip=ip, success=True))
    if needs_rehash(user.password_hash, settings.argon2_profile):
        user.password_hash = await hash_password(password, settings.argon2_profile, settings.hash_concurrency)
    token = secrets.token_urlsafe(32)
    now = clock.now()
    auth = AuthToken(
        user_id=user.id,
        token_hash=token_digest(token),
        expires_at=now + timedelta(hours=settings.session_hours),
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    user.last_login_at = now
    session.add(auth)
    await session.flush()
    principal = _principal(user, org, auth.id, via_cookie=False)
    audit.record(session, principal.actor(ip), "user.login", "user", user.id, {"token_id": auth.id})
    return LoginOutcome(ok=True, token=token, principal=principal, expires_in=settings.session_hours * 3600)


def _principal(user: User, org: Organization, token_id: uuid.UUID, *, via_cookie: bool) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        org_id=org.id,
        org_name=org.name,
        org_kind=OrgKind(org.kind),
        org_status=OrgStatus(org.status),
        role=org.role,
        token_id=token_id,
        via_cookie=via_cookie,
        org_role=OrgRole(user.org_role),
    )


async def principal_for_token(session: AsyncSession, token: str, *, via_cookie: bool) -> Principal | None:
    """The user behind a bearer token or session cookie, if the session is live."""
    if not token or len(token) > 200:
        return None
    row = (
        await session.execute(
            select(AuthToken, User, Organization)
            .join(User, col(User.id) == col(AuthToken.user_id))
            .join(Organization, col(Organization.id) == col(User.org_id))
            .where(col(AuthToken.token_hash) == token_digest(token))
        )
    ).first()
    if row is None:
        return None
    auth, user, org = row
    if auth.revoked_at is not None or clock.ensure_aware(auth.expires_at) <= clock.now() or not user.is_active:
        return None
    return _principal(user, org, auth.id, via_cookie=via_cookie)


async def revoke_token(session: AsyncSession, actor: Actor, token_id: uuid.UUID) -> None:
    """End one session. Users end their own; an admin may end anyone's."""
    auth = await session.get(AuthToken, token_id)
    if auth is None or (actor.role != Role.admin and auth.user_id != actor.user_id):
        raise NotFound(_("No such session."))
    if auth.revoked_at is None:
        auth.revoked_at = clock.now()
        audit.record(session, actor, "user.session_revoked", "user", auth.user_id, {"token_id": auth.id})


async def list_tokens(session: AsyncSession, user_id: uuid.UUID) -> list[AuthToken]:
    now = clock.now()
    rows = await session.scalars(
        select(AuthToken)
        .where(col(AuthToken.user_id) == user_id, col(AuthToken.revoked_at).is_(None), col(AuthToken.expires_at) > now)
        .order_by(col(AuthToken.created_at).desc())
    )
    return list(rows)
