"""Accounts (issue 11.5, 11.6): an organisation's users and their roles, invitations, password
change and reset. No HTTP here; links are e-mailed through market.identity.mail."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from market import audit, clock
from market.actor import Actor
from market.audit.models import AuditEvent
from market.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied, TooManyRequests
from market.i18n import gettext as _
from market.identity.mail import send_link
from market.identity.models import (
    AccountLink,
    AccountLinkKind,
    AuthToken,
    ForgotAttempt,
    Organization,
    OrgRole,
    User,
)
from market.identity.passwords import hash_password, verify_password
from market.identity.services import check_password_strength, normalize_username, token_digest
from market.settings import Settings

INVITATION_DAYS = 7
RESET_MINUTES = 30
FORGOT_PER_WINDOW = 5  # reset requests per address in the sign-in throttle's window
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def normalize_email(value: str, field: str = "email") -> str:
    email = value.strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise InvalidInput.field(field, _("Enter an e-mail address such as name@example.cn."))
    return email


def require_org_admin(actor: Actor) -> None:
    if actor.user_id is None or actor.org_role != OrgRole.admin:
        raise PermissionDenied(_("Only your organisation's administrator manages its users."))


async def org_users(session: AsyncSession, actor: Actor) -> list[User]:
    """The users of the actor's organisation, the first first."""
    rows = await session.scalars(
        select(User).where(col(User.org_id) == actor.org_id).order_by(col(User.created_at), col(User.username))
    )
    return list(rows)


USER_EVENTS = ("user.invited", "user.invitation_accepted", "user.updated")


async def role_history(session: AsyncSession, org_id: uuid.UUID, limit: int = 100) -> list[tuple[AuditEvent, str]]:
    """The audited invitations, acceptances and role or status changes of an organisation's users,
    newest first, each with the username concerned: what the operator and the finance bureau see
    of who gave whom which role (the clerk/approver split and four eyes rest on it)."""
    names = {str(u.id): u.username for u in await session.scalars(select(User).where(col(User.org_id) == org_id))}
    events = await session.scalars(
        select(AuditEvent)
        .where(
            col(AuditEvent.entity_type) == "user",
            col(AuditEvent.entity_id).in_(list(names)),
            col(AuditEvent.action).in_(USER_EVENTS),
        )
        .order_by(col(AuditEvent.seq).desc())
        .limit(limit)
    )
    return [(event, names[event.entity_id]) for event in events]


def _link_url(settings: Settings, kind: AccountLinkKind, token: str) -> str:
    path = "/invitations/" if kind == AccountLinkKind.invitation else "/password/reset/"
    return f"{settings.base_url}{path}{token}"


def _new_link(session: AsyncSession, user_id: uuid.UUID, kind: AccountLinkKind, lifetime: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        AccountLink(user_id=user_id, kind=kind, token_hash=token_digest(token), expires_at=clock.now() + lifetime)
    )
    return token


async def invite(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    *,
    username: str,
    email: str,
    org_role: OrgRole,
    display_name: str | None = None,
    lang: str = "zh",
) -> User:
    """A new user of the administrator's organisation, inactive until it sets its password
    through the e-mailed one-time link."""
    require_org_admin(actor)
    name = normalize_username(username)
    address = normalize_email(email)
    if org_role not in (OrgRole.approver, OrgRole.clerk):
        raise InvalidInput.field("org_role", _("Choose clerk or approver."))
    if await session.scalar(select(col(User.id)).where(col(User.username) == name)):
        raise Conflict(_("This username is taken."), errors=[FieldError("username", _("Already taken."))])
    org = await session.get(Organization, actor.org_id)
    if org is None:
        raise NotFound(_("No such organisation."))
    # one person, one account: an address that already reaches a user of the organisation (or the
    # organisation's own, where its administrator's messages go) would let that user set the new
    # account's password and act as two people (the clerk/approver split, four eyes)
    taken = await session.scalar(
        select(col(User.id)).where(col(User.org_id) == org.id, func.lower(col(User.email)) == address).limit(1)
    )
    if taken is not None or (org.email or "").strip().lower() == address:
        raise Conflict(
            _("This address already belongs to your organisation's account."),
            errors=[FieldError("email", _("Each user has an address of its own: one person, one account."))],
        )
    user = User(
        org_id=org.id,
        username=name,
        display_name=(display_name or name).strip() or name,
        password_hash="",
        is_active=False,
        org_role=org_role,
        email=address,
    )
    session.add(user)
    await session.flush()
    token = _new_link(session, user.id, AccountLinkKind.invitation, timedelta(days=INVITATION_DAYS))
    url = _link_url(settings, AccountLinkKind.invitation, token)
    await send_link(session, address, "invitation", url, lang, username=name, org_name=org.name)
    audit.record(
        session, actor, "user.invited", "user", user.id, {"username": name, "org_role": org_role, "email": address}
    )
    return user


