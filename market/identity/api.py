"""JSON API: sign-in, the current user, sessions, and the operator's organisation accounts."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import or_, select
from sqlmodel import col

from market import i18n
from market.db import fetch_page
from market.errors import DomainError, FieldError, NotAuthenticated, TooManyRequests
from market.i18n import gettext as _
from market.identity import accounts, services
from market.identity.guards import admin_only, principal_of, signed_in
from market.identity.models import Organization, OrgKind, OrgRole, OrgStatus, User
from market.identity.principal import Principal
from market.identity.schemas import (
    Created,
    ForgotIn,
    ForgotOut,
    InviteIn,
    LoginIn,
    LoginOut,
    MemberPatch,
    MeOut,
    OrganizationCreate,
    OrganizationOut,
    OrgBrief,
    PasswordChangeIn,
    PasswordIn,
    SessionOut,
    UserOut,
)
from market.schemas import Page
from market.settings import Settings
from market.web.deps import AppSettings, CurrentActor, DbSession, Offset, client_ip
from market.web.middleware import SESSION_COOKIE
from market.web.problems import problem_of


def me_out(p: Principal) -> MeOut:
    return MeOut(
        id=p.user_id,
        username=p.username,
        display_name=p.display_name,
        role=p.role,
        org_id=p.org_id,
        org=OrgBrief(id=p.org_id, name=p.org_name, kind=p.org_kind, status=p.org_status),
        org_role=p.org_role,
    )


def login_refusal(outcome: services.LoginOutcome, settings: Settings) -> DomainError | None:
    """Why a sign-in failed, as the API and the sign-in page both say it (None: it succeeded)."""
    if outcome.error == "throttled":
        return TooManyRequests(
            _("Too many failed sign-ins. Try again later."),
            _(
                "Too many failed sign-ins from this address: wait %(seconds)d seconds before trying again.",
                seconds=outcome.retry_after,
            ),
            retry_after=outcome.retry_after,
        )
    if not outcome.ok:
        return NotAuthenticated(
            _("Wrong username or password."),
            _("Check both and try again."),
            errors=[FieldError("password", _("Wrong username or password."))],
        )
    return None


def session_cookie(token: str, settings: AppSettings, max_age: int) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        httponly=True,
        samesite="lax",
        secure=settings.is_production,
        max_age=max_age,
        path="/",
    )


class AuthController(Controller):
    path = "/api/v1"
    tags = ["identity"]

    @post("/auth/login", status_code=200, summary="Sign in; returns a bearer token and sets the session cookie")
    async def login(
        self, request: Request[Any, Any, Any], data: JSONBody[LoginIn], db: DbSession, settings: AppSettings
    ) -> Response[LoginOut]:
        outcome = await services.login(
            db,
            settings,
            data.username,
            data.password,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent"),
            first_in_unit=True,
        )
        # failures are answered, not raised, so that the attempt is committed and counted
        refused = login_refusal(outcome, settings)
        if refused is not None:
            return problem_of(request, refused)
        assert outcome.principal is not None and outcome.token is not None  # as every successful sign-in
        body = LoginOut(token=outcome.token, expires_in=outcome.expires_in, user=me_out(outcome.principal))
        return Response(body, cookies=[session_cookie(outcome.token, settings, outcome.expires_in)])

    @post("/auth/logout", status_code=204, guards=[signed_in], summary="End this session (revokes the token)")
    async def logout(
        self, request: Request[Any, Any, Any], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> Response[None]:
        await services.revoke_token(db, actor, principal_of(request).token_id)
        return Response(None, status_code=204, cookies=[session_cookie("", settings, 0)])

    @get("/me", guards=[signed_in], summary="The signed-in user, with role and organisation")
    async def me(self, request: Request[Any, Any, Any]) -> MeOut:
        return me_out(principal_of(request))

    @get("/auth/sessions", guards=[signed_in], summary="My open sessions")
    async def sessions(self, request: Request[Any, Any, Any], db: DbSession) -> list[SessionOut]:
        me = principal_of(request)
        rows = await services.list_tokens(db, me.user_id)
        return [
            SessionOut.model_validate(row, from_attributes=True).model_copy(update={"current": row.id == me.token_id})
            for row in rows
        ]

    @delete(
        "/auth/sessions/{session_id:uuid}",
        status_code=204,
        guards=[signed_in],
        summary="Revoke one of my sessions (admins: anyone's)",
    )
    async def revoke(self, session_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> None:
        await services.revoke_token(db, actor, session_id)


class AdminOrganizationController(Controller):
    path = "/api/v1/admin/organizations"
    tags = ["admin"]
    guards = [admin_only]

    @get("/", summary="Organisations, filtered by status, kind and name")
    async def list_organizations(
        self,
        db: DbSession,
        status: Annotated[str | None, QueryParameter()] = None,
        kind: Annotated[str | None, QueryParameter()] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Offset = 0,
    ) -> Page[OrganizationOut]:
        query = select(Organization)
        if status:
            query = query.where(col(Organization.status) == status)
        if kind:
            query = query.where(col(Organization.kind) == kind)
        if q:
            like = f"%{q}%"
            query = query.where(or_(col(Organization.name).ilike(like), col(Organization.uscc).ilike(like)))
        rows, total = await fetch_page(
            db, query.order_by(col(Organization.created_at).desc()), limit=limit, offset=offset
        )
        return Page[OrganizationOut](
            items=[OrganizationOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
        )

    @post("/", status_code=201, summary="Create an approved organisation with its first user")
    async def create_organization(
        self, data: JSONBody[OrganizationCreate], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> Created:
        org = await services.create_organization(
            db,
            actor,
            services.OrgInput(
                kind=OrgKind(data.kind),
                name=data.name,
                uscc=data.uscc,
                legal_rep=data.legal_rep,
                address=data.address,
                phone=data.phone,
                email=str(data.email),
                org_type=data.org_type,
            ),
            status=OrgStatus.approved,
            commitment_accepted=data.kind in ("owner", "provider"),
        )
        await services.create_user(
            db, actor, settings, org, username=data.username, password=data.password, display_name=data.display_name
        )
        return Created(id=org.id, status=org.status)

    @get("/{org_id:uuid}", summary="One organisation")
    async def get_organization(self, org_id: FromPath[uuid.UUID], db: DbSession) -> OrganizationOut:
        return OrganizationOut.model_validate(await services.get_organization(db, org_id))

    @get("/{org_id:uuid}/users", summary="The organisation's users")
    async def users(self, org_id: FromPath[uuid.UUID], db: DbSession) -> list[UserOut]:
        await services.get_organization(db, org_id)
        rows = await db.scalars(select(User).where(col(User.org_id) == org_id).order_by(col(User.created_at)))
        return [user_out(u) for u in rows]


def user_out(user: User) -> UserOut:
    return UserOut.model_validate(user).model_copy(update={"invited": not user.password_hash})


def forgot_answer() -> str:
    return _(
        "If an account has this address, a link to reset its password is on its way. It works once, for 30 minutes."
    )


class AccountController(Controller):
    """An organisation's users (its administrator manages them), invitations, passwords."""

    path = "/api/v1"
    tags = ["identity"]

    @get("/org/users", guards=[signed_in], summary="The users of my organisation")
    async def list_users(self, db: DbSession, actor: CurrentActor) -> list[UserOut]:
        return [user_out(u) for u in await accounts.org_users(db, actor)]

    @post(
        "/org/users",
        status_code=201,
        guards=[signed_in],
        summary="Invite a user (administrator): e-mails a one-time link",
    )
    async def invite(
        self, data: JSONBody[InviteIn], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> UserOut:
        user = await accounts.invite(
            db,
            actor,
            settings,
            username=data.username,
            email=data.email,
            org_role=OrgRole(data.org_role),
            display_name=data.display_name,
            lang=i18n.get_locale(),
        )
        return user_out(user)

    @patch(
        "/org/users/{user_id:uuid}", guards=[signed_in], summary="Change a user's role or deactivate it (administrator)"
    )
    async def update_user(
        self, user_id: FromPath[uuid.UUID], data: JSONBody[MemberPatch], db: DbSession, actor: CurrentActor
    ) -> UserOut:
        user = await accounts.update_member(
            db,
            actor,
            user_id,
            org_role=OrgRole(data.org_role) if data.org_role else None,
            is_active=data.is_active,
        )
        return user_out(user)

    @post("/invitations/{token:str}/accept", status_code=204, summary="Accept an invitation: set the password")
    async def accept(
        self, token: FromPath[str], data: JSONBody[PasswordIn], db: DbSession, settings: AppSettings
    ) -> None:
        await accounts.accept_invitation(db, settings, token, data.password)

    @post("/auth/password", status_code=204, guards=[signed_in], summary="Change my password (ends my other sessions)")
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[PasswordChangeIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> None:
        await accounts.change_password(
            db,
            actor,
            settings,
            current=data.current_password,
            new=data.new_password,
            token_id=principal_of(request).token_id,
        )

    @post("/password/forgot", status_code=202, summary="E-mail a password-reset link (the same answer for any address)")
    async def forgot(
        self, request: Request[Any, Any, Any], data: JSONBody[ForgotIn], db: DbSession, settings: AppSettings
    ) -> ForgotOut:
        await accounts.request_reset(db, settings, data.email, ip=client_ip(request), lang=i18n.get_locale())
        return ForgotOut(detail=forgot_answer())

    @post("/password/reset/{token:str}", status_code=204, summary="Set a new password through a reset link")
    async def reset(
        self, token: FromPath[str], data: JSONBody[PasswordIn], db: DbSession, settings: AppSettings
    ) -> None:
        await accounts.reset_password(db, settings, token, data.password)


def routes(settings: Settings) -> list[Any]:
    """The identity API (the composition root mounts it)."""
    return [AuthController, AccountController, AdminOrganizationController]
