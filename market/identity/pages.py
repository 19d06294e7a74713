"""Account pages: an organisation's users (its administrator invites, changes roles,
deactivates), accepting an invitation, changing a password, and resetting a forgotten one."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from market import i18n
from market.errors import FieldError, InvalidInput
from market.identity import accounts
from market.identity.api import forgot_answer
from market.identity.guards import principal_of, signed_in
from market.identity.models import AccountLinkKind, OrgRole
from market.identity.schemas import ForgotIn, InviteIn, MemberPatch, PasswordChangeIn, PasswordIn
from market.identity.services import check_password_strength
from market.settings import Settings
from market.terms import N_
from market.web.deps import AppSettings, CurrentActor, DbSession, client_ip
from market.web.forms import parse, read_form, refusal
from market.web.pages import redirect

NOTICES = {
    "user_invited": N_("The invitation is sent: the user sets its password through the e-mailed link."),
    "user_updated": N_("The user is updated."),
    "user_deactivated": N_("The user is deactivated: its sessions have ended."),
    "password_changed": N_("Your password is changed; your other sessions have ended."),
    "password_set": N_("Your password is set. Sign in with it."),
}

ROLE_CHOICES = [
    ("clerk", N_("Clerk (经办): prepares")),
    ("approver", N_("Approver (负责人): publishes, selects, signs, pays")),
]

WORKSPACE_TILES: list[tuple[str, str, str]] = [
    (role, "/workspace/users", N_("Users of my organisation")) for role in ("owner", "provider", "admin", "finance")
]


def _roles() -> list[tuple[str, str]]:
    return [(key, i18n.gettext(label)) for key, label in ROLE_CHOICES]


@get("/workspace/users", include_in_schema=False, guards=[signed_in])
async def users_page(request: Request[Any, Any, Any], db: DbSession, actor: CurrentActor) -> Template:
    return Template("identity/users.html", context=await _users_context(request, db, actor))


async def _users_context(request: Request[Any, Any, Any], db: Any, actor: Any) -> dict[str, Any]:
    return {"members": await accounts.org_users(db, actor), "roles": _roles(), "me": principal_of(request)}


@post("/workspace/users", include_in_schema=False, guards=[signed_in], status_code=303)
async def invite_submit(
    request: Request[Any, Any, Any], db: DbSession, actor: CurrentActor, settings: AppSettings
) -> Redirect:
    form = await read_form(request)

    async def again() -> dict[str, Any]:
        return await _users_context(request, db, actor)

    async with refusal(db, "identity/users.html", again, form=form):
        data = parse(InviteIn, form)
        await accounts.invite(
            db,
            actor,
            settings,
            username=data.username,
            email=data.email,
            org_role=OrgRole(data.org_role),
            display_name=data.display_name,
            lang=i18n.get_locale(),
        )
    return redirect("/workspace/users", done="user_invited")


@post("/workspace/users/{user_id:uuid}", include_in_schema=False, guards=[signed_in], status_code=303)
async def member_submit(
    request: Request[Any, Any, Any], db: DbSession, actor: CurrentActor, user_id: FromPath[uuid.UUID]
) -> Redirect:
    """Change the role (``org_role``) or deactivate / reactivate (``is_active``: 0 or 1)."""
    form = await read_form(request)

    async def again() -> dict[str, Any]:
        return await _users_context(request, db, actor)

    async with refusal(db, "identity/users.html", again, form=form):
        data = parse(MemberPatch, form)
        await accounts.update_member(
            db,
            actor,
            user_id,
            org_role=OrgRole(data.org_role) if data.org_role else None,
            is_active=data.is_active,
        )
    return redirect("/workspace/users", done="user_deactivated" if data.is_active is False else "user_updated")


# an invitation and a password reset: a single-use link whose page sets the user's password
LINK_TEMPLATE = "identity/set_password.html"
SetPassword = Callable[[AsyncSession, Settings, str, str], Awaitable[Any]]


async def _link_page(db: AsyncSession, token: str, kind: AccountLinkKind, action: str) -> Template:
    user = await accounts.link_user(db, token, kind)
    return Template(
        LINK_TEMPLATE,
        context={"who": user, "action": action, "kind": kind.value, "form": {}},
        status_code=200 if user else 404,
    )


async def _link_submit(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    settings: Settings,
    token: str,
    kind: AccountLinkKind,
    action: str,
    set_password: SetPassword,
) -> Redirect:
    form = await read_form(request)
    user = await accounts.link_user(db, token, kind)

    async def again() -> dict[str, Any]:
        return {"who": user, "action": action, "kind": kind.value}

    async with refusal(db, LINK_TEMPLATE, again, form=form):
        data = _new_password(form, user)
        await set_password(db, settings, token, data.password)
    return redirect("/login", done="password_set")


@get("/invitations/{token:str}", include_in_schema=False)
async def invitation_page(db: DbSession, token: FromPath[str]) -> Template:
    return await _link_page(db, token, AccountLinkKind.invitation, f"/invitations/{token}")


@post("/invitations/{token:str}", include_in_schema=False, status_code=303)
async def invitation_submit(
    request: Request[Any, Any, Any], db: DbSession, settings: AppSettings, token: FromPath[str]
) -> Redirect:
    return await _link_submit(
        request, db, settings, token, AccountLinkKind.invitation, f"/invitations/{token}", accounts.accept_invitation
    )


def check_new_password(password: str, repeated: str | None, field: str, field2: str, username: str) -> None:
    """The policy and the repetition, both answered at once at their fields (so that a person does
    not fix one to be told of the other)."""
    errors: list[FieldError] = []
    try:
        check_password_strength(password, field, username=username)
    except InvalidInput as refused:
        errors += refused.errors
    if repeated != password:
        errors.append(FieldError(field2, i18n.gettext("The two passwords differ.")))
    if errors:
        raise InvalidInput(i18n.gettext("The input is not valid."), errors[0].message, errors=errors)


def _new_password(form: Any, user: Any) -> PasswordIn:
    data = parse(PasswordIn, form)
    check_new_password(data.password, form.get("password2"), "password", "password2", user.username if user else "")
    return data


@get("/account/password", include_in_schema=False, guards=[signed_in])
async def password_page() -> Template:
    return Template("identity/change_password.html", context={"form": {}})


@post("/account/password", include_in_schema=False, guards=[signed_in], status_code=303)
async def password_submit(
    request: Request[Any, Any, Any], db: DbSession, actor: CurrentActor, settings: AppSettings
) -> Redirect:
    form = await read_form(request)

    async def again() -> dict[str, Any]:
        return {}

    async with refusal(db, "identity/change_password.html", again, form=form):
        data = parse(PasswordChangeIn, form)
        check_new_password(
            data.new_password, form.get("new_password2"), "new_password", "new_password2", actor.username
        )
        await accounts.change_password(
            db,
            actor,
            settings,
            current=data.current_password,
            new=data.new_password,
            token_id=principal_of(request).token_id,
        )
    return redirect("/account/password", done="password_changed")


@get("/password/forgot", include_in_schema=False)
async def forgot_page() -> Template:
    return Template("identity/forgot.html", context={"form": {}, "sent": None})


@post("/password/forgot", include_in_schema=False, status_code=200)
async def forgot_submit(request: Request[Any, Any, Any], db: DbSession, settings: AppSettings) -> Template:
    """The same page for every address (known or not): what was sent is never said."""
    form = await read_form(request)

    async def again() -> dict[str, Any]:
        return {"sent": None}

    async with refusal(db, "identity/forgot.html", again, form=form):
        data = parse(ForgotIn, form)
        await accounts.request_reset(db, settings, data.email, ip=client_ip(request), lang=i18n.get_locale())
    return Template("identity/forgot.html", context={"form": {}, "sent": forgot_answer()})


@get("/password/reset/{token:str}", include_in_schema=False)
async def reset_page(db: DbSession, token: FromPath[str]) -> Template:
    return await _link_page(db, token, AccountLinkKind.reset, f"/password/reset/{token}")


@post("/password/reset/{token:str}", include_in_schema=False, status_code=303)
async def reset_submit(
    request: Request[Any, Any, Any], db: DbSession, settings: AppSettings, token: FromPath[str]
) -> Redirect:
    return await _link_submit(
        request, db, settings, token, AccountLinkKind.reset, f"/password/reset/{token}", accounts.reset_password
    )


def routes(settings: Settings) -> list[Any]:
    """The account pages (the composition root mounts them)."""
    return [
        users_page,
        invite_submit,
        member_submit,
        invitation_page,
        invitation_submit,
        password_page,
        password_submit,
        forgot_page,
        forgot_submit,
        reset_page,
        reset_submit,
    ]