async def _live_link(session: AsyncSession, token: str, kind: AccountLinkKind) -> tuple[AccountLink, User] | None:
    if not token or len(token) > 200:
        return None
    row = (
        await session.execute(
            select(AccountLink, User)
            .join(User, col(User.id) == col(AccountLink.user_id))
            .where(col(AccountLink.token_hash) == token_digest(token), col(AccountLink.kind) == kind)
        )
    ).first()
    if row is None:
        return None
    link, user = row
    if link.used_at is not None or clock.ensure_aware(link.expires_at) <= clock.now():
        return None
    return link, user


async def link_user(session: AsyncSession, token: str, kind: AccountLinkKind) -> User | None:
    """The user a live (unused, unexpired) link is for, else None."""
    found = await _live_link(session, token, kind)
    if found is None or (kind == AccountLinkKind.reset and not found[1].is_active):
        return None
    if kind == AccountLinkKind.invitation and found[1].password_hash:
        return None
    return found[1]


def _dead_link() -> NotFound:
    return NotFound(
        _("This link is not valid."),
        _("It was used already, has expired or never existed. Ask for a new one."),
    )


async def accept_invitation(session: AsyncSession, settings: Settings, token: str, password: str) -> User:
    found = await _live_link(session, token, AccountLinkKind.invitation)
    if found is None or found[1].password_hash:
        raise _dead_link()
    link, user = found
    check_password_strength(password, username=user.username)
    user.password_hash = await hash_password(password, settings.argon2_profile, settings.hash_concurrency)
    user.is_active = True
    link.used_at = clock.now()
    actor = Actor(user_id=user.id, org_id=user.org_id, role="public", username=user.username)
    audit.record(session, actor, "user.invitation_accepted", "user", user.id, {"link_id": link.id})
    return user


async def _member(session: AsyncSession, actor: Actor, user_id: uuid.UUID) -> User:
    require_org_admin(actor)
    user = await session.get(User, user_id)
    if user is None or user.org_id != actor.org_id:
        raise NotFound(_("No such user."))
    if user.id == actor.user_id:
        raise PermissionDenied(_("You cannot change your own role or deactivate yourself."))
    return user


async def revoke_sessions(session: AsyncSession, user_id: uuid.UUID, *, keep: uuid.UUID | None = None) -> int:
    """End every open session of ``user_id`` (but ``keep``); their tokens stop at the next request."""
    query = update(AuthToken).where(col(AuthToken.user_id) == user_id, col(AuthToken.revoked_at).is_(None))
    if keep is not None:
        query = query.where(col(AuthToken.id) != keep)
    result = await session.execute(query.values(revoked_at=clock.now()))
    return int(getattr(result, "rowcount", 0) or 0)


async def update_member(
    session: AsyncSession,
    actor: Actor,
    user_id: uuid.UUID,
    *,
    org_role: OrgRole | None = None,
    is_active: bool | None = None,
) -> User:
    """The administrator changes a user's role (clerk | approver) or deactivates (or reactivates) it;
    a deactivated user's sessions end at once."""
    user = await _member(session, actor, user_id)
    changes: dict[str, object] = {}
    if org_role is not None and org_role != user.org_role:
        if org_role not in (OrgRole.approver, OrgRole.clerk):
            raise InvalidInput.field("org_role", _("Choose clerk or approver."))
        changes["org_role"] = {"from": user.org_role, "to": org_role}
        user.org_role = org_role
    if is_active is not None and is_active != user.is_active:
        if is_active and not user.password_hash:
            raise InvalidInput.field("is_active", _("This user has not accepted its invitation yet."))
        user.is_active = is_active
        changes["is_active"] = is_active
        if not is_active:
            changes["sessions_ended"] = await revoke_sessions(session, user.id)
    if changes:
        audit.record(session, actor, "user.updated", "user", user.id, changes)
    return user


