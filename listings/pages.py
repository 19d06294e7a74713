"""HTML pages of the listings package: the public catalog and provider directory, registration,
the registrant's profile and qualifications, and the operator's review queue and catalog editor.

Every form is parsed into the request schema of its API twin (``market.web.forms.parse``), so a
page refuses exactly what the API refuses, naming the same fields; a refused form is shown again
with the errors next to their fields (``refusal``), a successful one redirects with ``?done=``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from listings import (
    catalog,
    commitment,
    credit,
    directory,
    organizations,
    qualifications,
    sanctions,
    storage,
    violation_rules,
)
from listings.api import credit_lists_out, formula_out, provider_credit_out, registration_of_form
from listings.models import CatalogItem, ItemStatus
from listings.ratings import has_ratings
from listings.schemas import (
    AppealDecisionIn,
    AppealIn,
    CatalogItemIn,
    CatalogItemPatch,
    PractitionerIn,
    ProfilePatch,
    QualificationIn,
    QualificationRejectIn,
    ReasonIn,
    SuspendIn,
    ViolationIn,
)
from listings.services import get_catalog_item
from market import clock
from market.actor import PUBLIC, Actor
from market.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from market.i18n import gettext as _
from market.identity import accounts
from market.identity import services as identity
from market.identity.api import session_cookie
from market.identity.guards import admin_only, principal_of, signed_in
from market.identity.models import OWNER_TYPES, OrgKind, OrgStatus, User
from market.settings import Settings
from market.terms import N_, choices
from market.web.deps import AppSettings, CurrentActor, DbSession, client_ip
from market.web.forms import FormData, parse, read_form, refusal
from market.web.pages import Pager, Tile, redirect

AnyRequest = Request[Any, Any, Any]

WORKSPACE_TILES: list[Tile] = [
    ("provider", "/workspace/profile", N_("Organisation profile")),
    ("provider", "/workspace/qualifications", N_("Qualifications and practitioners")),
    ("owner", "/workspace/profile", N_("Organisation profile")),
    ("admin", "/admin/reviews", N_("Review queue")),
    ("admin", "/admin/organizations", N_("Organisations")),
    ("admin", "/admin/catalog", N_("Catalog editor")),
    ("provider", "/workspace/violations", N_("Violation points and appeals")),
    ("admin", "/admin/violations", N_("Violation points and appeals")),
]

NOTICES = {
    "registered": N_("Registered. Your organisation waits for the operator's review; you will see the decision here."),
    "profile_saved": N_("The profile is saved."),
    "resubmitted": N_("Resubmitted. The operator will review your registration again."),
    "qualification_added": N_("The qualification is added and waits for review."),
    "qualification_saved": N_("The qualification is changed and waits for review again."),
    "qualification_withdrawn": N_("The qualification is withdrawn."),
    "practitioner_added": N_("The practitioner is added."),
    "practitioner_removed": N_("The practitioner is removed."),
    "org_approved": N_("Approved."),
    "org_rejected": N_("Rejected; the organisation sees the reason."),
    "org_suspended": N_("Suspended."),
    "org_blacklisted": N_("Blacklisted."),
    "org_reinstated": N_("Reinstated."),
    "qualification_approved": N_("The qualification is approved."),
    "qualification_rejected": N_("The qualification is rejected; the provider sees the reason."),
    "item_created": N_("The catalog item is added."),
    "item_saved": N_("The catalog item is saved as a new version."),
    "item_unchanged": N_("Nothing was changed."),
    "catalog_imported": N_("The file is imported."),
    "violation_recorded": N_("The violation is recorded; the firm sees it and may appeal."),
    "appeal_filed": N_("Your appeal is filed; the operator will decide it in writing."),
    "appeal_decided": N_("The appeal is decided; the firm sees the decision."),
}

PAGE_SIZE = 30
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def page(template: str, **context: Any) -> Template:
    return Template(f"listings/{template}", context=context)


def search_text(request: AnyRequest) -> str | None:
    return (request.query_params.get("q") or "").strip()[:100] or None


def provider_only(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    """A signed-in provider, in any status (its own profile and qualifications stay open to it)."""
    if principal_of(connection).role != "provider":
        raise PermissionDenied(_("Only intermediary firms keep qualifications."))


def registrant(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    if principal_of(connection).role not in ("provider", "owner"):
        raise PermissionDenied(_("Only registered firms and owners have this profile."))


def owner_types() -> list[tuple[str, str]]:
    return [(t, label) for t, label in choices("owner_type") if t in OWNER_TYPES]


def emptied(form: FormData, names: Iterable[str]) -> dict[str, str]:
    """The fields among ``names`` that a form editing every field sent empty. Such a form changes
    each field it shows, so an emptied one is the API's ``""`` (``parse`` alone would take an empty
    optional field as not sent)."""
    return {name: "" for name in names if form.values.get(name) == ""}


# --- public: catalog and provider directory ----------------------------------------------------


class CatalogPages(Controller):
    include_in_schema = False

    @get("/catalog")
    async def catalog_list(self, request: AnyRequest, db: DbSession) -> Template:
        params = request.query_params
        query = catalog.CatalogQuery(
            q=search_text(request),
            category=params.get("category") or None,
            fee_type=params.get("fee_type") or None,
            status=params.get("status") or None,
            in_services_catalog=True if params.get("services") == "1" else None,
        )
        pager = Pager.of(params.get("page"), PAGE_SIZE)
        items, total = await catalog.list_items(db, query, limit=pager.limit, offset=pager.offset)
        return page(
            "catalog_list.html",
            items=items,
            query=query,
            categories=await catalog.categories(db),
            fee_types=choices("fee_type"),
            statuses=choices("item_status"),
            qualified=await directory.providers_per_item(db, clock.today_local()),
            **pager.context(total),
        )

    @get("/catalog/{code:str}")
    async def catalog_detail(self, request: AnyRequest, code: FromPath[str], db: DbSession) -> Template:
        item = await get_catalog_item(db, code)
        shown: dict[str, Any] | None = None
        shown_version = None
        wanted = request.query_params.get("version")
        if wanted and wanted.isdigit() and int(wanted) != item.version:
            shown_version, data = await catalog.version_of(db, item, int(wanted))
            shown = catalog.typed_snapshot(data)
        counts = await directory.providers_per_item(db, clock.today_local())
        return page(
            "catalog_detail.html",
            item=item,
            history=await catalog.versions(db, item),
            old=shown,
            old_version=shown_version,
            qualified=counts.get(item.code, 0),
            labels=catalog.field_labels(),
        )


class DirectoryPages(Controller):
    include_in_schema = False

    @get("/providers")
    async def providers_list(self, request: AnyRequest, db: DbSession) -> Template:
        q = search_text(request)
        code = request.query_params.get("catalog_code") or None
        pager = Pager.of(request.query_params.get("page"), PAGE_SIZE)
        cards, total = await directory.list_providers(
            db, on_date=clock.today_local(), q=q, catalog_code=code, limit=pager.limit, offset=pager.offset
        )
        return page(
            "providers_list.html",
            cards=cards,
            q=q or "",
            catalog_code=code or "",
            items=await catalog.all_items(db, catalog.CatalogQuery(status=ItemStatus.retained)),
            ratings_enabled=has_ratings(),
            **pager.context(total),
        )

    @get("/providers/{provider_id:uuid}")
    async def provider_detail(self, provider_id: FromPath[uuid.UUID], db: DbSession) -> Template:
        """The firm's public page; a suspended or blacklisted firm keeps it, with its sanction."""
        card = await directory.provider_card(db, provider_id, clock.today_local(), sanctioned=True)
        return page(
            "provider_detail.html",
            card=card,
            practitioners=await directory.public_practitioners(db, provider_id),
            ratings_enabled=has_ratings(),
            credit=provider_credit_out(card.org, await credit.standing(db, card.org.id, clock.now())),
            **await _sanctions_context(db, PUBLIC, provider_id),
        )

    @get("/credit/formula")
    async def credit_formula(self, db: DbSession) -> Template:
        """The published credit formula (API twin: ``GET /api/v1/credit/formula``)."""
        return page("credit_formula.html", formula=await formula_out(db))


