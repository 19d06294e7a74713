"""JSON API of the listings package (SPEC §6): catalog, registration, review, qualifications,
practitioners, files and the provider directory. Controllers translate; services decide."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody
from litestar.params import Body, FromPath, JSONBody, QueryParameter
from litestar.types import Guard
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from listings import catalog, credit, directory, organizations, qualifications, sanctions, storage, violation_rules
from listings import labels as _labels  # noqa: F401  (the labels of the credit facts)
from listings.credit_rules import DEFAULT_POLICY, GRADES, YEARS_COUNTED, CreditPolicy, grade_floor
from listings.models import CatalogItem, Qualification, Violation, ViolationAppeal
from listings.organizations import Licence, Registration
from listings.schemas import (
    AppealDecisionIn,
    AppealIn,
    AppealOut,
    CatalogItemIn,
    CatalogItemOut,
    CatalogItemPatch,
    CatalogVersionOut,
    CategoryOut,
    CoveredItemOut,
    CreditFactOut,
    CreditFormulaOut,
    CreditGradeBoundOut,
    CreditListsOut,
    CreditPenaltyOut,
    CreditRulesOut,
    DecisionOut,
    FileOut,
    FileUploadForm,
    ImportOut,
    ListedFirmOut,
    OwnerRegistrationIn,
    PractitionerIn,
    PractitionerOut,
    ProfileOut,
    ProfilePatch,
    ProviderCreditOut,
    ProviderDetailOut,
    ProviderOut,
    PublicPractitionerOut,
    PublicQualificationOut,
    QualificationIn,
    QualificationOut,
    QualificationRejectIn,
    RatingOut,
    ReasonIn,
    RegisteredOut,
    RegistrationIn,
    SanctionPeriodOut,
    SuspendIn,
    ViolationIn,
    ViolationOut,
    ViolationsOut,
)
from listings.services import get_catalog_item
from market import clock, csvout
from market.actor import Actor
from market.csvout import csv_response
from market.errors import (
    DomainError,
    FieldError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    UnsupportedMedia,
)
from market.i18n import gettext as _
from market.identity.guards import admin_only, principal_of, signed_in
from market.identity.models import Organization, OrgKind
from market.identity.services import get_organization
from market.schemas import Page
from market.settings import Settings
from market.storage import storage_for
from market.terms import label
from market.web.deps import AppSettings, CurrentActor, DbSession, Offset, VersionNumber, client_ip
from market.web.forms import FormData, parse, read_form
from market.web.problems import field_errors_of

AnyRequest = Request[Any, Any, Any]

# --- guards and converters ---------------------------------------------------------------------


def own_or_oversight(param: str = "provider_id") -> Guard:
    """The organisation named by the path parameter itself, or the operator and the finance bureau."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        user = principal_of(connection)
        if user.role in ("admin", "finance"):
            return
        if str(connection.path_params.get(param)) != str(user.org_id):
            raise PermissionDenied(_("This belongs to another organisation."))

    return guard


def item_out(item: CatalogItem) -> CatalogItemOut:
    return CatalogItemOut.model_validate(item)


def qualification_out(q: Qualification, items: list[CatalogItem]) -> QualificationOut:
    return QualificationOut(
        id=q.id,
        provider_id=q.provider_id,
        name=q.name,
        grade=q.grade,
        certificate_no=q.certificate_no,
        issuer=q.issuer,
        valid_until=q.valid_until,
        status=q.status,
        review_reason=q.review_reason,
        document_sha256=q.document_sha256,
        catalog_items=[CoveredItemOut(code=i.code, name=i.name) for i in items],
        updated_at=q.updated_at,
    )


def provider_out(card: directory.ProviderCard) -> dict[str, Any]:
    org = card.org
    return {
        "id": org.id,
        "name": org.name,
        "uscc": org.uscc,
        "address": org.address,
        "phone": org.phone,
        "email": org.email,
        "catalog_items": [CoveredItemOut(code=i.code, name=i.name) for i in card.items],
        "qualifications": [
            PublicQualificationOut(
                name=q.name,
                grade=q.grade,
                certificate_no=q.certificate_no,
                issuer=q.issuer,
                valid_until=q.valid_until,
                catalog_items=[CoveredItemOut(code=i.code, name=i.name) for i in items],
            )
            for q, items in card.qualifications
        ],
        "practitioners": card.practitioners,
        "rating": RatingOut(count=card.rating.count, average=card.rating.average, aspects=card.rating.aspects)
        if card.rating
        else None,
    }


def decision_out(org: Organization) -> DecisionOut:
    return DecisionOut(
        id=org.id, status=org.status, status_reason=org.status_reason, suspended_until=org.suspended_until
    )


# --- catalog -----------------------------------------------------------------------------------