async def change_password(
    session: AsyncSession, actor: Actor, settings: Settings, *, current: str, new: str, token_id: uuid.UUID | None
) -> None:
    """The signed-in user's new password; needs the current one; its other sessions end."""
    user = await session.get(User, actor.user_id) if actor.user_id else None
    if user is None:
        raise NotFound(_("No such user."))
    if not await verify_password(user.password_hash, current, settings.argon2_profile, settings.hash_concurrency):
        raise InvalidInput.field("current_password", _("This is not your current password."))
    check_password_strength(new, "new_password", user.username)
    user.password_hash = await hash_password(new, settings.argon2_profile, settings.hash_concurrency)
    ended = await revoke_sessions(session, user.id, keep=token_id)
    audit.record(session, actor, "user.password_changed", "user", user.id, {"sessions_ended": ended})


async def request_reset(
    session: AsyncSession, settings: Settings, email: str, *, ip: str | None, lang: str = "zh"
) -> None:
    """E-mail a 30-minute single-use reset link to every active user with this address. The caller
    answers the same whether or not there is one: the same work is done (a token made and hashed,
    the attempt recorded), only the e-mail is not queued. At most FORGOT_PER_WINDOW requests per
    address (asked for, and the client's) in the sign-in throttle's window."""
    address = normalize_email(email)
    since = clock.now() - timedelta(minutes=settings.login_window_minutes)
    limits = [(col(ForgotAttempt.email) == address, FORGOT_PER_WINDOW)]
    if ip is not None:
        limits.append((col(ForgotAttempt.ip) == ip, FORGOT_PER_WINDOW * 4))
    for where, allowed in limits:
        count = await session.scalar(select(func.count()).where(where, col(ForgotAttempt.at) > since))
        if int(count or 0) >= allowed:
            raise TooManyRequests(
                _("Too many reset requests. Try again later."),
                _("Wait %(minutes)d minutes before asking again.", minutes=settings.login_window_minutes),
                retry_after=settings.login_window_minutes * 60,
            )
    session.add(ForgotAttempt(email=address, ip=ip))
    rows = (
        await session.execute(
            select(User, Organization)
            .join(Organization, col(Organization.id) == col(User.org_id))
            .where(col(User.email) == address, col(User.is_active), col(User.password_hash) != "")
        )
    ).all()
    if not rows:
        token_digest(secrets.token_urlsafe(32))  # the same work as for a known address
        return
    for user, org in rows:
        token = _new_link(session, user.id, AccountLinkKind.reset, timedelta(minutes=RESET_MINUTES))
        url = _link_url(settings, AccountLinkKind.reset, token)
        await send_link(session, address, "reset", url, lang, username=user.username, org_name=org.name)
        audit.record(
            session,
            Actor(user_id=None, org_id=None, role="public", ip=ip),
            "user.reset_requested",
            "user",
            user.id,
            {},
        )


async def reset_password(session: AsyncSession, settings: Settings, token: str, password: str) -> User:
    """Set the password through a live reset link; the link (and the user's other reset links) are
    used up and every session of the user ends."""
    found = await _live_link(session, token, AccountLinkKind.reset)
    if found is None or not found[1].is_active:
        raise _dead_link()
    link, user = found
    check_password_strength(password, username=user.username)
    user.password_hash = await hash_password(password, settings.argon2_profile, settings.hash_concurrency)
    now = clock.now()
    await session.execute(
        update(AccountLink)
        .where(
            col(AccountLink.user_id) == user.id,
            col(AccountLink.kind) == AccountLinkKind.reset,
            col(AccountLink.used_at).is_(None),
        )
        .values(used_at=now)
    )
    link.used_at = now
    ended = await revoke_sessions(session, user.id)
    actor = Actor(user_id=user.id, org_id=user.org_id, role="public", username=user.username)
    audit.record(session, actor, "user.password_reset", "user", user.id, {"sessions_ended": ended})
    return user
