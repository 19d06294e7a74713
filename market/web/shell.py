"""Pages every visitor sees: home, sign-in and sign-out, the health check, and the
role-based entry points of the workspace, the admin area and the finance area."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlalchemy import text

from market.identity import services as identity
from market.identity.api import login_refusal, session_cookie
from market.identity.guards import admin_only, principal_of, requires_role, signed_in
from market.identity.schemas import LoginIn
from market.settings import Settings
from market.terms import N_
from market.web.deps import AppSettings, CurrentActor, DbSession, client_ip
from market.web.forms import parse, read_form, refusal
from market.web.problems import status_of

# links on each role's dashboard: (role, url, msgid); the composition root gathers every
# package's into ``app.state.workspace_tiles``
WORKSPACE_TILES: list[tuple[str, str, str]] = [
    ("admin", "/finance/audit", N_("Audit trail")),
    ("finance", "/finance/audit", N_("Audit trail")),
]


class Health(BaseModel):
    status: str
    database: str


@get("/healthz", tags=["platform"], summary="Liveness and database reachability")
async def healthz(db: DbSession) -> Response[Health]:
    try:
        await db.execute(text("SELECT 1"))
    except Exception:
        return Response(Health(status="fail", database="unreachable"), status_code=503)
    return Response(Health(status="ok", database="ok"))


@get("/", include_in_schema=False)
async def home(request: Request[Any, Any, Any]) -> Template:
    return Template("home.html", context={})


@get("/login", include_in_schema=False)
async def login_page(request: Request[Any, Any, Any], next: FromQuery[str | None] = None) -> Template:
    return Template("login.html", context={"next": _safe_next(next), "form": {}})


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/workspace"


@post("/login", include_in_schema=False, status_code=303)
async def login_submit(request: Request[Any, Any, Any], db: DbSession, settings: AppSettings) -> Response[Any]:
    """The sign-in form, parsed into the API's :class:`LoginIn`; refused as the API refuses."""
    form = await read_form(request)
    target = _safe_next(form.get("next"))

    async def again() -> dict[str, Any]:
        return {"next": target}

    async with refusal(db, "login.html", again, form=form):
        data = parse(LoginIn, form)
    outcome = await identity.login(
        db, settings, data.username, data.password, ip=client_ip(request), user_agent=request.headers.get("user-agent")
    )
    refused = login_refusal(outcome, settings)
    if refused is not None:
        # answered (not raised) so that the failed attempt is committed and counted
        return Template(
            "login.html",
            context={
                "next": target,
                "form": form.shown(),
                "error": refused,
                "field_errors": {e.field: e.message for e in refused.errors},
            },
            status_code=status_of(refused),
            headers={"Retry-After": str(outcome.retry_after)} if outcome.retry_after else None,
        )
    assert outcome.token is not None  # as every successful sign-in
    response: Response[Any] = Redirect(path=target, status_code=303)
    response.set_cookie(session_cookie(outcome.token, settings, outcome.expires_in))
    return response


@post("/logout", include_in_schema=False, guards=[signed_in], status_code=303)
async def logout_submit(
    request: Request[Any, Any, Any], db: DbSession, actor: CurrentActor, settings: AppSettings
) -> Response[Any]:
    await identity.revoke_token(db, actor, principal_of(request).token_id)
    response: Response[Any] = Redirect(path="/", status_code=303)
    response.set_cookie(session_cookie("", settings, 0))
    return response


async def _dashboard(request: Request[Any, Any, Any], db: DbSession, settings: Settings) -> Template:
    """The role's tiles, and its to-do lists (each package's, one query each) while the
    organisation is approved."""
    user = principal_of(request)
    links = [(url, label) for role, url, label in request.app.state.workspace_tiles if role == user.role]
    lists = []
    if user.is_active_org:
        actor = user.actor()
        for role, query in getattr(request.app.state, "workspace_todo", []):
            if role == user.role:
                lists.append(await query(db, actor, settings))
    return Template("workspace.html", context={"links": links, "todo": lists})


@get("/workspace", include_in_schema=False, guards=[signed_in])
async def workspace(request: Request[Any, Any, Any], db: DbSession, settings: AppSettings) -> Response[Any]:
    role = principal_of(request).role
    if role in ("admin", "finance"):
        return Redirect(path=f"/{role}")
    return await _dashboard(request, db, settings)


@get("/admin", include_in_schema=False, guards=[admin_only])
async def admin_home(request: Request[Any, Any, Any], db: DbSession, settings: AppSettings) -> Template:
    return await _dashboard(request, db, settings)


@get("/finance", include_in_schema=False, guards=[requires_role("finance")])
async def finance_home(request: Request[Any, Any, Any], db: DbSession, settings: AppSettings) -> Template:
    return await _dashboard(request, db, settings)


def routes(settings: Settings) -> list[Any]:
    """The shell's pages (the composition root mounts them)."""
    return [
        healthz,
        home,
        login_page,
        login_submit,
        logout_submit,
        workspace,
        admin_home,
        finance_home,
    ]