class CatalogController(Controller):
    path = "/api/v1/catalog"
    tags = ["catalog"]

    @get("/", summary="The service catalog; search q (code, name, approval), filters category, fee_type, status")
    async def list_items(
        self,
        db: DbSession,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        category: Annotated[str | None, QueryParameter(max_length=60)] = None,
        fee_type: Annotated[str | None, QueryParameter(max_length=24)] = None,
        status: Annotated[str | None, QueryParameter(max_length=16)] = None,
        in_services_catalog: Annotated[bool | None, QueryParameter()] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Offset = 0,
    ) -> Page[CatalogItemOut]:
        query = catalog.CatalogQuery(
            q=q, category=category, fee_type=fee_type, status=status, in_services_catalog=in_services_catalog
        )
        items, total = await catalog.list_items(db, query, limit=limit, offset=offset)
        return Page[CatalogItemOut](items=[item_out(i) for i in items], total=total, limit=limit, offset=offset)

    @get(
        "/export.csv",
        summary="The whole catalog as CSV (UTF-8 with BOM, opens in Excel); same columns as the import",
        media_type=csvout.MEDIA_TYPE,
    )
    async def export(self, db: DbSession) -> Response[bytes]:
        data = catalog.export_csv(await catalog.all_items(db))
        return csv_response(data, f"catalog-{clock.today_local().isoformat()}.csv")

    @get("/{code:str}", summary="One catalog item (current version)")
    async def get_item(self, code: FromPath[str], db: DbSession) -> CatalogItemOut:
        return item_out(await get_catalog_item(db, code))

    @get("/{code:str}/versions", summary="Every version of the item, newest first")
    async def item_versions(self, code: FromPath[str], db: DbSession) -> list[CatalogVersionOut]:
        item = await get_catalog_item(db, code)
        rows = await catalog.versions(db, item)
        return [
            CatalogVersionOut(
                version=v.version,
                changed_at=v.changed_at,
                changed_by=v.changed_by,
                note=v.note,
                data=json.loads(v.data),
            )
            for v in rows
        ]

    @get("/{code:str}/versions/{number:int}", summary="One earlier (or the current) version of the item")
    async def item_version(self, code: FromPath[str], number: VersionNumber, db: DbSession) -> CatalogVersionOut:
        item = await get_catalog_item(db, code)
        row, data = await catalog.version_of(db, item, number)
        return CatalogVersionOut(
            version=row.version, changed_at=row.changed_at, changed_by=row.changed_by, note=row.note, data=data
        )

    @post("/", status_code=201, guards=[admin_only], summary="Add a catalog item (version 1)")
    async def create_item(self, data: JSONBody[CatalogItemIn], db: DbSession, actor: CurrentActor) -> CatalogItemOut:
        item = await catalog.create_item(db, actor, data.as_input(), note=data.note)
        return item_out(item)

    @patch(
        "/{code:str}",
        guards=[admin_only],
        summary="Edit a catalog item; a change writes a new version (send `version` to detect concurrent edits)",
    )
    async def update_item(
        self, code: FromPath[str], data: JSONBody[CatalogItemPatch], db: DbSession, actor: CurrentActor
    ) -> CatalogItemOut:
        changes = data.changes(data.model_fields_set)
        item, _changed = await catalog.update_item(
            db, actor, code, changes, expected_version=data.version, note=data.note
        )
        return item_out(item)

    @post(
        "/import",
        status_code=200,
        guards=[admin_only],
        summary="Import a CSV (body text/csv, or multipart field `file`): all rows or none; errors name row and field",
    )
    async def import_csv(self, request: AnyRequest, db: DbSession, actor: CurrentActor) -> ImportOut:
        data = await read_csv_body(request)
        result = await catalog.import_csv(db, actor, data)
        return ImportOut(
            created=result.created, updated=result.updated, unchanged=result.unchanged, sha256=result.sha256
        )


async def read_csv_body(request: AnyRequest) -> bytes:
    content_type = request.content_type[0]
    if content_type == RequestEncodingType.MULTI_PART:
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput.field("file", _("Choose the CSV file to import."))
        content: bytes = await upload.read()
        return content
    if content_type in ("text/csv", "text/plain", "application/csv", "application/octet-stream"):
        return await request.body()
    raise InvalidInput.field("file", _("Send the CSV file as text/csv or as the multipart field file."))


# --- registration, the registrant's profile ----------------------------------------------------


# --- registration: every problem named at once, a provider's business licence ------------------


def _body_schema(schema: type[RegistrationIn], *, licence: bool) -> dict[str, Any]:
    """The documented request body of a registration (the schema's JSON Schema, plus the licence
    file of a provider's multipart registration)."""
    body = schema.model_json_schema()
    if licence:
        body = {
            **body,
            "properties": {
                **body["properties"],
                "business_licence": {
                    "type": "string",
                    "format": "binary",
                    "description": "The business licence (营业执照): a PDF, PNG or JPEG file",
                },
            },
            "required": [*body.get("required", []), "business_licence"],
        }
    return body