# --- files sent with a form: kept across a refusal ---------------------------------------------


@dataclass
class FormFile:
    """The file a form's field ``name`` sends: newly chosen (``content``), or held from a refused
    submission before (its token in the hidden field ``<name>_held``, see ``_files.html``)."""

    name: str
    content: bytes | None = None
    filename: str | None = None
    held: storage.Held | None = None
    problem: DomainError | None = None

    async def keep(self, settings: Settings, client: str | None) -> storage.Held | None:
        """On a refusal: the file held, so that the form shown again keeps it (``None`` when it is
        none we accept: its own error says why)."""
        if self.content:
            try:
                self.held = await storage.hold(settings, client, self.content, self.filename, field=self.name)
            except DomainError:
                return None
        return self.held


async def form_file(form: FormData, name: str, settings: Settings) -> FormFile:
    upload = form.file(name)
    content = await upload.read() if upload is not None else b""
    if upload is not None and content:
        return FormFile(name, content, upload.filename)
    token = form.get(f"{name}_held")
    if not token:
        return FormFile(name)
    found = await storage.held(settings, token)
    if found is None:
        return FormFile(
            name, problem=InvalidInput.field(name, _("The file you chose before is no longer kept; choose it again."))
        )
    kept, data = found
    return FormFile(name, data, kept.filename, held=kept)


