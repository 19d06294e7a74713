"""JSON API of the invoices package (SPEC §6): contracts, agreements, deliveries, ratings,
invoices, payments and document verification. Controllers translate; services hold the rules."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.params import Body, FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from invoices import billing, contracts, delivery, documents, owners, ratings, views
from invoices import labels as _labels  # noqa: F401  (registers the vocabularies)
from invoices.models import Contract, DocumentKind
from invoices.schemas import (
    AgreementIn,
    AgreementOut,
    ContractOut,
    ContractSummaryOut,
    CreditNoteIn,
    DeliveryForm,
    DeliveryIn,
    DeliveryOut,
    InvoiceCreated,
    InvoiceIn,
    InvoiceOut,
    OwnerRecordOut,
    PaymentIn,
    PaymentOut,
    RatingIn,
    RatingOut,
    RatingSummaryOut,
    ReasonIn,
    VerifiedOut,
    VoidIn,
)
from market.actor import Actor
from market.errors import FieldError, NotFound, RuleViolation
from market.i18n import gettext as _
from market.identity.guards import requires_role
from market.schemas import Page
from market.settings import Settings
from market.web.deps import AppSettings, CurrentActor, DbSession, Offset
from market.web.forms import parse
from market.web.problems import PROBLEM_JSON, problem

parties_and_oversight = requires_role("owner", "provider", "admin", "finance")
parties = requires_role("owner", "provider")
# a delivery may carry several files; each is checked against settings.max_upload_bytes
UPLOAD_REQUEST_LIMIT = 11 * 20 * 1024 * 1024


# --- PDFs -----------------------------------------------------------------------------------------


def pdf_response(data: bytes, filename: str, *, sha256: str | None = None, draft: bool = False) -> Response[bytes]:
    headers = {"Content-Disposition": f'inline; filename="{filename}"', "X-Content-Type-Options": "nosniff"}
    if draft:
        headers["Cache-Control"] = "no-store"
        headers["X-Document-Status"] = "draft"
    else:
        assert sha256 is not None
        headers["Cache-Control"] = "private, max-age=86400"
        headers["ETag"] = f'"{sha256}"'
        headers["X-Document-SHA256"] = sha256
    return Response(content=data, media_type="application/pdf", headers=headers)


async def serve_pdf(
    request: Request[Any, Any, Any],
    settings: Settings,
    actor: Actor,
    kind: DocumentKind,
    entity_id: uuid.UUID,
    lang: str | None,
) -> Response[bytes]:
    """The stored PDF of a final document (rendered now if the worker has not yet), or, for a
    contract awaiting signatures, a draft preview that is not stored and says it is a draft.

    Uses short sessions of its own rather than the request's, so that no transaction stays open
    while WeasyPrint works."""
    factory = request.app.state.session_factory
    lang = lang if lang in documents.LANGS else "zh"
    async with factory() as session:
        if kind == DocumentKind.contract:
            contract = await contracts.get_contract(session, actor, entity_id)
            if contract.signed_at is None:
                source = await documents.contract_source(session, settings, contract, lang, draft=True)
                await documents.end_read(session)
                data = await documents.render(source, settings)
                return pdf_response(data, f"{contract.number}-draft.pdf", draft=True)
        elif kind == DocumentKind.agreement:
            agreement, _contract = await contracts.get_agreement(session, actor, entity_id)
            if agreement.signed_at is None:
                raise RuleViolation(_("The supplementary agreement is not signed by both parties yet."))
        else:
            invoice, _contract = await billing.get_invoice(session, actor, entity_id)
            kind = DocumentKind(invoice.kind)
        await documents.end_read(session)
    doc = await documents.ensure_document(factory, settings, kind, entity_id, lang)
    data = await documents.read_file(settings, doc.sha256)
    return pdf_response(data, f"{doc.number}.pdf", sha256=doc.sha256)


# --- contracts ------------------------------------------------------------------------------------


async def _contract_out(db: DbSession, settings: Settings, contract: Contract) -> ContractOut:
    return (await views.contracts_out(db, settings, [contract]))[0]


class ContractController(Controller):
    path = "/api/v1/contracts"
    tags = ["contracts"]
    guards = [parties_and_oversight]

    @get("/", summary="Contracts: a party lists its own; the operator and the finance bureau all")
    async def list_contracts(
        self,
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        purchase_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
        status: Annotated[str | None, QueryParameter(max_length=16)] = None,
        flag: Annotated[str | None, QueryParameter(max_length=24, description="e.g. overdue, paid_late")] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Offset = 0,
    ) -> Page[ContractOut]:
        rows, total = await contracts.list_contracts(
            db, actor, settings, purchase_id=purchase_id, status=status, flag=flag, q=q, limit=limit, offset=offset
        )
        return Page[ContractOut](
            items=await views.contracts_out(db, settings, rows), total=total, limit=limit, offset=offset
        )

    @get("/{contract_id:uuid}", summary="One contract, with its flags and documents")
    async def get_contract(
        self, contract_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> ContractOut:
        return await _contract_out(db, settings, await contracts.get_contract(db, actor, contract_id))

    @post("/{contract_id:uuid}/sign", status_code=200, guards=[parties], summary="Sign (records user, time, IP)")
    async def sign(
        self, contract_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> ContractOut:
        contract = await contracts.sign_contract(db, actor, settings, contract_id)
        return await _contract_out(db, settings, contract)

    @post(
        "/{contract_id:uuid}/void",
        status_code=200,
        guards=[parties],
        summary="The owner voids the award: the winner did not sign within the signing period",
        description="Only the owner's approver, only once the signing period is over and only while the firm has "
        "not signed (409 otherwise). The contract stays, void; the firm's credit record gets the refusal; the "
        "purchase reruns among the remaining valid bids with the secret committed with the previous result, "
        "published as a new round (or fails when too few remain).",
    )
    async def void(
        self,
        contract_id: FromPath[uuid.UUID],
        data: JSONBody[VoidIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> ContractOut:
        contract = await contracts.void_contract(db, actor, settings, contract_id, data.reason)
        return await _contract_out(db, settings, contract)

    @get(
        "/{contract_id:uuid}/pdf",
        media_type="application/pdf",
        summary="The contract PDF (identical bytes on every download); a draft preview before signing",
    )
    async def pdf(
        self,
        request: Request[Any, Any, Any],
        contract_id: FromPath[uuid.UUID],
        actor: CurrentActor,
        settings: AppSettings,
        lang: Annotated[str | None, QueryParameter(max_length=5)] = None,
    ) -> Response[bytes]:
        return await serve_pdf(request, settings, actor, DocumentKind.contract, contract_id, lang)

    @get("/{contract_id:uuid}/agreements", summary="Supplementary agreements of the contract")
    async def agreements(
        self, contract_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> list[AgreementOut]:
        contract = await contracts.get_contract(db, actor, contract_id)
        return await views.agreements_out(db, settings, await contracts.agreements_of(db, contract.id))

    @post(
        "/{contract_id:uuid}/agreements", status_code=201, guards=[parties], summary="Propose a supplementary agreement"
    )
    async def propose(
        self,
        contract_id: FromPath[uuid.UUID],
        data: JSONBody[AgreementIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> AgreementOut:
        agreement = await contracts.propose_agreement(
            db, actor, contract_id, text=data.text, new_amount=data.new_amount, extra_days=data.extra_days
        )
        return (await views.agreements_out(db, settings, [agreement]))[0]

    @get("/{contract_id:uuid}/deliveries", summary="Deliveries with their files and decisions")
    async def deliveries(
        self, contract_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
    ) -> list[DeliveryOut]:
        contract = await contracts.get_contract(db, actor, contract_id)
        rows = await delivery.deliveries_of(db, contract.id)
        files = await delivery.files_of(db, [d.id for d in rows])
        return [views.delivery_out(d, files[d.id]) for d in rows]

    @post(
        "/{contract_id:uuid}/deliveries",
        status_code=201,
        guards=[requires_role("provider")],
        request_max_body_size=UPLOAD_REQUEST_LIMIT,
        summary="Submit deliverables (multipart: files = PDF/PNG/JPEG recognised by content, note)",
    )
    async def submit_delivery(
        self,
        request: Request[Any, Any, Any],
        contract_id: FromPath[uuid.UUID],
        data: Annotated[DeliveryForm, Body(media_type=RequestEncodingType.MULTI_PART)],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> Response[Any]:
        note = parse(DeliveryIn, {"note": data.note}).note
        uploads = await read_uploads(data.files)
        too_big = [u.filename for u in uploads if len(u.data) > settings.max_upload_bytes]
        if too_big:
            return too_large(request, settings, too_big[0])
        row = await delivery.submit(db, actor, settings, contract_id, note=note, files=uploads)
        files = await delivery.files_of(db, [row.id])
        return Response(views.delivery_out(row, files[row.id]), status_code=201)

    @get("/{contract_id:uuid}/files/{sha256:str}", media_type="application/octet-stream", summary="A deliverable")
    async def file(
        self,
        contract_id: FromPath[uuid.UUID],
        sha256: FromPath[str],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> Response[bytes]:
        return await serve_delivery_file(db, actor, settings, contract_id, sha256)

    @post("/{contract_id:uuid}/accept", status_code=200, guards=[requires_role("owner")], summary="Accept the delivery")
    async def accept(
        self, contract_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> DeliveryOut:
        row = await delivery.accept(db, actor, contract_id, settings)
        return views.delivery_out(row, (await delivery.files_of(db, [row.id]))[row.id])

    @post(
        "/{contract_id:uuid}/return",
        status_code=200,
        guards=[requires_role("owner")],
        summary="Return the delivery with reasons",
    )
    async def return_(
        self, contract_id: FromPath[uuid.UUID], data: JSONBody[ReasonIn], db: DbSession, actor: CurrentActor
    ) -> DeliveryOut:
        row = await delivery.return_delivery(db, actor, contract_id, data.reason)
        return views.delivery_out(row, (await delivery.files_of(db, [row.id]))[row.id])

    @get("/{contract_id:uuid}/ratings", summary="The ratings given on this contract")
    async def list_ratings(
        self, contract_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
    ) -> list[RatingOut]:
        contract = await contracts.get_contract(db, actor, contract_id)
        return [RatingOut.model_validate(r) for r in await ratings.ratings_of(db, contract.id)]

    @post(
        "/{contract_id:uuid}/ratings",
        status_code=201,
        guards=[parties],
        summary="Rate the other party after acceptance (owner: quality, timeliness, attitude, price; "
        "provider: clarity, payment)",
    )
    async def rate(
        self, contract_id: FromPath[uuid.UUID], data: JSONBody[RatingIn], db: DbSession, actor: CurrentActor
    ) -> RatingOut:
        scores = data.model_dump(exclude={"comment"})
        rating = await ratings.rate(db, actor, contract_id, scores, data.comment)
        return RatingOut.model_validate(rating)

    @get("/{contract_id:uuid}/invoices", summary="Invoices and credit notes of the contract")
    async def list_invoices(
        self, contract_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> list[InvoiceOut]:
        contract = await contracts.get_contract(db, actor, contract_id)
        return await views.invoices_out(db, settings, await billing.invoices_of(db, contract.id))

    @post(
        "/{contract_id:uuid}/invoices",
        status_code=201,
        guards=[requires_role("provider")],
        summary="Issue an invoice (numbered per issuer and year, never above the contract amount)",
    )
    async def issue_invoice(
        self, contract_id: FromPath[uuid.UUID], data: JSONBody[InvoiceIn], db: DbSession, actor: CurrentActor
    ) -> InvoiceCreated:
        invoice = await billing.issue_invoice(
            db, actor, contract_id, amount=data.amount, tax_invoice_no=data.tax_invoice_no
        )
        return InvoiceCreated(id=invoice.id, number=invoice.number)


async def serve_delivery_file(
    db: AsyncSession, actor: Actor, settings: Settings, contract_id: uuid.UUID, sha256: str
) -> Response[bytes]:
    _contract, row = await delivery.get_file(db, actor, contract_id, sha256.lower())
    data = await documents.read_file(settings, row.sha256)
    return Response(
        content=data,
        media_type=row.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename, safe='')}",
            "X-Content-Type-Options": "nosniff",
            "ETag": f'"{row.sha256}"',
        },
    )


async def read_uploads(files: list[UploadFile]) -> list[delivery.Upload]:
    uploads = []
    for item in files:
        content = await item.read()
        uploads.append(delivery.Upload(filename=item.filename or "file", data=content))
    return uploads


def too_large(request: Request[Any, Any, Any], settings: Settings, name: str) -> Response[Any]:
    limit = format(settings.max_upload_bytes / (1024 * 1024), "g")
    message = _("%(name)s is larger than the upload limit of %(limit)s MB.", name=name, limit=limit)
    return problem(request, 413, _("The file is too large."), message, errors=[FieldError("files", message)])


# --- supplementary agreements ---------------------------------------------------------------------


class AgreementController(Controller):
    path = "/api/v1/agreements"
    tags = ["contracts"]
    guards = [parties_and_oversight]

    @get("/{agreement_id:uuid}", summary="One supplementary agreement")
    async def get_agreement(
        self, agreement_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> AgreementOut:
        agreement, _contract = await contracts.get_agreement(db, actor, agreement_id)
        return (await views.agreements_out(db, settings, [agreement]))[0]

    @post("/{agreement_id:uuid}/sign", status_code=200, guards=[parties], summary="Sign a supplementary agreement")
    async def sign(
        self, agreement_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> AgreementOut:
        agreement = await contracts.sign_agreement(db, actor, settings, agreement_id)
        return (await views.agreements_out(db, settings, [agreement]))[0]

    @post("/{agreement_id:uuid}/withdraw", status_code=200, guards=[parties], summary="Withdraw or decline it")
    async def withdraw(
        self,
        agreement_id: FromPath[uuid.UUID],
        data: JSONBody[ReasonIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> AgreementOut:
        agreement = await contracts.withdraw_agreement(db, actor, agreement_id, data.reason)
        return (await views.agreements_out(db, settings, [agreement]))[0]

    @get("/{agreement_id:uuid}/pdf", media_type="application/pdf", summary="The signed agreement's PDF")
    async def pdf(
        self,
        request: Request[Any, Any, Any],
        agreement_id: FromPath[uuid.UUID],
        actor: CurrentActor,
        settings: AppSettings,
        lang: Annotated[str | None, QueryParameter(max_length=5)] = None,
    ) -> Response[bytes]:
        return await serve_pdf(request, settings, actor, DocumentKind.agreement, agreement_id, lang)


# --- invoices -------------------------------------------------------------------------------------


class InvoiceController(Controller):
    path = "/api/v1/invoices"
    tags = ["invoices"]
    guards = [parties_and_oversight]

    @get("/", summary="Invoices: a provider lists those it issued, an owner those it received")
    async def list_invoices(
        self,
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        contract_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Offset = 0,
    ) -> Page[InvoiceOut]:
        rows, total = await billing.list_invoices(db, actor, contract_id=contract_id, limit=limit, offset=offset)
        return Page[InvoiceOut](
            items=await views.invoices_out(db, settings, rows), total=total, limit=limit, offset=offset
        )

    @get("/{invoice_id:uuid}", summary="One invoice or credit note, with what was credited and paid")
    async def get_invoice(
        self, invoice_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> InvoiceOut:
        invoice, _contract = await billing.get_invoice(db, actor, invoice_id)
        return (await views.invoices_out(db, settings, [invoice]))[0]

    @get(
        "/{invoice_id:uuid}/pdf", media_type="application/pdf", summary="The invoice PDF (identical on every download)"
    )
    async def pdf(
        self,
        request: Request[Any, Any, Any],
        invoice_id: FromPath[uuid.UUID],
        actor: CurrentActor,
        settings: AppSettings,
        lang: Annotated[str | None, QueryParameter(max_length=5)] = None,
    ) -> Response[bytes]:
        return await serve_pdf(request, settings, actor, DocumentKind.invoice, invoice_id, lang)

    @post(
        "/{invoice_id:uuid}/credit-notes",
        status_code=201,
        guards=[requires_role("provider")],
        summary="Issue a credit note referring to the invoice (amount defaults to its unpaid remainder)",
    )
    async def credit_note(
        self, invoice_id: FromPath[uuid.UUID], data: JSONBody[CreditNoteIn], db: DbSession, actor: CurrentActor
    ) -> InvoiceCreated:
        note = await billing.issue_credit_note(db, actor, invoice_id, reason=data.reason, amount=data.amount)
        return InvoiceCreated(id=note.id, number=note.number)

    @get("/{invoice_id:uuid}/payments", summary="Payments recorded against the invoice")
    async def payments(self, invoice_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> list[PaymentOut]:
        invoice, _contract = await billing.get_invoice(db, actor, invoice_id)
        return [PaymentOut.model_validate(p) for p in await billing.payments_of(db, [invoice.id])]

    @post(
        "/{invoice_id:uuid}/payments",
        status_code=201,
        guards=[requires_role("owner")],
        summary="Record a payment (overpayment refused)",
    )
    async def pay(
        self,
        invoice_id: FromPath[uuid.UUID],
        data: JSONBody[PaymentIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> PaymentOut:
        payment = await billing.record_payment(
            db, actor, settings, invoice_id, amount=data.amount, paid_on=data.paid_on, reference=data.reference
        )
        return PaymentOut.model_validate(payment)


# --- public ---------------------------------------------------------------------------------------


class PublicDocumentController(Controller):
    path = "/api/v1"
    tags = ["documents"]

    @get("/documents/{sha256:str}", summary="Which document has this SHA-256, and its public summary")
    async def document(self, sha256: FromPath[str], db: DbSession, settings: AppSettings) -> VerifiedOut:
        found = await documents.verify(db, sha256)
        if found is None:
            raise NotFound(
                _("No document with this SHA-256."),
                _("The file is not one the platform issued, or it has been changed."),
            )
        return views.verified_out(found, settings)

    @get("/providers/{provider_id:uuid}/ratings", summary="A provider's ratings: averages and the number of ratings")
    async def provider_ratings(self, provider_id: FromPath[uuid.UUID], db: DbSession) -> RatingSummaryOut:
        return views.rating_summary_out(await ratings.provider_summary(db, provider_id))


class PublicContractController(Controller):
    """Contracts' public summaries (SPEC §1: the public reads them; no sign-in)."""

    path = "/api/v1/contracts"
    tags = ["contracts"]

    @get(
        "/{contract_id:uuid}/summary",
        security=[{}],
        summary="A contract's public summary, readable by anyone once both parties have signed",
        description=(
            "The contract number, the purchase, both organisations' names, the amount in figures and in "
            "Chinese capitals (signed and after supplementary agreements), the signing and due dates, the "
            "status, and the SHA-256 of each rendered PDF with its public verification page. No personal "
            "data: no legal representatives, signers, IP addresses or addresses. A contract not yet signed "
            "by both parties answers 404, exactly like an unknown id."
        ),
        responses={
            404: ResponseSpec(
                data_container=None,
                description="No contract signed by both parties has this id",
                media_type=PROBLEM_JSON,
            )
        },
    )
    async def contract_summary(
        self, contract_id: FromPath[uuid.UUID], db: DbSession, settings: AppSettings
    ) -> ContractSummaryOut:
        contract = await contracts.public_contract(db, contract_id)
        return await views.contract_summary_out(db, settings, contract)


