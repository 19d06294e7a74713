"""Sending: every package calls :func:`send` (or :func:`send_email` for a bare address) inside
the transaction of the change that causes the message, so a rolled-back change sends nothing and
a committed one is in the outbox for good; the worker (:mod:`market.notify.delivery`) delivers.

Messages are *rendered when they are read*: the row keeps the kind and its parameters; the inbox
shows them in the language of the page, and the worker writes each e-mail in the recipient's
chosen language at delivery time (:class:`NotificationSettings`, Chinese by default). So a
translation fixed later, or a user who switches to English, gets the right text, and a message
never holds text in a language nobody chose. A bare e-mail (:func:`send_email`) has no user and
no preference, so its caller renders it and the row keeps the text.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from market import i18n
from market.identity.models import Organization, OrgKind, OrgRole, User
from market.notify.models import (
    EmailStatus,
    Notification,
    NotificationMark,
    NotificationPreference,
    NotificationSettings,
)

BARE_EMAIL = "email"
APPROVERS: tuple[str, ...] = (OrgRole.admin, OrgRole.approver)
"""``to_org_roles=APPROVERS``: a message that asks for an action only an approver (负责人) or the
administrator may take (sign a contract, select among the bids, pay an invoice, confirm a bid):
the organisation's clerks (经办) do not get it. Informational messages go to every user."""


@dataclass(frozen=True)
class Kind:
    """What a kind of message says: subject and body msgids (``%(name)s`` placeholders filled
    from the params), and whether it is a subscription a user may turn off altogether."""

    name: str
    subject: str
    body: str
    audience: str  # the roles it is for, space-separated (its line on their preferences page)
    subscription: bool = False
    email_default: bool = True
    translated: tuple[str, ...] = ()  # params that are msgids, translated with the message
    label: str = ""  # msgid naming the kind on the preferences page ("A contract waits for my signature")


_kinds: dict[str, Kind] = {}


def register_kind(kind: Kind) -> None:
    _kinds[kind.name] = kind


def kinds() -> list[Kind]:
    return list(_kinds.values())


def kind_of(name: str) -> Kind | None:
    return _kinds.get(name)


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "…"


def render(kind: str, params: Mapping[str, Any], lang: str | None = None) -> tuple[str, str]:
    """The subject and body of a message in ``lang`` (the current locale when ``None``)."""
    translations = i18n.translations(lang if lang in i18n.LOCALES else i18n.get_locale())
    found = _kinds.get(kind)
    values = _Params(params)
    if found is None:
        return kind, ""
    for name in found.translated:
        if name in values:
            values[name] = translations.gettext(str(values[name]))
    return translations.gettext(found.subject) % values, translations.gettext(found.body) % values


def render_row(row: Notification, lang: str | None = None) -> tuple[str, str]:
    if row.subject is not None:
        return row.subject, row.body or ""
    return render(row.kind, json.loads(row.params or "{}"), lang)


def _dumps(params: Mapping[str, Any] | None) -> str:
    return json.dumps({k: str(v) for k, v in (params or {}).items()}, ensure_ascii=False, sort_keys=True)


async def send(
    session: AsyncSession,
    *,
    kind: str,
    params: Mapping[str, Any] | None = None,
    link: str | None = None,
    to_user_ids: Iterable[uuid.UUID] = (),
    to_org_id: uuid.UUID | None = None,
    to_org_kind: OrgKind | str | None = None,
    to_org_roles: Collection[OrgRole | str] | None = None,
) -> int:
    """Queue ``kind`` for the active users named, of the organisation, and/or of every
    organisation of a kind (the operator, the finance bureau); returns how many were queued.

    ``to_org_roles`` narrows the organisations' users (not the users named) to those roles, e.g.
    :data:`APPROVERS` for a message that asks for an approver's action.

    Added to the session only: it is written when (and if) the caller's transaction commits."""
    if kind not in _kinds:
        raise ValueError(f"unknown notification kind {kind!r}: register it with market.notify.register_kind")
    spec = _kinds[kind]
    wanted = set(to_user_ids)
    conditions: list[ColumnElement[bool]] = []
    if wanted:
        conditions.append(col(User.id).in_(wanted))
    by_org: list[ColumnElement[bool]] = []
    if to_org_id is not None:
        by_org.append(col(User.org_id) == to_org_id)
    if to_org_kind is not None:
        by_org.append(
            col(User.org_id).in_(select(col(Organization.id)).where(col(Organization.kind) == str(to_org_kind)))
        )
    if by_org:
        org_users = or_(*by_org)
        if to_org_roles is not None:
            org_users = and_(org_users, col(User.org_role).in_([str(r) for r in to_org_roles]))
        conditions.append(org_users)
    if not conditions:
        return 0
    users = list(await session.scalars(select(col(User.id)).where(or_(*conditions), col(User.is_active).is_(True))))
    if not users:
        return 0
    prefs = {
        p.user_id: p
        for p in await session.scalars(
            select(NotificationPreference).where(
                col(NotificationPreference.user_id).in_(users), col(NotificationPreference.kind) == kind
            )
        )
    }
    payload = _dumps(params)
    queued = 0
    for user_id in sorted(users):
        pref = prefs.get(user_id)
        if spec.subscription and pref is not None and not pref.enabled:
            continue
        email = pref.email if pref is not None else spec.email_default
        session.add(
            Notification(
                user_id=user_id,
                kind=kind,
                params=payload,
                link=link,
                email_status=EmailStatus.pending if email else EmailStatus.off,
            )
        )
        queued += 1
    return queued


async def send_email(session: AsyncSession, to_address: str, subject: str, body: str, lang: str | None = None) -> None:
    """Queue an e-mail to a bare address (a password-reset link, an invitation), already
    rendered by the caller, through the same outbox and worker."""
    session.add(
        Notification(
            to_address=to_address.strip(),
            kind=BARE_EMAIL,
            subject=subject,
            body=body,
            lang=lang,
            email_status=EmailStatus.pending,
        )
    )


async def once(session: AsyncSession, key: str) -> bool:
    """True the first time ``key`` is marked (then the caller sends), False ever after; the mark
    is part of the caller's transaction."""
    if await session.get(NotificationMark, key) is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(NotificationMark(key=key))
    except IntegrityError:
        return False
    return True


async def once_each(session: AsyncSession, keys: Iterable[str]) -> list[str]:
    """:func:`once` for many keys at once (a digest's): the keys not marked before, in their order,
    now marked in the caller's transaction — one read per thousand keys and one insert, instead of
    a savepoint per key. Only for a caller that already holds a mark of its own run (the digest's
    day), so no other transaction marks the same keys meanwhile."""
    wanted = list(dict.fromkeys(keys))
    marked: set[str] = set()
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        known = select(col(NotificationMark.key)).where(col(NotificationMark.key).in_(chunk))
        marked.update(await session.scalars(known))
    new = [key for key in wanted if key not in marked]
    session.add_all([NotificationMark(key=key) for key in new])
    return new


async def language_of(session: AsyncSession, user_id: uuid.UUID) -> str:
    chosen = await session.get(NotificationSettings, user_id)
    return chosen.lang if chosen is not None else i18n.DEFAULT_LOCALE


async def languages_of(session: AsyncSession, user_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = await session.scalars(
        select(NotificationSettings).where(col(NotificationSettings.user_id).in_(list(user_ids)))
    )
    return {r.user_id: r.lang for r in rows}