@dataclass
class ProviderRegistrationOperation(Operation):
    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description=(
                "multipart/form-data: the fields and the business licence (营业执照) as the file `business_licence` "
                "(a PDF, PNG or JPEG). A JSON body is read too, but a provider cannot register without the file."
            ),
            content={
                "multipart/form-data": OpenAPIMediaType(schema=_body_schema(RegistrationIn, licence=True)),  # type: ignore[arg-type]
                "application/json": OpenAPIMediaType(schema=_body_schema(RegistrationIn, licence=False)),  # type: ignore[arg-type]
            },
        )


@dataclass
class OwnerRegistrationOperation(Operation):
    def __post_init__(self) -> None:
        schema = _body_schema(OwnerRegistrationIn, licence=False)
        self.request_body = RequestBody(
            required=True,
            content={
                "application/json": OpenAPIMediaType(schema=schema),  # type: ignore[arg-type]
                "multipart/form-data": OpenAPIMediaType(schema=schema),  # type: ignore[arg-type]
            },
        )


def registration_of_form(
    form: FormData, kind: OrgKind, licence: Licence | None, **extra: Any
) -> tuple[Registration, list[DomainError]]:
    """The registration a form (a page's, or a multipart request's) sends, and what the request
    schema refuses in it (the service names those with its own problems, all at once); ``extra``:
    values the page supplies itself."""
    schema = OwnerRegistrationIn if kind is OrgKind.owner else RegistrationIn
    try:
        return parse(schema, form, **extra).registration(kind, licence), []
    except InvalidInput as refused:
        return schema.unchecked(kind, {**form.values, **extra}, licence), [refused]


async def read_registration(
    request: AnyRequest, settings: Settings, kind: OrgKind
) -> tuple[Registration, list[DomainError]]:
    """The registration of a JSON or a multipart request (a provider's licence is the file
    ``business_licence`` of the multipart form)."""
    content_type = request.content_type[0]
    if content_type in (RequestEncodingType.MULTI_PART, RequestEncodingType.URL_ENCODED):
        form = await read_form(request)
        upload = form.file("business_licence")
        licence = Licence(await upload.read(), upload.filename or "") if upload is not None else None
        return registration_of_form(form, kind, licence)
    if content_type != "application/json":
        raise UnsupportedMedia(
            _("Send the registration as JSON or as multipart/form-data."),
            errors=[FieldError("body", _("Send the registration as JSON or as multipart/form-data."))],
        )
    body = await request.body()
    if len(body) > settings.max_json_bytes:
        raise PayloadTooLarge(_("The request body is too large."), errors=[FieldError("body", _("Too large."))])
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError):
        raise ValidationException(detail=_("The body is not valid JSON.")) from None
    if not isinstance(raw, dict):
        raise ValidationException(detail=_("The body must be a JSON object."))
    schema = OwnerRegistrationIn if kind is OrgKind.owner else RegistrationIn
    refused: list[DomainError] = []
    if kind is OrgKind.provider:
        refused.append(
            InvalidInput.field(
                "business_licence",
                _(
                    "Send the registration as multipart/form-data with the business licence (营业执照) "
                    "as the file business_licence."
                ),
            )
        )
    try:
        return schema.model_validate(raw).registration(kind), refused
    except ValidationError as exc:
        invalid = InvalidInput(
            _("The input is not valid."), _("Correct the fields named below."), errors=field_errors_of(exc)
        )
        return schema.unchecked(kind, raw), [invalid, *refused]


PROVIDER_REGISTRATION_SUMMARY = (
    "Register an intermediary firm and its first user (starts pending): multipart/form-data with the business "
    "licence as the file business_licence; every field error at once; rate-limited per address"
)


async def _register_provider(request: AnyRequest, db: AsyncSession, actor: Actor, settings: Settings) -> RegisteredOut:
    data, refused = await read_registration(request, settings, OrgKind.provider)
    org, user = await organizations.register(db, actor, settings, data, client=client_ip(request), refused=refused)
    return RegisteredOut(id=org.id, status=org.status, user_id=user.id)


