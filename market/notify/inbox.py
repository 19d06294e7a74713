"""Each user's inbox (the outbox rows addressed to them) and their preferences. A user sees and
marks only their own messages: another's is "not found"."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from market import audit, clock, i18n
from market.actor import Actor
from market.errors import InvalidInput, NotFound
from market.i18n import gettext as _
from market.notify.models import Notification, NotificationPreference, NotificationSettings
from market.notify.service import Kind, kinds, render, render_row


@dataclass(frozen=True)
class Item:
    id: uuid.UUID
    kind: str
    subject: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


async def unread_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
        )
        or 0
    )


async def page(
    session: AsyncSession, user_id: uuid.UUID, *, limit: int, offset: int, unread_only: bool = False
) -> tuple[list[Item], int]:
    """The user's messages, newest first, rendered in the current language."""
    where = [col(Notification.user_id) == user_id]
    if unread_only:
        where.append(col(Notification.read_at).is_(None))
    total = int(await session.scalar(select(func.count()).select_from(Notification).where(*where)) or 0)
    rows = await session.scalars(
        select(Notification)
        .where(*where)
        .order_by(col(Notification.created_at).desc(), col(Notification.id))
        .limit(limit)
        .offset(offset)
    )
    items = []
    for row in rows:
        subject, body = render_row(row)
        items.append(Item(row.id, row.kind, subject, body, row.link, row.created_at, row.read_at))
    return items, total


async def mark_read(session: AsyncSession, actor: Actor, notification_id: uuid.UUID) -> Notification:
    row = await session.get(Notification, notification_id)
    if row is None or actor.user_id is None or row.user_id != actor.user_id:
        raise NotFound(_("No such message."))
    if row.read_at is None:
        row.read_at = clock.now()
    return row


async def mark_all_read(session: AsyncSession, actor: Actor) -> int:
    if actor.user_id is None:
        return 0
    result = await session.execute(
        update(Notification)
        .where(col(Notification.user_id) == actor.user_id, col(Notification.read_at).is_(None))
        .values(read_at=clock.now())
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Choice:
    kind: Kind
    email: bool
    enabled: bool

    @property
    def label(self) -> str:
        """What the kind is about, in the page's language (its subject, placeholders and all, for a
        kind registered without a label)."""
        if self.kind.label:
            return i18n.gettext(self.kind.label)
        return render(self.kind.name, {})[0]


async def preferences(session: AsyncSession, user_id: uuid.UUID, role: str) -> tuple[str, list[Choice]]:
    """The user's language and, for each kind meant for their role, e-mail on/off (and on/off
    altogether for a subscription)."""
    saved = {
        p.kind: p
        for p in await session.scalars(
            select(NotificationPreference).where(col(NotificationPreference.user_id) == user_id)
        )
    }
    settings = await session.get(NotificationSettings, user_id)
    choices = []
    for kind in kinds():
        if role not in kind.audience.split():
            continue
        pref = saved.get(kind.name)
        choices.append(
            Choice(
                kind,
                pref.email if pref is not None else kind.email_default,
                pref.enabled if pref is not None else True,
            )
        )
    return (settings.lang if settings is not None else i18n.DEFAULT_LOCALE), choices


async def save_preferences(
    session: AsyncSession,
    actor: Actor,
    *,
    lang: str | None,
    email: dict[str, bool],
    enabled: dict[str, bool] | None = None,
    named: Collection[str] = (),
) -> None:
    """Save the language and the choices given (kinds not named keep theirs)."""
    assert actor.user_id is not None
    user_id = actor.user_id
    known = {k.name: k for k in kinds() if actor.role in k.audience.split()}
    unknown = sorted((set(email) | set(enabled or {}) | set(named)) - set(known))
    if unknown:
        raise InvalidInput.field("kinds", _("Unknown kind of message: %(kind)s", kind=", ".join(unknown)))
    now = clock.now()
    if lang is not None:
        if lang not in i18n.LOCALES:
            raise InvalidInput.field("lang", _("Choose Chinese (zh) or English (en)."))
        current = await session.get(NotificationSettings, user_id)
        if current is None:
            session.add(NotificationSettings(user_id=user_id, lang=lang, updated_at=now))
        else:
            current.lang, current.updated_at = lang, now
    saved = {
        p.kind: p
        for p in await session.scalars(
            select(NotificationPreference).where(col(NotificationPreference.user_id) == user_id)
        )
    }
    for name in sorted(set(email) | set(enabled or {})):
        kind = known[name]
        pref = saved.get(name)
        if pref is None:
            pref = NotificationPreference(user_id=user_id, kind=name, email=kind.email_default, enabled=True)
            session.add(pref)
        if name in email:
            pref.email = email[name]
        if enabled and name in enabled:
            pref.enabled = enabled[name] or not kind.subscription  # only subscriptions turn off
        pref.updated_at = now
    audit.record(
        session,
        actor,
        "notification_preferences.saved",
        "user",
        user_id,
        {"lang": lang, "email": email, "enabled": enabled or {}},
    )