# --- public: registration ----------------------------------------------------------------------


def _registration_context(kind: OrgKind, settings: Settings) -> dict[str, Any]:
    return {
        "max_mb": _max_mb(settings),
        "kind": kind.value,
        "form": {},
        "letter": commitment.letter(kind.value),
        "letter_version": commitment.VERSION,
        "owner_types": owner_types(),
    }


class RegistrationPagesBase(Controller):
    """The registration forms (a provider's carries its business licence: the body limit is the
    upload limit)."""

    include_in_schema = False

    @get("/register/provider")
    async def provider_form(self, settings: AppSettings) -> Template:
        return page("register.html", **_registration_context(OrgKind.provider, settings))

    @get("/register/owner")
    async def owner_form(self, settings: AppSettings) -> Template:
        return page("register.html", **_registration_context(OrgKind.owner, settings))

    @post("/register/provider", status_code=303)
    async def provider_submit(
        self, request: AnyRequest, db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> Response[Any]:
        return await _register(request, db, actor, settings, OrgKind.provider)

    @post("/register/owner", status_code=303)
    async def owner_submit(
        self, request: AnyRequest, db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> Response[Any]:
        return await _register(request, db, actor, settings, OrgKind.owner)


async def _register(
    request: AnyRequest, db: AsyncSession, actor: Actor, settings: Settings, kind: OrgKind
) -> Response[Any]:
    """Register (as ``POST /api/v1/providers`` or ``/owners`` does), then sign the new user in. A
    refused form names every problem at once and keeps what was typed (passwords excepted) and
    the licence chosen (held, so that it need not be chosen again)."""
    form = await read_form(request)
    client = client_ip(request)
    licence_file = await form_file(form, "business_licence", settings) if kind is OrgKind.provider else None

    async def again() -> dict[str, Any]:
        context = _registration_context(kind, settings)
        if licence_file is not None:
            context["held"] = {"business_licence": await licence_file.keep(settings, client)}
        return context

    async with refusal(db, "listings/register.html", again, form=form):
        licence = None
        if licence_file is not None and licence_file.content:
            licence = organizations.Licence(licence_file.content, licence_file.filename or "")
        # the checkbox sends "1" when ticked and nothing otherwise
        data, refused = registration_of_form(
            form, kind, licence, commitment_accepted=form.get("commitment_accepted") == "1"
        )
        if form.get("password") != form.get("password2"):
            refused.append(InvalidInput.field("password2", _("The two passwords differ.")))
        if licence_file is not None and licence_file.problem is not None:
            refused.append(licence_file.problem)
        _org, user = await organizations.register(db, actor, settings, data, client=client, refused=refused)
    # the registration is kept before signing in: sign-in lets go of a transaction it sees only reading
    await db.commit()
    outcome = await identity.login(
        db,
        settings,
        user.username,
        data.password,
        ip=client,
        user_agent=request.headers.get("user-agent"),
    )
    response: Response[Any] = redirect("/workspace/profile", done="registered")
    if outcome.ok and outcome.token:
        response.set_cookie(session_cookie(outcome.token, settings, outcome.expires_in))
    return response


# --- workspace: my organisation ----------------------------------------------------------------


class ProfilePagesBase(Controller):
    """The registrant's profile (a provider not approved yet may replace its business licence with
    the form: the body limit is the upload limit)."""

    include_in_schema = False
    guards = [signed_in, registrant]

    async def _context(self, db: AsyncSession, actor: Actor) -> dict[str, Any]:
        org = await identity.get_organization(db, organizations.own_org_id(actor))
        return {
            "org": org,
            "form": {name: getattr(org, name) or "" for name in organizations.PROFILE_FIELDS},
            "history": await organizations.decisions(db, org.id),
            "locked": org.status not in (OrgStatus.pending, OrgStatus.rejected),
            "owner_types": owner_types(),
            "letter": commitment.letter(org.kind),
            "licence": await organizations.current_licence(db, org.id),
        }

    @get("/workspace/profile")
    async def profile(self, db: DbSession, actor: CurrentActor, settings: AppSettings) -> Template:
        return page("profile.html", **await self._context(db, actor), max_mb=_max_mb(settings))

    @post("/workspace/profile", status_code=303)
    async def save(self, request: AnyRequest, db: DbSession, actor: CurrentActor, settings: AppSettings) -> Redirect:
        """As ``PATCH /api/v1/me/organization`` with every field the form shows (and a new business
        licence, uploaded with the form)."""
        form = await read_form(request)
        licence_file = await form_file(form, "business_licence", settings)

        async def again() -> dict[str, Any]:
            context = await self._context(db, actor)
            return context | {
                "max_mb": _max_mb(settings),
                "held": {"business_licence": await licence_file.keep(settings, client_ip(request))},
            }

        async with refusal(db, "listings/profile.html", again, form=form):
            if licence_file.problem is not None:
                raise licence_file.problem
            org_id = organizations.own_org_id(actor)
            data = parse(ProfilePatch, form, **emptied(form, organizations.PROFILE_FIELDS))
            await organizations.update_profile(db, actor, org_id, data.changes(set(form.values)))
            if licence_file.content:
                stored = await storage.store_upload(
                    db, actor, settings, licence_file.content, licence_file.filename, field="business_licence"
                )
                await organizations.replace_licence(db, actor, org_id, stored.sha256, field="business_licence")
        return redirect("/workspace/profile", done="profile_saved")

    @post("/workspace/profile/resubmit", status_code=303)
    async def resubmit(self, db: DbSession, actor: CurrentActor, settings: AppSettings) -> Redirect:
        async def again() -> dict[str, Any]:
            return await self._context(db, actor) | {"max_mb": _max_mb(settings)}

        async with refusal(db, "listings/profile.html", again):
            await organizations.resubmit(db, actor, organizations.own_org_id(actor))
        return redirect("/workspace/profile", done="resubmitted")


# --- workspace: qualifications and practitioners -----------------------------------------------


def _max_mb(settings: Settings) -> str:
    return f"{settings.max_upload_bytes / 1024 / 1024:g}"


async def _with_scan(
    data: QualificationIn, scan: FormFile, db: AsyncSession, actor: Actor, settings: Settings
) -> QualificationIn:
    """``data`` referring to the scanned certificate uploaded with the form (the API sends the
    SHA-256 of a file uploaded before); without a file, ``data`` as it is."""
    if scan.problem is not None:
        raise scan.problem
    if not scan.content:
        return data
    stored = await storage.store_upload(db, actor, settings, scan.content, scan.filename, field="document")
    return data.model_copy(update={"document_sha256": stored.sha256})


async def _qualifications_context(db: AsyncSession, actor: Actor, settings: Settings) -> dict[str, Any]:
    org_id = organizations.own_org_id(actor)
    return {
        "org": await identity.get_organization(db, org_id),
        "rows": await qualifications.provider_qualifications(db, org_id),
        "practitioners": await qualifications.provider_practitioners(db, org_id),
        "items": await catalog.all_items(db),
        "form": {},
        "max_mb": _max_mb(settings),
        "today": clock.today_local(),
    }


async def _qualification_edit_context(
    db: AsyncSession, actor: Actor, settings: Settings, qualification_id: uuid.UUID
) -> dict[str, Any]:
    q = await qualifications.get_qualification(db, actor, qualification_id)
    covered = (await qualifications.covered_codes(db, [q.id])).get(q.id, [])
    return {
        "q": q,
        "form": {
            "name": q.name,
            "grade": q.grade,
            "certificate_no": q.certificate_no,
            "issuer": q.issuer,
            "valid_until": q.valid_until.isoformat(),
            "catalog_codes": [i.code for i in covered],
        },
        "items": await catalog.all_items(db),
        "max_mb": _max_mb(settings),
    }


class QualificationPagesBase(Controller):
    """Pages whose forms carry a scanned document (the body limit is the upload limit)."""

    include_in_schema = False
    guards = [signed_in, provider_only]

    @get("/workspace/qualifications")
    async def overview(self, db: DbSession, actor: CurrentActor, settings: AppSettings) -> Template:
        return page("qualifications.html", **await _qualifications_context(db, actor, settings))

    @post("/workspace/qualifications", status_code=303)
    async def add(self, request: AnyRequest, db: DbSession, actor: CurrentActor, settings: AppSettings) -> Redirect:
        """As ``POST /api/v1/providers/{id}/qualifications``, with the scan uploaded in the same form."""
        form = await read_form(request)
        scan = await form_file(form, "document", settings)

        async def again() -> dict[str, Any]:
            context = await _qualifications_context(db, actor, settings)
            return context | {"held": {"document": await scan.keep(settings, client_ip(request))}}

        async with refusal(db, "listings/qualifications.html", again, form=form, name="qualification"):
            data = await _with_scan(parse(QualificationIn, form), scan, db, actor, settings)
            await qualifications.add_qualification(db, actor, organizations.own_org_id(actor), data.as_input())
        return redirect("/workspace/qualifications", done="qualification_added")

    @get("/workspace/qualifications/{qualification_id:uuid}")
    async def edit_form(
        self, qualification_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> Template:
        return page(
            "qualification_edit.html", **await _qualification_edit_context(db, actor, settings, qualification_id)
        )

    @post("/workspace/qualifications/{qualification_id:uuid}", status_code=303)
    async def edit(
        self,
        request: AnyRequest,
        qualification_id: FromPath[uuid.UUID],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> Redirect:
        """As ``PATCH /api/v1/qualifications/{id}``."""
        form = await read_form(request)
        await qualifications.get_qualification(db, actor, qualification_id)  # 404 before anything is stored
        scan = await form_file(form, "document", settings)

        async def again() -> dict[str, Any]:
            context = await _qualification_edit_context(db, actor, settings, qualification_id)
            return context | {"held": {"document": await scan.keep(settings, client_ip(request))}}

        async with refusal(db, "listings/qualification_edit.html", again, form=form):
            data = await _with_scan(parse(QualificationIn, form), scan, db, actor, settings)
            await qualifications.update_qualification(db, actor, qualification_id, data.as_input())
        return redirect("/workspace/qualifications", done="qualification_saved")

    @post("/workspace/qualifications/{qualification_id:uuid}/withdraw", status_code=303)
    async def withdraw(self, qualification_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> Redirect:
        await qualifications.withdraw_qualification(db, actor, qualification_id)
        return redirect("/workspace/qualifications", done="qualification_withdrawn")

    @post("/workspace/practitioners", status_code=303)
    async def add_practitioner(
        self, request: AnyRequest, db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> Redirect:
        """As ``POST /api/v1/providers/{id}/practitioners``."""
        form = await read_form(request)

        async def again() -> dict[str, Any]:
            return await _qualifications_context(db, actor, settings)

        async with refusal(db, "listings/qualifications.html", again, form=form, name="practitioner"):
            data = parse(PractitionerIn, form)
            await qualifications.add_practitioner(
                db,
                actor,
                settings.secret_key,
                organizations.own_org_id(actor),
                name=data.name,
                certificate=data.certificate,
                id_number=data.id_number,
            )
        return redirect("/workspace/qualifications#practitioners", done="practitioner_added")

    @post("/workspace/practitioners/{practitioner_id:uuid}/remove", status_code=303)
    async def remove_practitioner(
        self, practitioner_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
    ) -> Redirect:
        await qualifications.remove_practitioner(db, actor, practitioner_id)
        return redirect("/workspace/qualifications#practitioners", done="practitioner_removed")


# --- admin: review queue -----------------------------------------------------------------------

# the operator's decisions about an organisation, by the last segment of the form's address
ORG_DECISIONS = {
    "approve": "org_approved",
    "reject": "org_rejected",
    "suspend": "org_suspended",
    "blacklist": "org_blacklisted",
    "reinstate": "org_reinstated",
}
QUALIFICATION_DECISIONS = {"approve": "qualification_approved", "reject": "qualification_rejected"}


async def _decide(db: AsyncSession, actor: Actor, org_id: uuid.UUID, action: str, form: FormData) -> None:
    """The decision ``action`` as its API route (``POST /api/v1/admin/organizations/{id}/{action}``)
    takes it: approval without a body, suspension with a reason and an end date, the others with a
    reason."""
    if action == "approve":
        await organizations.approve(db, actor, org_id)
    elif action == "suspend":
        suspension = parse(SuspendIn, form)
        await organizations.suspend(db, actor, org_id, suspension.reason, suspension.until)
    else:
        decide = {
            "reject": organizations.reject,
            "blacklist": organizations.blacklist,
            "reinstate": organizations.reinstate,
        }
        await decide[action](db, actor, org_id, parse(ReasonIn, form).reason)


class ReviewPages(Controller):
    include_in_schema = False
    guards = [admin_only]

    @get("/admin/reviews")
    async def queue(self, db: DbSession, settings: AppSettings) -> Template:
        pending = await organizations.pending_organizations(db)
        return page(
            "admin_reviews.html",
            pending=[(o, organizations.review_due(o, settings)) for o in pending],
            now=clock.now(),
            pending_qualifications=await qualifications.pending_qualifications(db),
            sanctioned=await organizations.organizations_by_status(db, (OrgStatus.suspended, OrgStatus.blacklisted)),
            rejected=await organizations.organizations_by_status(db, (OrgStatus.rejected,)),
        )

    @get("/admin/organizations")
    async def organizations_list(self, request: AnyRequest, db: DbSession) -> Template:
        params = request.query_params
        q, status, kind = search_text(request), params.get("status") or "", params.get("kind") or ""
        pager = Pager.of(params.get("page"), PAGE_SIZE)
        rows, total = await organizations.search(
            db, q=q, status=status or None, kind=kind or None, limit=pager.limit, offset=pager.offset
        )
        return page(
            "admin_orgs.html",
            rows=rows,
            q=q or "",
            status=status,
            kind=kind,
            statuses=choices("org_status"),
            kinds=[(k, v) for k, v in choices("org_kind") if k in ("provider", "owner")],
            **pager.context(total),
        )

    @get("/admin/organizations/{org_id:uuid}")
    async def organization(self, org_id: FromPath[uuid.UUID], db: DbSession, settings: AppSettings) -> Template:
        return page("admin_org.html", **await _org_context(db, org_id, settings))

    @post("/admin/organizations/{org_id:uuid}/{action:str}", status_code=303)
    async def decide(
        self,
        request: AnyRequest,
        org_id: FromPath[uuid.UUID],
        action: FromPath[str],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> Redirect:
        if action not in ORG_DECISIONS:
            raise NotFound(_("No such decision."))
        form = await read_form(request)

        async def again() -> dict[str, Any]:
            return await _org_context(db, org_id, settings)

        async with refusal(db, "listings/admin_org.html", again, form=form, name=action):
            await _decide(db, actor, org_id, action, form)
        return redirect(f"/admin/organizations/{org_id}", done=ORG_DECISIONS[action])

    @post("/admin/qualifications/{qualification_id:uuid}/{action:str}", status_code=303)
    async def decide_qualification(
        self,
        request: AnyRequest,
        qualification_id: FromPath[uuid.UUID],
        action: FromPath[str],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> Redirect:
        """As ``POST /api/v1/admin/qualifications/{id}/approve`` or ``…/reject`` (with the reason);
        the review queue sends ``back`` to come back to it."""
        if action not in QUALIFICATION_DECISIONS:
            raise NotFound(_("No such decision."))
        form = await read_form(request)
        provider_id = (await qualifications.get_qualification(db, actor, qualification_id)).provider_id

        async def again() -> dict[str, Any]:
            return await _org_context(db, provider_id, settings)

        async with refusal(db, "listings/admin_org.html", again, form=form, name=f"q-{qualification_id}"):
            reason = parse(QualificationRejectIn, form).reason if action == "reject" else None
            await qualifications.review_qualification(
                db, actor, qualification_id, approve=action == "approve", reason=reason
            )
        target = "/admin/reviews" if form.get("back") == "/admin/reviews" else f"/admin/organizations/{provider_id}"
        return redirect(target, done=QUALIFICATION_DECISIONS[action])


async def _org_context(db: AsyncSession, org_id: uuid.UUID, settings: Settings) -> dict[str, Any]:
    org = await identity.get_organization(db, org_id)
    users = await db.scalars(select(User).where(col(User.org_id) == org.id).order_by(col(User.created_at)))
    context: dict[str, Any] = {
        "org": org,
        "users": list(users),
        "user_events": [(e, name, json.loads(e.data)) for e, name in await accounts.role_history(db, org.id)],
        "history": await organizations.decisions(db, org.id),
        "rows": [],
        "practitioners": [],
        "conflicts": {},
        "today": clock.today_local(),
        "due": organizations.review_due(org, settings) if org.status == OrgStatus.pending else None,
    }
    if org.kind == OrgKind.provider:
        context["rows"] = await qualifications.provider_qualifications(db, org.id)
        context["practitioners"] = await qualifications.provider_practitioners(db, org.id)
        context["conflicts"] = await qualifications.practitioner_conflicts(db, org.id)
        context["licence"] = await organizations.current_licence(db, org.id)
    return context


# --- admin: catalog editor ---------------------------------------------------------------------


def _editor_context(item: CatalogItem | None) -> dict[str, Any]:
    if item is None:
        form: dict[str, Any] = {
            "status": ItemStatus.retained,
            "fee_type": "market_regulated",
            "effective_date": clock.today_local().isoformat(),
        }
    else:
        form = catalog.item_values(item) | {
            "fee_cap": "" if item.fee_cap is None else f"{item.fee_cap:.2f}",
            "effective_date": item.effective_date.isoformat(),
            "in_services_catalog": "1" if item.in_services_catalog else "",
            "version": item.version,
        }
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

    async def _catalog(self, db: AsyncSession, imported: str | None = None) -> dict[str, Any]:
        result = await catalog.import_result(db, imported) if imported and SHA256_RE.match(imported) else None
        return {"items": await catalog.all_items(db), "result": result}

    @get("/admin/catalog")
    async def editor(self, request: AnyRequest, db: DbSession) -> Template:
        return page("admin_catalog.html", **await self._catalog(db, request.query_params.get("import")))

    @post("/admin/catalog/import", status_code=303)
    async def import_csv(self, request: AnyRequest, db: DbSession, actor: CurrentActor) -> Redirect:
        """As ``POST /api/v1/catalog/import``: all rows or none; a refused file lists every bad row."""
        form = await read_form(request)
        async with refusal(db, "listings/admin_catalog.html", lambda: self._catalog(db)):
            upload = form.file("file")
            if upload is None:
                raise InvalidInput.field("file", _("Choose the CSV file to import."))
            result = await catalog.import_csv(db, actor, await upload.read())
        return redirect(f"/admin/catalog?import={result.sha256}", done="catalog_imported")

    @get("/admin/catalog/new")
    async def new_form(self) -> Template:
        return page("admin_item.html", **_editor_context(None))

    @post("/admin/catalog/new", status_code=303)
    async def create(self, request: AnyRequest, db: DbSession, actor: CurrentActor) -> Redirect:
        """As ``POST /api/v1/catalog``."""
        form = await read_form(request)

        async def again() -> dict[str, Any]:
            return _editor_context(None)

        async with refusal(db, "listings/admin_item.html", again, form=form):
            data = parse(CatalogItemIn, form)
            item = await catalog.create_item(db, actor, data.as_input(), note=data.note)
        return redirect(f"/catalog/{item.code}", done="item_created")

    @get("/admin/catalog/{code:str}/edit")
    async def edit_form(self, code: FromPath[str], db: DbSession) -> Template:
        return page("admin_item.html", **_editor_context(await get_catalog_item(db, code)))

    @post("/admin/catalog/{code:str}/edit", status_code=303)
    async def edit(self, request: AnyRequest, code: FromPath[str], db: DbSession, actor: CurrentActor) -> Redirect:
        """As ``PATCH /api/v1/catalog/{code}`` with every field of the item (an emptied fee cap is
        no cap)."""
        form = await read_form(request)
        item = await get_catalog_item(db, code)

        async def again() -> dict[str, Any]:
            return _editor_context(await get_catalog_item(db, code))

        async with refusal(db, "listings/admin_item.html", again, form=form):
            data = parse(
                CatalogItemPatch,
                form,
                **emptied(form, set(catalog.EDITABLE) - {"fee_cap"}),
                # the checkbox sends "1" when ticked and nothing otherwise
                in_services_catalog=form.get("in_services_catalog") == "1",
            )
            changes = data.changes(set(catalog.EDITABLE))
            _item, changed = await catalog.update_item(
                db, actor, item.code, changes, expected_version=data.version, note=data.note
            )
        return redirect(f"/catalog/{item.code}", done="item_saved" if changed else "item_unchanged")


# --- violation points, appeals, the credit lists (issue 13.2, 13.6) -----------------------------


async def _sanctions_context(db: AsyncSession, actor: Actor, provider_id: uuid.UUID) -> dict[str, Any]:
    """What a page shows of a firm's violations (as ``actor`` may see them) and sanction periods."""
    now = clock.now()
    periods = await sanctions.sanction_periods(db, [provider_id])
    return {
        "violations": await sanctions.provider_violations(db, actor, provider_id),
        "counting_points": await sanctions.points_of(db, provider_id, now),
        "periods": periods[provider_id],
        "at": now,
        "counts_now": sanctions.counts_now,
        "rules": violation_rules,
    }


def _category_choices() -> list[tuple[str, str]]:
    return [(c.code.value, f"{_(c.label)} ({_('%(n)d points', n=c.points)})") for c in violation_rules.CATEGORIES]


class CreditListPages(Controller):
    include_in_schema = False

    @get("/credit")
    async def lists(self, db: DbSession) -> Template:
        """The red and black lists with their definitions, and the published rules of violation points."""
        return page("credit_lists.html", lists=await credit_lists_out(db), rules=violation_rules)


class ViolationAdminPagesBase(Controller):
    """The operator records violations (with an evidence file: the body limit is the upload limit)
    and decides appeals."""

    include_in_schema = False
    guards = [admin_only]

    @get("/admin/violations")
    async def overview(self, db: DbSession) -> Template:
        return page(
            "admin_violations.html",
            appeals=await sanctions.appeals_to_decide(db),
            recent=await sanctions.recent_violations(db),
        )

    async def _provider_context(self, db: AsyncSession, actor: Actor, provider_id: uuid.UUID) -> dict[str, Any]:
        org = await identity.get_organization(db, provider_id)
        if org.kind != OrgKind.provider:
            raise NotFound(_("No such provider."))
        return {
            "org": org,
            "categories": _category_choices(),
            "form": {},
            **await _sanctions_context(db, actor, provider_id),
        }

    @get("/admin/providers/{provider_id:uuid}/violations")
    async def provider_violations(
        self, provider_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
    ) -> Template:
        return page("admin_provider_violations.html", **await self._provider_context(db, actor, provider_id))

    @post("/admin/providers/{provider_id:uuid}/violations", status_code=303)
    async def record(
        self,
        request: AnyRequest,
        provider_id: FromPath[uuid.UUID],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> Redirect:
        """As ``POST /api/v1/admin/providers/{id}/violations``, the evidence uploaded with the form."""
        form = await read_form(request)
        evidence = await form_file(form, "evidence", settings)

        async def again() -> dict[str, Any]:
            context = await self._provider_context(db, actor, provider_id)
            return context | {"held": {"evidence": await evidence.keep(settings, client_ip(request))}}

        async with refusal(db, "listings/admin_provider_violations.html", again, form=form):
            if evidence.problem is not None:
                raise evidence.problem
            data = parse(ViolationIn, form)
            digest = None
            if evidence.content:
                stored = await storage.store_upload(
                    db, actor, settings, evidence.content, evidence.filename, field="evidence"
                )
                digest = stored.sha256
            violation = await sanctions.record_violation(
                db,
                actor,
                settings,
                provider_id,
                sanctions.ViolationInput(
                    category=data.category, points=data.points, reason=data.reason, evidence_sha256=digest
                ),
            )
        return redirect(f"/admin/violations/{violation.id}", done="violation_recorded")

    @get("/admin/violations/{violation_id:uuid}")
    async def detail(self, violation_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> Template:
        return page("violation_detail.html", **await _violation_context(db, actor, violation_id))

    @post("/admin/violations/{violation_id:uuid}/decide", status_code=303)
    async def decide(
        self, request: AnyRequest, violation_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
    ) -> Redirect:
        """As ``POST /api/v1/violations/{id}/appeal/decide``."""
        form = await read_form(request)

        async def again() -> dict[str, Any]:
            return await _violation_context(db, actor, violation_id)

        async with refusal(db, "listings/violation_detail.html", again, form=form):
            data = parse(AppealDecisionIn, form)
            await sanctions.decide_appeal(db, actor, violation_id, upheld=data.upheld, decision=data.decision)
        return redirect(f"/admin/violations/{violation_id}", done="appeal_decided")


async def _violation_context(db: AsyncSession, actor: Actor, violation_id: uuid.UUID) -> dict[str, Any]:
    violation, appeal = await sanctions.readable_violation(db, actor, violation_id)
    if not sanctions.may_see_all(actor, violation.provider_id):
        raise NotFound(_("No such violation."))
    now = clock.now()
    return {
        "v": violation,
        "appeal": appeal,
        "org": await identity.get_organization(db, violation.provider_id),
        "counts": sanctions.counts_now(violation, now),
        "may_appeal": actor.org_id == violation.provider_id
        and violation_rules.may_appeal(sanctions.state(violation), now),
        "may_decide": actor.role == "admin" and violation.status == violation_rules.ViolationStatus.under_appeal,
        "form": {},
        "at": now,
    }


class ViolationWorkspacePages(Controller):
    """The firm's own violations and its appeals (open to a suspended or blacklisted firm too)."""

    include_in_schema = False
    guards = [signed_in, provider_only]

    @get("/workspace/violations")
    async def overview(self, db: DbSession, actor: CurrentActor) -> Template:
        org_id = organizations.own_org_id(actor)
        return page(
            "workspace_violations.html",
            org=await identity.get_organization(db, org_id),
            **await _sanctions_context(db, actor, org_id),
        )

    @get("/workspace/violations/{violation_id:uuid}")
    async def detail(self, violation_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> Template:
        return page("violation_detail.html", **await _violation_context(db, actor, violation_id))

    @post("/workspace/violations/{violation_id:uuid}/appeal", status_code=303)
    async def appeal(
        self, request: AnyRequest, violation_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
    ) -> Redirect:
        """As ``POST /api/v1/violations/{id}/appeal``."""
        form = await read_form(request)

        async def again() -> dict[str, Any]:
            return await _violation_context(db, actor, violation_id)

        async with refusal(db, "listings/violation_detail.html", again, form=form):
            await sanctions.appeal(db, actor, violation_id, parse(AppealIn, form).text)
        return redirect(f"/workspace/violations/{violation_id}", done="appeal_filed")


def _with_upload_limit(base: type[Controller], settings: Settings) -> type[Controller]:
    limit = storage.upload_body_limit(settings)
    return type(base.__name__.removesuffix("Base"), (base,), {"request_max_body_size": limit})


def routes(settings: Settings) -> list[Any]:
    """The package's pages (the composition root mounts them)."""
    return [
        CatalogPages,
        DirectoryPages,
        _with_upload_limit(RegistrationPagesBase, settings),
        _with_upload_limit(ProfilePagesBase, settings),
        _with_upload_limit(QualificationPagesBase, settings),
        ReviewPages,
        _with_upload_limit(CatalogEditorBase, settings),
        CreditListPages,
        _with_upload_limit(ViolationAdminPagesBase, settings),
        ViolationWorkspacePages,
    ]