def provider_registration(settings: Settings) -> Any:
    """``POST /api/v1/providers`` (a method of the providers' controller), with the body limit of an
    upload: the business licence comes with the registration."""

    @post(
        "/",
        status_code=201,
        operation_class=ProviderRegistrationOperation,
        request_max_body_size=storage.upload_body_limit(settings),
        summary=PROVIDER_REGISTRATION_SUMMARY,
    )
    async def register_provider(
        self: Controller, request: AnyRequest, db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> RegisteredOut:
        return await _register_provider(request, db, actor, settings)

    return register_provider


class OwnerRegistrationControllerBase(Controller):
    path = "/api/v1/owners"
    tags = ["registration"]

    @post(
        "/",
        status_code=201,
        operation_class=OwnerRegistrationOperation,
        summary=(
            "Register a project owner and its first user (starts pending); every field error at once; "
            "rate-limited per address"
        ),
    )
    async def register_owner(
        self, request: AnyRequest, db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> RegisteredOut:
        data, refused = await read_registration(request, settings, OrgKind.owner)
        org, user = await organizations.register(db, actor, settings, data, client=client_ip(request), refused=refused)
        return RegisteredOut(id=org.id, status=org.status, user_id=user.id)


class ProfileController(Controller):
    path = "/api/v1/me/organization"
    tags = ["registration"]
    guards = [signed_in]

    @get("/", summary="My organisation's profile, status, the reason of the last decision, its business licence")
    async def profile(self, request: AnyRequest, db: DbSession) -> ProfileOut:
        return await profile_out(db, await get_organization(db, principal_of(request).org_id))

    @patch(
        "/",
        summary=(
            "Correct my organisation's profile (name and credit code only before approval; a provider not approved "
            "yet replaces its business licence with business_licence_sha256, a file it uploaded)"
        ),
    )
    async def update(
        self, data: JSONBody[ProfilePatch], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> ProfileOut:
        org_id = organizations.own_org_id(actor)
        org = await organizations.update_profile(db, actor, org_id, data.changes(data.model_fields_set))
        if data.business_licence_sha256:
            await organizations.replace_licence(db, actor, org_id, data.business_licence_sha256)
        return await profile_out(db, org)

    @post("/resubmit", status_code=200, summary="Ask for review again after a rejection")
    async def resubmit(self, db: DbSession, actor: CurrentActor) -> ProfileOut:
        return await profile_out(db, await organizations.resubmit(db, actor, organizations.own_org_id(actor)))


async def profile_out(db: AsyncSession, org: Organization) -> ProfileOut:
    licence = await organizations.current_licence(db, org.id)
    return ProfileOut.model_validate(org).model_copy(
        update={"business_licence_sha256": licence.sha256 if licence else None}
    )


# --- providers: registration, directory, qualifications, practitioners -------------------------


class ProviderControllerBase(Controller):
    path = "/api/v1/providers"
    tags = ["providers"]

    @get("/", summary="The public directory: approved providers; search q, filter catalog_code (qualified today)")
    async def list_providers(
        self,
        db: DbSession,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        catalog_code: Annotated[str | None, QueryParameter(max_length=32)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 20,
        offset: Offset = 0,
    ) -> Page[ProviderOut]:
        cards, total = await directory.list_providers(
            db, on_date=clock.today_local(), q=q, catalog_code=catalog_code, limit=limit, offset=offset
        )
        return Page[ProviderOut](
            items=[ProviderOut(**provider_out(c)) for c in cards], total=total, limit=limit, offset=offset
        )

    @get("/{provider_id:uuid}", summary="One provider of the public directory")
    async def get_provider(self, provider_id: FromPath[uuid.UUID], db: DbSession) -> ProviderDetailOut:
        card = await directory.provider_card(db, provider_id, clock.today_local())
        staff = await directory.public_practitioners(db, provider_id)
        return ProviderDetailOut(
            **provider_out(card),
            legal_rep=card.org.legal_rep,
            practitioner_list=[PublicPractitionerOut(name=p.name, certificate=p.certificate) for p in staff],
        )

    @get(
        "/{provider_id:uuid}/credit",
        summary="The firm's credit now: score 0–100, grade A–D and every fact of three years with its effect",
    )
    async def get_credit(self, provider_id: FromPath[uuid.UUID], db: DbSession) -> ProviderCreditOut:
        org = await credit.public_provider(db, provider_id)
        return provider_credit_out(org, await credit.standing(db, org.id, clock.now()))

    @get(
        "/{provider_id:uuid}/qualifications",
        guards=[signed_in, own_or_oversight()],
        summary="All of a provider's qualifications with their review status (the provider, admin, finance)",
    )
    async def list_qualifications(self, provider_id: FromPath[uuid.UUID], db: DbSession) -> list[QualificationOut]:
        await qualifications.provider_org(db, provider_id)
        rows = await qualifications.provider_qualifications(db, provider_id)
        return [qualification_out(q, items) for q, items in rows]

    @post(
        "/{provider_id:uuid}/qualifications",
        status_code=201,
        guards=[signed_in, own_or_oversight()],
        summary="Add a qualification (goes to review; public once approved and the provider is approved)",
    )
    async def add_qualification(
        self, provider_id: FromPath[uuid.UUID], data: JSONBody[QualificationIn], db: DbSession, actor: CurrentActor
    ) -> QualificationOut:
        q = await qualifications.add_qualification(db, actor, provider_id, data.as_input())
        covered = await qualifications.covered_codes(db, [q.id])
        return qualification_out(q, covered.get(q.id, []))

    @get(
        "/{provider_id:uuid}/practitioners",
        guards=[signed_in, own_or_oversight()],
        summary="A provider's practitioners (ID numbers masked)",
    )
    async def list_practitioners(self, provider_id: FromPath[uuid.UUID], db: DbSession) -> list[PractitionerOut]:
        await qualifications.provider_org(db, provider_id)
        rows = await qualifications.provider_practitioners(db, provider_id)
        return [PractitionerOut.model_validate(p) for p in rows]

    @post(
        "/{provider_id:uuid}/practitioners",
        status_code=201,
        guards=[signed_in, own_or_oversight()],
        summary="Add a practitioner: the ID number is checked, then kept only masked and as a keyed hash",
    )
    async def add_practitioner(
        self,
        provider_id: FromPath[uuid.UUID],
        data: JSONBody[PractitionerIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> PractitionerOut:
        p = await qualifications.add_practitioner(
            db,
            actor,
            settings.secret_key,
            provider_id,
            name=data.name,
            certificate=data.certificate,
            id_number=data.id_number,
        )
        return PractitionerOut.model_validate(p)


class QualificationController(Controller):
    path = "/api/v1/qualifications"
    tags = ["providers"]
    guards = [signed_in]

    @get("/{qualification_id:uuid}", summary="One qualification (its provider, admin, finance)")
    async def get_qualification(
        self, qualification_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
    ) -> QualificationOut:
        q = await qualifications.get_qualification(db, actor, qualification_id)
        covered = await qualifications.covered_codes(db, [q.id])
        return qualification_out(q, covered.get(q.id, []))

    @patch("/{qualification_id:uuid}", summary="Change a qualification (all fields); it goes back to review")
    async def update_qualification(
        self, qualification_id: FromPath[uuid.UUID], data: JSONBody[QualificationIn], db: DbSession, actor: CurrentActor
    ) -> QualificationOut:
        q = await qualifications.update_qualification(db, actor, qualification_id, data.as_input())
        covered = await qualifications.covered_codes(db, [q.id])
        return qualification_out(q, covered.get(q.id, []))

    @delete("/{qualification_id:uuid}", status_code=204, summary="Withdraw a qualification")
    async def withdraw(self, qualification_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> None:
        await qualifications.withdraw_qualification(db, actor, qualification_id)


class PractitionerController(Controller):
    path = "/api/v1/practitioners"
    tags = ["providers"]
    guards = [signed_in]

    @delete("/{practitioner_id:uuid}", status_code=204, summary="Remove a practitioner")
    async def remove(self, practitioner_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> None:
        await qualifications.remove_practitioner(db, actor, practitioner_id)


# --- the operator's review ---------------------------------------------------------------------


class AdminReviewController(Controller):
    path = "/api/v1/admin"
    tags = ["admin"]
    guards = [admin_only]

    @post("/organizations/{org_id:uuid}/approve", status_code=200, summary="Approve a pending registration")
    async def approve(self, org_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> DecisionOut:
        return decision_out(await organizations.approve(db, actor, org_id))

    @post(
        "/organizations/{org_id:uuid}/reject", status_code=200, summary="Reject a pending registration, with the reason"
    )
    async def reject(
        self, org_id: FromPath[uuid.UUID], data: JSONBody[ReasonIn], db: DbSession, actor: CurrentActor
    ) -> DecisionOut:
        return decision_out(await organizations.reject(db, actor, org_id, data.reason))

    @post(
        "/organizations/{org_id:uuid}/suspend",
        status_code=200,
        summary="Suspend an organisation through `until` (inclusive), with the reason",
    )
    async def suspend(
        self, org_id: FromPath[uuid.UUID], data: JSONBody[SuspendIn], db: DbSession, actor: CurrentActor
    ) -> DecisionOut:
        return decision_out(await organizations.suspend(db, actor, org_id, data.reason, data.until))

    @post(
        "/organizations/{org_id:uuid}/blacklist", status_code=200, summary="Blacklist an organisation, with the reason"
    )
    async def blacklist(
        self, org_id: FromPath[uuid.UUID], data: JSONBody[ReasonIn], db: DbSession, actor: CurrentActor
    ) -> DecisionOut:
        return decision_out(await organizations.blacklist(db, actor, org_id, data.reason))

    @post(
        "/organizations/{org_id:uuid}/reinstate",
        status_code=200,
        summary="End a suspension early or lift a blacklisting, with the reason",
    )
    async def reinstate(
        self, org_id: FromPath[uuid.UUID], data: JSONBody[ReasonIn], db: DbSession, actor: CurrentActor
    ) -> DecisionOut:
        return decision_out(await organizations.reinstate(db, actor, org_id, data.reason))

    @get("/qualifications", summary="Qualifications waiting for review, oldest first")
    async def pending_qualifications(self, db: DbSession) -> list[QualificationOut]:
        rows = await qualifications.pending_qualifications(db)
        return [qualification_out(q, items) for q, _org, items in rows]

    @post("/qualifications/{qualification_id:uuid}/approve", status_code=200, summary="Approve a qualification")
    async def approve_qualification(
        self, qualification_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
    ) -> QualificationOut:
        q = await qualifications.review_qualification(db, actor, qualification_id, approve=True)
        covered = await qualifications.covered_codes(db, [q.id])
        return qualification_out(q, covered.get(q.id, []))

    @post(
        "/qualifications/{qualification_id:uuid}/reject",
        status_code=200,
        summary="Reject a qualification, with the reason",
    )
    async def reject_qualification(
        self,
        qualification_id: FromPath[uuid.UUID],
        data: JSONBody[QualificationRejectIn],
        db: DbSession,
        actor: CurrentActor,
    ) -> QualificationOut:
        q = await qualifications.review_qualification(db, actor, qualification_id, approve=False, reason=data.reason)
        covered = await qualifications.covered_codes(db, [q.id])
        return qualification_out(q, covered.get(q.id, []))


# --- files -------------------------------------------------------------------------------------


class FileControllerBase(Controller):
    path = "/api/v1/files"
    tags = ["files"]
    guards = [signed_in]

    @post(
        "/",
        status_code=201,
        summary=(
            "Upload a PDF, PNG or JPEG (recognised by content; size limit MARKET_MAX_UPLOAD_BYTES, 20 MB; before "
            "approval MARKET_UNAPPROVED_UPLOAD_FILES files, MARKET_UNAPPROVED_UPLOAD_BYTES in all)"
        ),
    )
    async def upload(
        self,
        data: Annotated[FileUploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> FileOut:
        content = await data.file.read()
        stored = await storage.store_upload(db, actor, settings, content, data.file.filename)
        return FileOut(
            sha256=stored.sha256, size=stored.size, content_type=stored.content_type, filename=stored.filename
        )

    @get(
        "/{sha256:str}",
        summary="A stored file, for its uploader, the operator and finance (404 for anyone else)",
        media_type="application/octet-stream",
    )
    async def download(
        self, sha256: FromPath[str], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> Response[bytes]:
        return await file_response(db, actor, settings, sha256)


async def file_response(db: AsyncSession, actor: Actor, settings: Settings, sha256: str) -> Response[bytes]:
    stored, content = await storage.read_file(db, actor, storage_for(settings), sha256)
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}[stored.content_type]
    return Response(
        content,
        media_type=stored.content_type,
        headers={
            "Content-Disposition": f'inline; filename="{stored.sha256[:16]}.{extension}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
        },
    )


# --- violations, appeals, the credit lists (issue 13.2, 13.6) ----------------------------------


def violation_out(actor: Actor, v: Violation, a: ViolationAppeal | None) -> ViolationOut:
    found = violation_rules.category(v.category)
    full = sanctions.may_see_all(actor, v.provider_id)
    return ViolationOut(
        id=v.id,
        provider_id=v.provider_id,
        category=v.category,
        category_label=_(found.label) if found else v.category,
        points=v.points,
        counts=sanctions.counts_now(v, clock.now()),
        reason=v.reason,
        evidence_filename=v.evidence_filename,
        evidence_url=f"/api/v1/violations/{v.id}/evidence" if full and v.evidence_sha256 else None,
        recorded_at=v.recorded_at,
        appeal_due_at=v.appeal_due_at,
        status=v.status,
        status_label=label(v.status, "violation_status"),
        closed_at=v.closed_at,
        appeal=(
            AppealOut(
                id=a.id, text=a.text, filed_at=a.filed_at, upheld=a.upheld, decision=a.decision, decided_at=a.decided_at
            )
            if a is not None
            else None
        ),
    )


def period_out(period: sanctions.Period | None) -> SanctionPeriodOut | None:
    if period is None:
        return None
    return SanctionPeriodOut(
        kind=period.kind,
        reason=period.reason,
        start=period.start,
        until=period.until,
        ended_at=period.ended_at,
        automatic=period.automatic,
    )


def rules_out() -> CreditRulesOut:
    r = violation_rules
    return CreditRulesOut(
        appeal_working_days=r.APPEAL_WORKING_DAYS,
        window_days=r.WINDOW_DAYS,
        suspension_points=r.SUSPENSION_POINTS,
        suspension_days=r.SUSPENSION_DAYS,
        blacklist_points=r.BLACKLIST_POINTS,
        max_points=r.MAX_POINTS,
        categories=[CategoryOut(code=c.code, label=_(c.label), default_points=c.points) for c in r.CATEGORIES],
    )


async def credit_lists_out(db: AsyncSession) -> CreditListsOut:
    now = clock.now()
    red = await sanctions.red_list(db, now)
    black = await sanctions.black_list(db, now)
    return CreditListsOut(
        red=[
            ListedFirmOut(
                provider_id=x.org.id,
                name=x.org.name,
                uscc=x.org.uscc,
                status=x.org.status,
                points=x.points,
                period=None,
                grade=x.grade,
                score=x.score,
            )
            for x in red
        ],
        black=[
            ListedFirmOut(
                provider_id=x.org.id,
                name=x.org.name,
                uscc=x.org.uscc,
                status=x.org.status,
                points=x.points,
                period=period_out(x.period),
            )
            for x in black
        ],
        red_definition=_(sanctions.RED_DEFINITION),
        black_definition=_(sanctions.BLACK_DEFINITION),
        rules=rules_out(),
    )


class AdminViolationController(Controller):
    path = "/api/v1/admin"
    tags = ["credit"]
    guards = [admin_only]

    @post(
        "/providers/{provider_id:uuid}/violations",
        status_code=201,
        summary="Record a violation against a firm: category, points, written reason, evidence (an uploaded file)",
    )
    async def record(
        self,
        provider_id: FromPath[uuid.UUID],
        data: JSONBody[ViolationIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> ViolationOut:
        v = await sanctions.record_violation(
            db,
            actor,
            settings,
            provider_id,
            sanctions.ViolationInput(
                category=data.category, points=data.points, reason=data.reason, evidence_sha256=data.evidence_sha256
            ),
        )
        return violation_out(actor, v, None)

    @get("/appeals", summary="Appeals waiting for the operator's decision, oldest first")
    async def appeals(self, db: DbSession, actor: CurrentActor) -> list[ViolationOut]:
        return [violation_out(actor, v, a) for v, a, _org in await sanctions.appeals_to_decide(db)]


class ViolationController(Controller):
    path = "/api/v1"
    tags = ["credit"]

    @get(
        "/providers/{provider_id:uuid}/violations",
        summary=(
            "A firm's violations, newest first, its counting points and its sanctions with their periods: public "
            "for final ones (their points count); the firm itself, the operator and finance see every one, with "
            "appeals and evidence"
        ),
    )
    async def provider_violations(
        self,
        provider_id: FromPath[uuid.UUID],
        db: DbSession,
        actor: CurrentActor,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Offset = 0,
    ) -> ViolationsOut:
        org = await get_organization(db, provider_id)
        if org.kind != OrgKind.provider:
            raise NotFound(_("No such provider."))
        rows = await sanctions.provider_violations(db, actor, provider_id)
        return ViolationsOut(
            items=[violation_out(actor, v, a) for v, a in rows[offset : offset + limit]],
            total=len(rows),
            limit=limit,
            offset=offset,
            counting_points=await sanctions.points_of(db, provider_id, clock.now()),
            status=org.status,
            sanctions=[
                p for p in (period_out(x) for x in (await sanctions.sanction_periods(db, [org.id]))[org.id]) if p
            ],
        )

    @get("/violations/{violation_id:uuid}", summary="One violation and its appeal (public once its points count)")
    async def get_violation(
        self, violation_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
    ) -> ViolationOut:
        v, a = await sanctions.readable_violation(db, actor, violation_id)
        return violation_out(actor, v, a)

    @get(
        "/violations/{violation_id:uuid}/evidence",
        guards=[signed_in],
        summary="The evidence of a violation (the firm, the operator, finance)",
        media_type="application/octet-stream",
    )
    async def evidence(
        self, violation_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> Response[bytes]:
        v, _a = await sanctions.get_violation(db, violation_id)
        if not sanctions.may_see_all(actor, v.provider_id) or v.evidence_sha256 is None:
            raise NotFound(_("No such file."))
        return await file_response(db, SYSTEM_READER, settings, v.evidence_sha256)

    @post(
        "/violations/{violation_id:uuid}/appeal",
        status_code=201,
        guards=[signed_in],
        summary="The firm appeals once, in writing, within 10 working days (409 when already appealed or decided)",
    )
    async def appeal(
        self, violation_id: FromPath[uuid.UUID], data: JSONBody[AppealIn], db: DbSession, actor: CurrentActor
    ) -> ViolationOut:
        await sanctions.appeal(db, actor, violation_id, data.text)
        v, a = await sanctions.get_violation(db, violation_id)
        return violation_out(actor, v, a)

    @post(
        "/violations/{violation_id:uuid}/appeal/decide",
        status_code=200,
        guards=[admin_only],
        summary="The operator decides the appeal in writing: upheld removes the points, dismissed makes them count",
    )
    async def decide(
        self, violation_id: FromPath[uuid.UUID], data: JSONBody[AppealDecisionIn], db: DbSession, actor: CurrentActor
    ) -> ViolationOut:
        await sanctions.decide_appeal(db, actor, violation_id, upheld=data.upheld, decision=data.decision)
        v, a = await sanctions.get_violation(db, violation_id)
        return violation_out(actor, v, a)

    @get(
        "/credit/lists",
        summary="The public red list (good standing) and black list (blacklisted and suspended firms, with period "
        "and reason), their definitions and the published rules of violation points",
    )
    async def credit_lists(self, db: DbSession) -> CreditListsOut:
        return await credit_lists_out(db)


# the evidence is read on the violation's terms (checked above), not on the uploader's
SYSTEM_READER = Actor(user_id=None, org_id=None, role="admin", username="evidence")


def file_controller(settings: Settings) -> type[Controller]:
    """The upload controller with the body limit of the settings (the app-wide limit is the small
    JSON one)."""
    limit = storage.upload_body_limit(settings)
    return type("FileController", (FileControllerBase,), {"request_max_body_size": limit})


def registration_controllers(settings: Settings) -> list[type[Controller]]:
    """The providers' controller with its registration, and the owners' registration: both with the
    body limit of an upload (a provider's licence comes with its registration)."""
    limit = storage.upload_body_limit(settings)
    providers = type(
        "ProviderController", (ProviderControllerBase,), {"register_provider": provider_registration(settings)}
    )
    owners = type("OwnerRegistrationController", (OwnerRegistrationControllerBase,), {"request_max_body_size": limit})
    return [providers, owners]


# --- credit (listings.credit) -------------------------------------------------------------------


def _points(value: Decimal) -> str:
    return f"{value:.2f}"


def provider_credit_out(org: Organization, standing: credit.CreditStanding) -> ProviderCreditOut:
    return ProviderCreditOut(
        provider_id=org.id,
        provider_name=org.name,
        at=standing.at,
        score=_points(standing.score),
        grade=standing.grade.value,
        baseline=_points(standing.baseline),
        platform_mean=_points(standing.mean),
        ratings=standing.ratings,
        rating_average=_points(standing.rating_average) if standing.rating_average is not None else None,
        shrunk_average=_points(standing.shrunk_average),
        facts=[
            CreditFactOut(
                id=line.id,
                kind=line.kind.value,
                kind_label=label(line.kind, "credit_fact_kind"),
                occurred_at=line.occurred_at,
                value=_points(line.value),
                effect=_points(line.effect) if line.effect is not None else None,
                counts=line.counts,
                expires_at=line.expires_at,
                link=line.link,
                note=line.note,
            )
            for line in standing.lines
            # the public sees violation points only once they count: not while the firm may still
            # appeal or its appeal waits, nor after an appeal cleared it (listings.sanctions)
            if line.kind != credit.CreditFactKind.violation or line.counts
        ],
        next_change_at=standing.next_change_at,
        formula="/credit/formula",
    )


async def formula_out(session: AsyncSession, policy: CreditPolicy = DEFAULT_POLICY) -> CreditFormulaOut:
    mean = await credit.platform_mean_at(session, clock.now())
    return CreditFormulaOut(
        base_points=_points(policy.base_points),
        rating_points=_points(policy.rating_points),
        prior_ratings=policy.prior_ratings,
        default_mean=_points(policy.default_mean),
        platform_mean=_points(mean) if mean is not None else None,
        violation_factor=_points(policy.violation_factor),
        years_counted=YEARS_COUNTED,
        penalties=[
            CreditPenaltyOut(kind=kind.value, kind_label=label(kind, "credit_fact_kind"), points=_points(points))
            for kind, points in policy.penalties.items()
        ],
        grades=[CreditGradeBoundOut(grade=g.value, from_score=_points(grade_floor(g, policy))) for g in GRADES],
    )


class CreditController(Controller):
    path = "/api/v1/credit"
    tags = ["credit"]

    @get("/formula", summary="The published credit formula: its weights, penalties and grade bounds")
    async def get_formula(self, db: DbSession) -> CreditFormulaOut:
        return await formula_out(db)


def routes(settings: Settings) -> list[Any]:
    """The package's API routes (the composition root mounts them)."""
    return [
        CatalogController,
        CreditController,
        *registration_controllers(settings),
        ProfileController,
        QualificationController,
        PractitionerController,
        AdminReviewController,
        AdminViolationController,
        ViolationController,
        file_controller(settings),
    ]
