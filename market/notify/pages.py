"""The inbox pages: every signed-in user's messages (paged, mark read, mark all read: plain POST
forms) and their preferences (language, e-mail per kind). The header's unread count is read by
the platform middleware (:mod:`market.web.middleware`)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from market import i18n
from market.identity.guards import principal_of, signed_in
from market.notify import inbox
from market.settings import Settings
from market.terms import N_
from market.web.deps import CurrentActor, DbSession
from market.web.forms import read_form, refusal
from market.web.pages import Pager, redirect

PAGE_SIZE = 20

NOTICES = {
    "notification_read": N_("Marked as read."),
    "notifications_all_read": N_("All messages are marked as read."),
    "notification_preferences_saved": N_("Your notification preferences are saved."),
}


@get("/notifications", include_in_schema=False, guards=[signed_in])
async def inbox_page(
    request: Request[Any, Any, Any],
    db: DbSession,
    page: FromQuery[str | None] = None,
    unread: FromQuery[str | None] = None,
) -> Template:
    user = principal_of(request)
    pager = Pager.of(page, PAGE_SIZE)
    items, total = await inbox.page(db, user.user_id, limit=pager.limit, offset=pager.offset, unread_only=unread == "1")
    return Template(
        "notifications.html",
        context={
            "items": items,
            "unread_only": unread == "1",
            "unread_total": await inbox.unread_count(db, user.user_id),
            **pager.context(total),
        },
    )


@post("/notifications/{notification_id:uuid}/read", include_in_schema=False, guards=[signed_in], status_code=303)
async def read_submit(db: DbSession, actor: CurrentActor, notification_id: FromPath[uuid.UUID]) -> Redirect:
    row = await inbox.mark_read(db, actor, notification_id)
    return redirect(row.link or "/notifications", done=None if row.link else "notification_read")


@post("/notifications/read-all", include_in_schema=False, guards=[signed_in], status_code=303)
async def read_all_submit(db: DbSession, actor: CurrentActor) -> Redirect:
    await inbox.mark_all_read(db, actor)
    return redirect("/notifications", done="notifications_all_read")


async def _preferences_context(db: Any, request: Request[Any, Any, Any]) -> dict[str, Any]:
    user = principal_of(request)
    lang, choices = await inbox.preferences(db, user.user_id, user.role)
    languages = [("zh", "中文"), ("en", "English")]
    return {"lang": lang, "choices": choices, "languages": languages}


@get("/notifications/preferences", include_in_schema=False, guards=[signed_in])
async def preferences_page(request: Request[Any, Any, Any], db: DbSession) -> Template:
    return Template("notification_preferences.html", context=await _preferences_context(db, request))


@post("/notifications/preferences", include_in_schema=False, guards=[signed_in], status_code=303)
async def preferences_submit(request: Request[Any, Any, Any], db: DbSession, actor: CurrentActor) -> Redirect:
    form = await read_form(request)
    user = principal_of(request)

    async def again() -> dict[str, Any]:
        return await _preferences_context(db, request)

    async with refusal(db, "notification_preferences.html", again, form=form):
        _lang, choices = await inbox.preferences(db, user.user_id, user.role)
        emailed = set(form.getall("email"))
        enabled = set(form.getall("enabled"))
        await inbox.save_preferences(
            db,
            actor,
            lang=i18n.normalize(form.get("lang")) or form.get("lang") or None,
            email={c.kind.name: c.kind.name in emailed for c in choices},
            enabled={c.kind.name: c.kind.name in enabled for c in choices if c.kind.subscription},
        )
    return redirect("/notifications/preferences", done="notification_preferences_saved")


def routes(settings: Settings) -> list[Any]:
    return [inbox_page, read_submit, read_all_submit, preferences_page, preferences_submit]