class PublicOwnerController(Controller):
    """Owners have a record too (issue 13.5): public, no sign-in."""

    path = "/api/v1/owners"
    tags = ["owners"]

    @get(
        "/{owner_id:uuid}/record",
        security=[{}],
        summary="An owner's public record: payments, cancellations after opening, direct selections",
        description=(
            "The payment record over the owner's accepted contracts (paid in full, paid within the payment "
            "term, their share of the contracts paid in full or overdue now, the average calendar days from "
            "acceptance to full payment, the contracts and amount overdue now, the outstanding amount), the "
            "purchases it cancelled after their bids were opened (with the operator's approval) and its direct "
            "selections with their written reasons (the latest 20 of each, and the totals). Amounts are the "
            "contracts' invoiced (net of credit notes), paid and outstanding figures shown everywhere. An id "
            "that is not an approved owner answers 404."
        ),
        responses={
            404: ResponseSpec(data_container=None, description="No approved project owner", media_type=PROBLEM_JSON)
        },
    )
    async def owner_record(self, owner_id: FromPath[uuid.UUID], db: DbSession, settings: AppSettings) -> OwnerRecordOut:
        return views.owner_record_out(await owners.owner_record(db, settings, owner_id))


def routes(settings: Settings) -> list[Any]:
    """The package's API routes (the composition root mounts them)."""
    return [
        ContractController,
        PublicOwnerController,
        PublicContractController,
        AgreementController,
        InvoiceController,
        PublicDocumentController,
    ]
