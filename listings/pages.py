"""HTML pages of the listings package: the public catalog and provider directory, registration,
the registrant's profile and qualifications, and the operator's review queue and catalog editor.

Forms post back to the same address and work without JavaScript; a form with errors is shown
again with them (``FormInvalid`` rolls the request back), a successful one redirects (303) to a
page that says what happened.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select

from listings import catalog, commitment, directory, organizations, qualifications, storage
from listings.models import ItemStatus
from listings.ratings import has_ratings
from listings.services import get_catalog_item
from market import clock
from market.errors import DomainError, InvalidInput, PermissionDenied
from market.i18n import gettext as _
from market.identity import services as identity
from market.identity.api import session_cookie
from market.identity.guards import admin_only, principal_of, signed_in
from market.identity.models import OWNER_TYPES, OrgKind, User
from market.settings import Settings, get_settings
from market.terms import N_, choices
from market.web.deps import AppSettings, CurrentActor, DbSession, client_ip
from market.web.forms import refused

# (role, url, msgid): links on the dashboards (gathered by the composition root)
WORKSPACE_TILES: list[tuple[str, str, str]] = [
    ("provider", "/workspace/profile", N_("Organisation profile")),
    ("provider", "/workspace/qualifications", N_("Qualifications and practitioners")),
    ("owner", "/workspace/profile", N_("Organisation profile")),
    ("admin", "/admin/reviews", N_("Review queue")),
    ("admin", "/admin/organizations", N_("Organisations")),
    ("admin", "/admin/catalog", N_("Catalog editor")),
]

# what a redirect after a successful form says (?notice=key); never free text from the URL
NOTICES = {
    "registered": N_("Registered. Your organisation waits for the operator's review; you will see the decision here."),
    "profile_saved": N_("The profile is saved."),
    "resubmitted": N_("Resubmitted. The operator will review your registration again."),
    "qualification_added": N_("The qualification is added and waits for review."),
    "qualification_saved": N_("The qualification is changed and waits for review again."),
    "qualification_withdrawn": N_("The qualification is withdrawn."),
    "practitioner_added": N_("The practitioner is added."),
    "practitioner_removed": N_("The practitioner is removed."),
    "approved": N_("Approved."),
    "rejected": N_("Rejected; the organisation sees the reason."),
    "suspended": N_("Suspended."),
    "blacklisted": N_("Blacklisted."),
    "reinstated": N_("Reinstated."),
    "qualification_approved": N_("The qualification is approved."),
    "qualification_rejected": N_("The qualification is rejected; the provider sees the reason."),
    "item_created": N_("The catalog item is added."),
    "item_saved": N_("The catalog item is saved as a new version."),
    "item_unchanged": N_("Nothing was changed."),
}

PAGE_SIZE = 30


def flash(request: Request) -> str | None:
    key = request.query_params.get("notice")
    return _(NOTICES[key]) if key in NOTICES else None


def page(template: str, request: Request, **context: Any) -> Template:
    return Template(f"listings/{template}", context={"flash": flash(request), **context})


def done(url: str, notice: str) -> Redirect:
    sep = "&" if "?" in url else "?"
    return Redirect(path=f"{url}{sep}notice={notice}", status_code=303)


def text(form: FormMultiDict, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def form_values(form: FormMultiDict) -> dict[str, Any]:
    return {k: v for k, v in form.items() if isinstance(v, str) and k not in ("password", "password2", "csrf_token")}


def parse_date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput.field(field, _("A date written YYYY-MM-DD.")) from None


def int_param(value: str | None, default: int = 1) -> int:
    try:
        return max(1, int(value or default))
    except ValueError:
        return default


def provider_only(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    """A signed-in provider, in any status (its own profile and qualifications stay open to it)."""
    if principal_of(connection).role != "provider":
        raise PermissionDenied(_("Only intermediary firms keep qualifications."))


def registrant(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    if principal_of(connection).role not in ("provider", "owner"):
        raise PermissionDenied(_("Only registered firms and owners have this profile."))


# --- public: catalog ---------------------------------------------------------------------------


class CatalogPages(Controller):
    include_in_schema = False

    @get("/catalog")
    async def catalog_list(self, request: Request, db: DbSession) -> Template:
        params = request.query_params
        query = catalog.CatalogQuery(
            q=(params.get("q") or "").strip()[:100] or None,
            category=params.get("category") or None,
            fee_type=params.get("fee_type") or None,
            status=params.get("status") or None,
            in_services_catalog=True if params.get("services") == "1" else None,
        )
        number = int_param(params.get("page"))
        items, total = await catalog.list_items(db, query, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
        return page(
            "catalog_list.html",
            request,
            items=items,
            total=total,
            query=query,
            page_number=number,
            pages=max(1, -(-total // PAGE_SIZE)),
            categories=await catalog.categories(db),
            fee_types=choices("fee_type"),
            statuses=choices("item_status"),
            qualified=await directory.providers_per_item(db, clock.today_local()),
        )

    @get("/catalog/{code:str}")
    async def catalog_detail(self, request: Request, code: FromPath[str], db: DbSession) -> Template:
        item = await get_catalog_item(db, code)
        history = await catalog.versions(db, item)
        shown: dict[str, Any] | None = None
        shown_version = None
        wanted = request.query_params.get("version")
        if wanted and wanted.isdigit() and int(wanted) != item.version:
            shown_version, data = await catalog.version_of(db, item, int(wanted))
            shown = catalog.typed_snapshot(data)
        counts = await directory.providers_per_item(db, clock.today_local())
        return page(
            "catalog_detail.html",
            request,
            item=item,
            history=history,
            old=shown,
            old_version=shown_version,
            qualified=counts.get(item.code, 0),
            labels=catalog.field_labels(),
        )


# --- public: provider directory ----------------------------------------------------------------


class DirectoryPages(Controller):
    include_in_schema = False

    @get("/providers")
    async def providers_list(self, request: Request, db: DbSession) -> Template:
        params = request.query_params
        q = (params.get("q") or "").strip()[:100] or None
        code = params.get("catalog_code") or None
        number = int_param(params.get("page"))
        cards, total = await directory.list_providers(
            db,
            on_date=clock.today_local(),
            q=q,
            catalog_code=code,
            limit=PAGE_SIZE,
            offset=(number - 1) * PAGE_SIZE,
        )
        items = await catalog.all_items(db, catalog.CatalogQuery(status=ItemStatus.retained.value))
        return page(
            "providers_list.html",
            request,
            cards=cards,
            total=total,
            q=q or "",
            catalog_code=code or "",
            items=items,
            page_number=number,
            pages=max(1, -(-total // PAGE_SIZE)),
            ratings_enabled=has_ratings(),
        )

    @get("/providers/{provider_id:uuid}")
    async def provider_detail(self, request: Request, provider_id: FromPath[uuid.UUID], db: DbSession) -> Template:
        card = await directory.provider_card(db, provider_id, clock.today_local())
        return page(
            "provider_detail.html",
            request,
            card=card,
            practitioners=await directory.public_practitioners(db, provider_id),
            ratings_enabled=has_ratings(),
        )


# --- public: registration ----------------------------------------------------------------------


def _registration_context(kind: str, form: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": kind,
        "form": form,
        "letter": commitment.letter(kind),
        "letter_version": commitment.VERSION,
        "owner_types": [(t, label) for t, label in choices("owner_type") if t in OWNER_TYPES],
    }


class RegistrationPages(Controller):
    include_in_schema = False

    @get("/register/provider")
    async def provider_form(self, request: Request) -> Template:
        return page("register.html", request, **_registration_context("provider", {}))

    @get("/register/owner")
    async def owner_form(self, request: Request) -> Template:
        return page("register.html", request, **_registration_context("owner", {}))

    @post("/register/provider", status_code=303)
    async def provider_submit(
        self, request: Request, db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> Response[Any]:
        return await _register(request, db, actor, settings, OrgKind.provider)

    @post("/register/owner", status_code=303)
    async def owner_submit(
        self, request: Request, db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> Response[Any]:
        return await _register(request, db, actor, settings, OrgKind.owner)


async def _register(request: Request, db: Any, actor: Any, settings: Any, kind: OrgKind) -> Response[Any]:
    form = await request.form()
    values = form_values(form)
    context = _registration_context(kind.value, values)
    try:
        if text(form, "password") != text(form, "password2"):
            raise InvalidInput.field("password2", _("The two passwords differ."))
        email = text(form, "email")
        if "@" not in email or "." not in email.rsplit("@", 1)[-1]:
            raise InvalidInput.field("email", _("An e-mail address such as name@example.com."))
        for name in ("name", "legal_rep", "address", "phone"):
            if not text(form, name):
                raise InvalidInput.field(name, _("Required."))
        _org, user = await organizations.register(
            db,
            actor,
            organizations.Registration(
                kind=kind,
                name=text(form, "name"),
                uscc=text(form, "uscc"),
                legal_rep=text(form, "legal_rep"),
                address=text(form, "address"),
                phone=text(form, "phone"),
                email=email,
                username=text(form, "username"),
                password=form.get("password") if isinstance(form.get("password"), str) else "",
                commitment_accepted=text(form, "commitment_accepted") == "1",
                org_type=text(form, "org_type") or None,
                display_name=text(form, "display_name") or None,
            ),
        )
    except DomainError as error:

        async def again() -> dict[str, Any]:
            return context

        raise await refused(db, "listings/register.html", error, again) from None
    outcome = await identity.login(
        db,
        settings,
        user.username,
        str(form.get("password")),
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    response: Response[Any] = done("/workspace/profile", "registered")
    if outcome.ok and outcome.token:
        response.set_cookie(session_cookie(outcome.token, settings, outcome.expires_in))
    return response


# --- workspace: my organisation ----------------------------------------------------------------


class ProfilePages(Controller):
    include_in_schema = False
    guards = [signed_in, registrant]

    async def _context(self, request: Request, db: Any, form: dict[str, Any] | None = None) -> dict[str, Any]:
        me = principal_of(request)
        org = await identity.get_organization(db, me.org_id)
        values = form or {f: getattr(org, f) or "" for f in organizations.PROFILE_FIELDS}
        return {
            "org": org,
            "form": values,
            "history": await organizations.decisions(db, org.id),
            "locked": org.status not in ("pending", "rejected"),
            "owner_types": [(t, label) for t, label in choices("owner_type") if t in OWNER_TYPES],
            "letter": commitment.letter(org.kind),
        }

    @get("/workspace/profile")
    async def profile(self, request: Request, db: DbSession) -> Template:
        return page("profile.html", request, **await self._context(request, db))

    @post("/workspace/profile", status_code=303)
    async def save(self, request: Request, db: DbSession, actor: CurrentActor) -> Response[Any]:
        form = await request.form()
        values = form_values(form)
        org = await identity.get_organization(db, principal_of(request).org_id)
        changes = {f: text(form, f) for f in organizations.PROFILE_FIELDS if f in form}
        if org.status not in ("pending", "rejected"):
            changes = {k: v for k, v in changes.items() if k not in organizations.LOCKED_WHEN_APPROVED}
        try:
            assert actor.org_id is not None
            await organizations.update_profile(db, actor, actor.org_id, changes)
        except DomainError as error:
            raise await refused(
                db, "listings/profile.html", error, lambda: self._context(request, db, values)
            ) from None
        return done("/workspace/profile", "profile_saved")

    @post("/workspace/profile/resubmit", status_code=303)
    async def resubmit(self, db: DbSession, actor: CurrentActor) -> Response[Any]:
        assert actor.org_id is not None
        await organizations.resubmit(db, actor, actor.org_id)
        return done("/workspace/profile", "resubmitted")


# --- workspace: qualifications and practitioners -----------------------------------------------


async def _upload_from(form: FormMultiDict, db: Any, actor: Any, field: str = "document") -> str | None:
    upload = form.get(field)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    content = await upload.read()
    if not content:
        return None
    settings = get_settings()
    stored = await storage.store_upload(
        db,
        actor,
        storage.storage_for(settings),
        content,
        upload.filename,
        max_bytes=settings.max_upload_bytes,
        field=field,
    )
    return stored.sha256


def _qualification_input(form: FormMultiDict, document: str | None) -> qualifications.QualificationInput:
    return qualifications.QualificationInput(
        name=text(form, "name"),
        grade=text(form, "grade"),
        certificate_no=text(form, "certificate_no"),
        issuer=text(form, "issuer"),
        valid_until=parse_date(text(form, "valid_until"), "valid_until"),
        catalog_codes=[c for c in form.getall("catalog_codes", []) if isinstance(c, str)],
        document_sha256=document,
    )


async def _qualifications_context(request: Request, db: Any, form: dict[str, Any] | None = None) -> dict[str, Any]:
    me = principal_of(request)
    org = await identity.get_organization(db, me.org_id)
    return {
        "org": org,
        "rows": await qualifications.provider_qualifications(db, me.org_id),
        "practitioners": await qualifications.provider_practitioners(db, me.org_id),
        "items": await catalog.all_items(db, catalog.CatalogQuery()),
        "form": form or {},
        "chosen": set(form.get("catalog_codes", [])) if form else set(),
        "pform": {},
        "max_mb": f"{get_settings().max_upload_bytes / 1024 / 1024:g}",
        "today": clock.today_local(),
    }


class QualificationPagesBase(Controller):
    """Pages whose forms carry a scanned document (the body limit is the upload limit)."""

    include_in_schema = False
    guards = [signed_in, provider_only]

    @get("/workspace/qualifications")
    async def overview(self, request: Request, db: DbSession) -> Template:
        return page("qualifications.html", request, **await _qualifications_context(request, db))

    @post("/workspace/qualifications", status_code=303)
    async def add(self, request: Request, db: DbSession, actor: CurrentActor) -> Response[Any]:
        form = await request.form()
        values = form_values(form) | {"catalog_codes": form.getall("catalog_codes", [])}
        try:
            assert actor.org_id is not None
            document = await _upload_from(form, db, actor)
            await qualifications.add_qualification(db, actor, actor.org_id, _qualification_input(form, document))
        except DomainError as error:
            raise await refused(
                db, "listings/qualifications.html", error, lambda: _qualifications_context(request, db, values)
            ) from None
        return done("/workspace/qualifications", "qualification_added")

    @get("/workspace/qualifications/{qualification_id:uuid}")
    async def edit_form(
        self, request: Request, qualification_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
    ) -> Template:
        q = await qualifications.get_qualification(db, actor, qualification_id)
        covered = (await qualifications.covered_codes(db, [q.id])).get(q.id, [])
        form = {
            "name": q.name,
            "grade": q.grade,
            "certificate_no": q.certificate_no,
            "issuer": q.issuer,
            "valid_until": q.valid_until.isoformat(),
        }
        return page(
            "qualification_edit.html",
            request,
            q=q,
            form=form,
            chosen={i.code for i in covered},
            items=await catalog.all_items(db, catalog.CatalogQuery()),
            max_mb=f"{get_settings().max_upload_bytes / 1024 / 1024:g}",
        )

    @post("/workspace/qualifications/{qualification_id:uuid}", status_code=303)
    async def edit(
        self, request: Request, qualification_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
    ) -> Response[Any]:
        form = await request.form()
        await qualifications.get_qualification(db, actor, qualification_id)
        try:
            document = await _upload_from(form, db, actor)
            await qualifications.update_qualification(db, actor, qualification_id, _qualification_input(form, document))
        except DomainError as error:

            async def again() -> dict[str, Any]:
                return {
                    "q": await qualifications.get_qualification(db, actor, qualification_id),
                    "form": form_values(form),
                    "chosen": set(form.getall("catalog_codes", [])),
                    "items": await catalog.all_items(db, catalog.CatalogQuery()),
                    "max_mb": f"{get_settings().max_upload_bytes / 1024 / 1024:g}",
                }

            raise await refused(db, "listings/qualification_edit.html", error, again) from None
        return done("/workspace/qualifications", "qualification_saved")

    @post("/workspace/qualifications/{qualification_id:uuid}/withdraw", status_code=303)
    async def withdraw(
        self, qualification_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
    ) -> Response[Any]:
        await qualifications.withdraw_qualification(db, actor, qualification_id)
        return done("/workspace/qualifications", "qualification_withdrawn")

    @post("/workspace/practitioners", status_code=303)
    async def add_practitioner(
        self, request: Request, db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> Response[Any]:
        form = await request.form()
        try:
            assert actor.org_id is not None
            await qualifications.add_practitioner(
                db,
                actor,
                settings.secret_key,
                actor.org_id,
                name=text(form, "name"),
                certificate=text(form, "certificate"),
                id_number=text(form, "id_number"),
            )
        except DomainError as error:

            async def again() -> dict[str, Any]:
                context = await _qualifications_context(request, db)
                context["pform"] = {"name": text(form, "name"), "certificate": text(form, "certificate")}
                context["perror"] = True
                return context

            raise await refused(db, "listings/qualifications.html", error, again) from None
        return done("/workspace/qualifications#practitioners", "practitioner_added")

    @post("/workspace/practitioners/{practitioner_id:uuid}/remove", status_code=303)
    async def remove_practitioner(
        self, practitioner_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
    ) -> Response[Any]:
        await qualifications.remove_practitioner(db, actor, practitioner_id)
        return done("/workspace/qualifications#practitioners", "practitioner_removed")


# --- admin: review queue -----------------------------------------------------------------------


class ReviewPages(Controller):
    include_in_schema = False
    guards = [admin_only]

    @get("/admin/reviews")
    async def queue(self, request: Request, db: DbSession) -> Template:
        pending = await organizations.pending_organizations(db)
        now = clock.now()
        return page(
            "admin_reviews.html",
            request,
            pending=[(o, organizations.review_due(o)) for o in pending],
            now=now,
            pending_qualifications=await qualifications.pending_qualifications(db),
            sanctioned=await organizations.organizations_by_status(db, ("suspended", "blacklisted")),
            rejected=await organizations.organizations_by_status(db, ("rejected",)),
        )

    @get("/admin/organizations")
    async def organizations_list(self, request: Request, db: DbSession) -> Template:
        params = request.query_params
        q = (params.get("q") or "").strip()[:100]
        status = params.get("status") or ""
        kind = params.get("kind") or ""
        number = int_param(params.get("page"))
        rows, total = await organizations.search(
            db, q=q or None, status=status or None, kind=kind or None, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
        )
        return page(
            "admin_orgs.html",
            request,
            rows=rows,
            total=total,
            q=q,
            status=status,
            kind=kind,
            statuses=choices("org_status"),
            kinds=[(k, v) for k, v in choices("org_kind") if k in ("provider", "owner")],
            page_number=number,
            pages=max(1, -(-total // PAGE_SIZE)),
        )

    async def _org_context(self, db: Any, org_id: uuid.UUID) -> dict[str, Any]:
        org = await identity.get_organization(db, org_id)
        users = list(await db.scalars(select(User).where(User.org_id == org.id).order_by(User.created_at)))
        context: dict[str, Any] = {
            "org": org,
            "users": users,
            "history": await organizations.decisions(db, org.id),
            "rows": [],
            "practitioners": [],
            "conflicts": {},
            "today": clock.today_local(),
            "due": organizations.review_due(org) if org.status == "pending" else None,
        }
        if org.kind == OrgKind.provider.value:
            context["rows"] = await qualifications.provider_qualifications(db, org.id)
            context["practitioners"] = await qualifications.provider_practitioners(db, org.id)
            context["conflicts"] = await qualifications.practitioner_conflicts(db, org.id)
        return context

    @get("/admin/organizations/{org_id:uuid}")
    async def organization(self, request: Request, org_id: FromPath[uuid.UUID], db: DbSession) -> Template:
        return page("admin_org.html", request, **await self._org_context(db, org_id))

    @post("/admin/organizations/{org_id:uuid}/{action:str}", status_code=303)
    async def decide(
        self, request: Request, org_id: FromPath[uuid.UUID], action: FromPath[str], db: DbSession, actor: CurrentActor
    ) -> Response[Any]:
        form = await request.form()
        reason = text(form, "reason")
        try:
            if action == "approve":
                await organizations.approve(db, actor, org_id)
            elif action == "reject":
                await organizations.reject(db, actor, org_id, reason)
            elif action == "suspend":
                await organizations.suspend(db, actor, org_id, reason, parse_date(text(form, "until"), "until"))
            elif action == "blacklist":
                await organizations.blacklist(db, actor, org_id, reason)
            elif action == "reinstate":
                await organizations.reinstate(db, actor, org_id, reason)
            else:
                raise InvalidInput.field("action", _("Unknown decision."))
        except DomainError as error:

            async def again() -> dict[str, Any]:
                return await self._org_context(db, org_id) | {"form": {"action": action, **form_values(form)}}

            raise await refused(db, "listings/admin_org.html", error, again) from None
        notices = {"approve": "approved", "reject": "rejected", "suspend": "suspended"}
        return done(f"/admin/organizations/{org_id}", notices.get(action, f"{action}ed"))

    @post("/admin/qualifications/{qualification_id:uuid}/{action:str}", status_code=303)
    async def decide_qualification(
        self,
        request: Request,
        qualification_id: FromPath[uuid.UUID],
        action: FromPath[str],
        db: DbSession,
        actor: CurrentActor,
    ) -> Response[Any]:
        form = await request.form()
        if action not in ("approve", "reject"):
            raise InvalidInput.field("action", _("Unknown decision."))
        q = await qualifications.get_qualification(db, actor, qualification_id)
        back = text(form, "back")
        target = back if back in ("/admin/reviews",) else f"/admin/organizations/{q.provider_id}"
        try:
            await qualifications.review_qualification(
                db, actor, qualification_id, approve=action == "approve", reason=text(form, "reason")
            )
        except DomainError as error:
            provider_id = q.provider_id

            async def again() -> dict[str, Any]:
                return await self._org_context(db, provider_id)

            raise await refused(db, "listings/admin_org.html", error, again) from None
        return done(target, "qualification_approved" if action == "approve" else "qualification_rejected")


# --- admin: catalog editor ---------------------------------------------------------------------


def _item_form(item: Any | None) -> dict[str, Any]:
    if item is None:
        return {"status": "retained", "fee_type": "market_regulated", "effective_date": clock.today_local().isoformat()}
    values = catalog.item_values(item)
    values["fee_cap"] = "" if item.fee_cap is None else f"{item.fee_cap:.2f}"
    values["effective_date"] = item.effective_date.isoformat()
    values["in_services_catalog"] = "1" if item.in_services_catalog else ""
    values["version"] = item.version
    return values


def _parsed_item(form: FormMultiDict, code: str) -> catalog.CatalogInput:
    raw = {f: text(form, f) for f in catalog.FIELDS}
    raw["code"] = code
    raw["in_services_catalog"] = "1" if text(form, "in_services_catalog") == "1" else "0"
    item, errors = catalog.parse_row(raw)
    if item is None:
        raise InvalidInput(_("The catalog item is not valid."), _("Correct the fields named below."), errors=errors)
    return item


def _editor_context(item: Any | None, form: dict[str, Any]) -> dict[str, Any]:
    return {
        "item": item,
        "form": form,
        "labels": catalog.field_labels(),
        "fee_types": choices("fee_type"),
        "statuses": choices("item_status"),
    }


class CatalogEditorBase(Controller):
    include_in_schema = False
    guards = [admin_only]

    @get("/admin/catalog")
    async def editor(self, request: Request, db: DbSession) -> Template:
        return page("admin_catalog.html", request, items=await catalog.all_items(db), result=None, import_errors=[])

    @post("/admin/catalog/import", status_code=200)
    async def import_csv(self, request: Request, db: DbSession, actor: CurrentActor) -> Template:
        form = await request.form()
        upload = form.get("file")
        try:
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise InvalidInput.field("file", _("Choose the CSV file to import."))
            result = await catalog.import_csv(db, actor, await upload.read())
        except InvalidInput as error:
            rows = error.extra.get("rows") or []

            async def again() -> dict[str, Any]:
                return {"items": await catalog.all_items(db), "result": None, "import_errors": rows}

            raise await refused(db, "listings/admin_catalog.html", error, again) from None
        return page("admin_catalog.html", request, items=await catalog.all_items(db), result=result, import_errors=[])

    @get("/admin/catalog/new")
    async def new_form(self, request: Request) -> Template:
        return page("admin_item.html", request, **_editor_context(None, _item_form(None)))

    @post("/admin/catalog/new", status_code=303)
    async def create(self, request: Request, db: DbSession, actor: CurrentActor) -> Response[Any]:
        form = await request.form()
        try:
            item = await catalog.create_item(db, actor, _parsed_item(form, text(form, "code")), note=text(form, "note"))
        except DomainError as error:

            async def again() -> dict[str, Any]:
                return _editor_context(None, form_values(form))

            raise await refused(db, "listings/admin_item.html", error, again) from None
        return done(f"/catalog/{item.code}", "item_created")

    @get("/admin/catalog/{code:str}/edit")
    async def edit_form(self, request: Request, code: FromPath[str], db: DbSession) -> Template:
        item = await get_catalog_item(db, code)
        return page("admin_item.html", request, **_editor_context(item, _item_form(item)))

    @post("/admin/catalog/{code:str}/edit", status_code=303)
    async def edit(self, request: Request, code: FromPath[str], db: DbSession, actor: CurrentActor) -> Response[Any]:
        form = await request.form()
        item = await get_catalog_item(db, code)
        try:
            parsed = _parsed_item(form, item.code)
            version = text(form, "version")
            changes = {f: getattr(parsed, f) for f in catalog.EDITABLE}
            _item, changed = await catalog.update_item(
                db,
                actor,
                item.code,
                changes,
                expected_version=int(version) if version.isdigit() else None,
                note=text(form, "note"),
            )
        except DomainError as error:

            async def again() -> dict[str, Any]:
                return _editor_context(await get_catalog_item(db, code), form_values(form))

            raise await refused(db, "listings/admin_item.html", error, again) from None
        return done(f"/catalog/{item.code}", "item_saved" if changed else "item_unchanged")


def _with_upload_limit(base: type[Controller], settings: Settings) -> type[Controller]:
    limit = storage.upload_body_limit(settings)
    return type(base.__name__.removesuffix("Base"), (base,), {"request_max_body_size": limit})


def routes(settings: Settings) -> list[Any]:
    """The package's pages (the composition root mounts them)."""
    return [
        CatalogPages,
        DirectoryPages,
        RegistrationPages,
        ProfilePages,
        _with_upload_limit(QualificationPagesBase, settings),
        ReviewPages,
        _with_upload_limit(CatalogEditorBase, settings),
    ]
