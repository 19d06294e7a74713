"""The notifications API: a user's own messages and their preferences."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from pydantic import BaseModel

from market.identity.guards import signed_in
from market.notify import inbox
from market.notify.service import render_row
from market.schemas import Page, Schema
from market.settings import Settings
from market.web.deps import CurrentActor, DbSession


class NotificationOut(BaseModel):
    id: uuid.UUID
    kind: str
    subject: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


class PreferenceOut(BaseModel):
    kind: str
    email: bool
    enabled: bool
    subscription: bool


class PreferencesOut(BaseModel):
    lang: str
    kinds: list[PreferenceOut]


class PreferenceIn(Schema):
    kind: str
    email: bool | None = None
    enabled: bool | None = None


class PreferencesIn(Schema):
    lang: str | None = None
    kinds: list[PreferenceIn] = []


def _out(item: inbox.Item) -> NotificationOut:
    return NotificationOut(
        id=item.id,
        kind=item.kind,
        subject=item.subject,
        body=item.body,
        link=item.link,
        created_at=item.created_at,
        read_at=item.read_at,
    )


async def preferences_out(db: Any, user_id: uuid.UUID, role: str) -> PreferencesOut:
    lang, choices = await inbox.preferences(db, user_id, role)
    return PreferencesOut(
        lang=lang,
        kinds=[
            PreferenceOut(kind=c.kind.name, email=c.email, enabled=c.enabled, subscription=c.kind.subscription)
            for c in choices
        ],
    )


class NotificationsController(Controller):
    path = "/api/v1"
    tags = ["notifications"]
    guards = [signed_in]

    @get("/notifications", summary="My messages, newest first (in the request's language)")
    async def list_notifications(
        self,
        db: DbSession,
        actor: CurrentActor,
        unread: FromQuery[bool] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> Page[NotificationOut]:
        assert actor.user_id is not None
        items, total = await inbox.page(db, actor.user_id, limit=limit, offset=offset, unread_only=unread)
        return Page[NotificationOut](items=[_out(i) for i in items], total=total, limit=limit, offset=offset)

    @post("/notifications/{notification_id:uuid}/read", summary="Mark one of my messages read", status_code=200)
    async def read(self, db: DbSession, actor: CurrentActor, notification_id: FromPath[uuid.UUID]) -> NotificationOut:
        row = await inbox.mark_read(db, actor, notification_id)
        subject, body = render_row(row)
        return NotificationOut(
            id=row.id,
            kind=row.kind,
            subject=subject,
            body=body,
            link=row.link,
            created_at=row.created_at,
            read_at=row.read_at,
        )

    @post("/notifications/read-all", summary="Mark all my messages read", status_code=200)
    async def read_all(self, db: DbSession, actor: CurrentActor) -> dict[str, int]:
        return {"marked": await inbox.mark_all_read(db, actor)}

    @get("/me/notification-preferences", summary="My language and e-mail choices per kind of message")
    async def get_preferences(self, db: DbSession, actor: CurrentActor) -> PreferencesOut:
        assert actor.user_id is not None
        return await preferences_out(db, actor.user_id, actor.role)

    @put("/me/notification-preferences", summary="Change my language and e-mail choices")
    async def put_preferences(
        self, db: DbSession, actor: CurrentActor, data: JSONBody[PreferencesIn]
    ) -> PreferencesOut:
        assert actor.user_id is not None
        await inbox.save_preferences(
            db,
            actor,
            lang=data.lang,
            email={k.kind: k.email for k in data.kinds if k.email is not None},
            enabled={k.kind: k.enabled for k in data.kinds if k.enabled is not None},
        )
        await db.flush()
        return await preferences_out(db, actor.user_id, actor.role)


def routes(settings: Settings) -> list[Any]:
    return [NotificationsController]
