"""Pages of the invoices package: contracts with signing, agreements, deliveries, ratings,
invoices and payments in the workspace; the oversight list for the operator and finance; the
public contract summary and the public document verification.

Every form is read with :func:`~market.web.forms.read_form` and parsed into the request schema of
its API twin (:mod:`invoices.api`), so a page refuses exactly what the API refuses; the services
enforce every bound again. A refused form shows its page again (422, the errors next to their
fields); a successful one redirects with its notice (``?done=``)."""

from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from bidding import selecting as bidding_selecting
from bidding.models import Purchase
from invoices import billing, bounds, contracts, delivery, documents, owners, ratings, rules, views
from invoices import labels as _labels  # noqa: F401  (registers the vocabularies)
from invoices.api import UPLOAD_REQUEST_LIMIT, read_uploads, serve_delivery_file, serve_pdf
from invoices.models import AgreementStatus, ContractStatus, DocumentKind, InvoiceKind
from invoices.schemas import AgreementIn, CreditNoteIn, DeliveryIn, InvoiceIn, PaymentIn, RatingIn, ReasonIn, VoidIn
from listings import storage
from market import clock
from market.actor import Actor
from market.errors import DomainError, InvalidInput
from market.i18n import gettext as _
from market.identity.guards import oversight, requires_role
from market.settings import Settings
from market.terms import N_
from market.web.deps import AppSettings, CurrentActor, DbSession, client_ip
from market.web.forms import ContextBuilder, parse, read_form, refusal
from market.web.pages import Pager, Tile, redirect
from market.web.problems import FormInvalid

WORKSPACE_TILES: list[Tile] = [
    ("provider", "/workspace/contracts", N_("My contracts")),
    ("provider", "/workspace/invoices", N_("My invoices")),
    ("owner", "/workspace/contracts", N_("My contracts")),
    ("owner", "/workspace/invoices", N_("Invoices received")),
    ("admin", "/finance/contracts", N_("Contracts, delivery and payments")),
    ("finance", "/finance/contracts", N_("Contracts, delivery and payments")),
]

NOTICES = {
    "contract-signed": N_("Your signature has been recorded."),
    "award-voided": N_("The award has been voided; the result page shows the new round or the failed purchase."),
    "agreement-proposed": N_("The supplementary agreement has been proposed; both parties sign it next."),
    "agreement-signed": N_("Your signature on the supplementary agreement has been recorded."),
    "agreement-withdrawn": N_("The supplementary agreement has been withdrawn."),
    "delivery-submitted": N_("The deliverables have been submitted."),
    "delivery-accepted": N_("The service has been accepted."),
    "delivery-returned": N_("The deliverables have been returned with your reasons."),
    "rating-given": N_("Thank you: your rating has been recorded."),
    "invoice-issued": N_("The invoice has been issued."),
    "credit-note-issued": N_("The credit note has been issued."),
    "payment-recorded": N_("The payment has been recorded."),
}

readers = requires_role("owner", "provider", "admin", "finance")
PAGE_SIZE = 25
CONTRACT_PAGE = "invoices/contract.html"
INVOICE_PAGE = "invoices/invoice.html"


# --- the contract page ----------------------------------------------------------------------------


async def contract_context(
    db: AsyncSession, actor: Actor, settings: Settings, contract_id: uuid.UUID
) -> dict[str, Any]:
    c = await contracts.get_contract(db, actor, contract_id)
    side = contracts.side_of(c, actor)
    agreement_rows = await contracts.agreements_of(db, c.id)
    delivery_rows = await delivery.deliveries_of(db, c.id)
    rating_rows = await ratings.ratings_of(db, c.id)
    rated_roles = {r.ratee_role for r in rating_rows}
    my_ratee = None if side is None else ratings.ratee_of(side)
    signers = [c.owner_signed_by, c.provider_signed_by, c.voided_by]
    may_void = side == "owner" and contracts.may_void(c, clock.now())
    purchase = await db.get(Purchase, c.purchase_id) if may_void else None
    signers += [s for a in agreement_rows for s in (a.owner_signed_by, a.provider_signed_by)]
    return {
        "c": c,
        "side": side,
        "flags": contracts.flags_of(c, settings),
        "names": await documents.user_names(db, *signers),
        "documents": (await views.docs_by_entity(db, DocumentKind.contract, [c.id])).get(c.id, []),
        "agreements": agreement_rows,
        "agreement_docs": await views.docs_by_entity(db, DocumentKind.agreement, [a.id for a in agreement_rows]),
        "open_agreement": next((a for a in agreement_rows if a.status == AgreementStatus.proposed), None),
        "deliveries": list(reversed(delivery_rows)),
        "files": await delivery.files_of(db, [d.id for d in delivery_rows]),
        "ratings": rating_rows,
        "can_rate": side is not None and c.status == ContractStatus.accepted and my_ratee not in rated_roles,
        "my_ratee": my_ratee,
        "criteria": ratings.criteria_for(my_ratee) if my_ratee else (),
        "invoices": await views.invoices_out(db, settings, await billing.invoices_of(db, c.id)),
        "account": contracts.account_of(c),
        "remaining": contracts.account_of(c).uninvoiced,
        "payment_deadline": contracts.payment_deadline_of(c, settings),
        # what accepting now would set (said by the confirmation step before the owner accepts)
        "pay_by_if_accepted": rules.payment_deadline(clock.now(), c.payment_days, settings.accelerator),
        "days_to_payment": contracts.days_to_payment(c),
        "max_upload_mb": f"{settings.max_upload_bytes / (1024 * 1024):g}",
        "max_extra_days": bounds.MAX_EXTRA_DAYS,
        # the winner did not sign in time: what voiding the award would do now
        "may_void": may_void,
        "void_effect": await bidding_selecting.void_effect(db, purchase) if purchase is not None else None,
        "void_reason_min": bounds.VOID_REASON[0],
    }


def _contract_url(contract_id: uuid.UUID, anchor: str) -> str:
    return f"/workspace/contracts/{contract_id}#{anchor}"


@get("/workspace/contracts/{contract_id:uuid}", include_in_schema=False, guards=[readers])
async def contract_page(
    contract_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
) -> Template:
    return Template(CONTRACT_PAGE, context=await contract_context(db, actor, settings, contract_id))


def _again(db: AsyncSession, actor: Actor, settings: Settings, contract_id: uuid.UUID) -> ContextBuilder:
    """The contract page's context, read again after a refused form has been rolled back."""

    async def build() -> dict[str, Any]:
        return await contract_context(db, actor, settings, contract_id)

    return build


@post("/workspace/contracts/{contract_id:uuid}/sign", include_in_schema=False, guards=[readers], status_code=303)
async def sign_submit(
    request: Request[Any, Any, Any],
    contract_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)
    async with refusal(db, CONTRACT_PAGE, _again(db, actor, settings, contract_id), form=form, name="sign"):
        await contracts.sign_contract(db, actor, settings, contract_id)
    return redirect(_contract_url(contract_id, "signatures"), done="contract-signed")


@post("/workspace/contracts/{contract_id:uuid}/void", include_in_schema=False, guards=[readers], status_code=303)
async def void_submit(
    request: Request[Any, Any, Any],
    contract_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)
    async with refusal(db, CONTRACT_PAGE, _again(db, actor, settings, contract_id), form=form, name="void"):
        data = parse(VoidIn, form)
        await contracts.void_contract(db, actor, settings, contract_id, data.reason)
    return redirect(_contract_url(contract_id, "signatures"), done="award-voided")


@post("/workspace/contracts/{contract_id:uuid}/agreements", include_in_schema=False, guards=[readers], status_code=303)
async def agreement_submit(
    request: Request[Any, Any, Any],
    contract_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)
    async with refusal(db, CONTRACT_PAGE, _again(db, actor, settings, contract_id), form=form, name="agreement"):
        data = parse(AgreementIn, form)
        await contracts.propose_agreement(
            db, actor, contract_id, text=data.text, new_amount=data.new_amount, extra_days=data.extra_days
        )
    return redirect(_contract_url(contract_id, "agreements"), done="agreement-proposed")


async def _contract_of_agreement(db: AsyncSession, actor: Actor, agreement_id: uuid.UUID) -> uuid.UUID:
    _agreement, contract = await contracts.get_agreement(db, actor, agreement_id)
    return contract.id


@post("/workspace/agreements/{agreement_id:uuid}/sign", include_in_schema=False, guards=[readers], status_code=303)
async def agreement_sign_submit(
    request: Request[Any, Any, Any],
    agreement_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)
    contract_id = await _contract_of_agreement(db, actor, agreement_id)
    async with refusal(db, CONTRACT_PAGE, _again(db, actor, settings, contract_id), form=form, name="agreement-sign"):
        await contracts.sign_agreement(db, actor, settings, agreement_id)
    return redirect(_contract_url(contract_id, "agreements"), done="agreement-signed")


@post("/workspace/agreements/{agreement_id:uuid}/withdraw", include_in_schema=False, guards=[readers], status_code=303)
async def agreement_withdraw_submit(
    request: Request[Any, Any, Any],
    agreement_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)
    contract_id = await _contract_of_agreement(db, actor, agreement_id)
    build = _again(db, actor, settings, contract_id)
    async with refusal(db, CONTRACT_PAGE, build, form=form, name="agreement-withdraw"):
        data = parse(ReasonIn, form)
        await contracts.withdraw_agreement(db, actor, agreement_id, data.reason)
    return redirect(_contract_url(contract_id, "agreements"), done="agreement-withdrawn")


@post(
    "/workspace/contracts/{contract_id:uuid}/deliveries",
    include_in_schema=False,
    guards=[readers],
    status_code=303,
    request_max_body_size=UPLOAD_REQUEST_LIMIT,
)
async def delivery_submit(
    request: Request[Any, Any, Any],
    contract_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)  # multipart: the files and the note
    client = client_ip(request)
    uploads: list[delivery.Upload] = []

    async def again() -> dict[str, Any]:
        """The page again, keeping the acceptable files sent (as registration keeps its licence):
        held, named by tokens in hidden fields, so they need not be chosen a second time."""
        context = await contract_context(db, actor, settings, contract_id)
        kept: list[storage.Held] = []
        for upload in uploads:
            try:
                kept.append(await storage.hold(settings, client, upload.data, upload.filename, field="files"))
            except DomainError:
                continue  # a file we refuse is not kept: its own error says why
        return context | {"held_files": kept}

    async with refusal(db, CONTRACT_PAGE, again, form=form, name="delivery"):
        uploads.extend(await read_uploads(form.files.get("files", [])))
        digests = {hashlib.sha256(u.data).hexdigest() for u in uploads if u.data}
        uploads[:] = [u for u in uploads if u.data]  # an empty file input sends an empty part
        for token in form.getall("files_held"):
            found = await storage.held(settings, token)
            if found is None:
                raise InvalidInput.field(
                    "files", _("The files you chose before are no longer kept; choose them again.")
                )
            held_file, content = found
            if held_file.sha256 not in digests:
                digests.add(held_file.sha256)
                uploads.append(delivery.Upload(filename=held_file.filename, data=content))
        data = parse(DeliveryIn, form)
        await delivery.submit(db, actor, settings, contract_id, note=data.note, files=list(uploads))
    return redirect(_contract_url(contract_id, "deliveries"), done="delivery-submitted")


@post("/workspace/contracts/{contract_id:uuid}/accept", include_in_schema=False, guards=[readers], status_code=303)
async def accept_submit(
    request: Request[Any, Any, Any],
    contract_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)
    async with refusal(db, CONTRACT_PAGE, _again(db, actor, settings, contract_id), form=form, name="accept"):
        await delivery.accept(db, actor, contract_id, settings)
    return redirect(_contract_url(contract_id, "deliveries"), done="delivery-accepted")


@post("/workspace/contracts/{contract_id:uuid}/return", include_in_schema=False, guards=[readers], status_code=303)
async def return_submit(
    request: Request[Any, Any, Any],
    contract_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)
    async with refusal(db, CONTRACT_PAGE, _again(db, actor, settings, contract_id), form=form, name="return"):
        data = parse(ReasonIn, form)
        await delivery.return_delivery(db, actor, contract_id, data.reason)
    return redirect(_contract_url(contract_id, "deliveries"), done="delivery-returned")


@post("/workspace/contracts/{contract_id:uuid}/ratings", include_in_schema=False, guards=[readers], status_code=303)
async def rating_submit(
    request: Request[Any, Any, Any],
    contract_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)
    async with refusal(db, CONTRACT_PAGE, _again(db, actor, settings, contract_id), form=form, name="rating"):
        data = parse(RatingIn, form)
        await ratings.rate(db, actor, contract_id, data.model_dump(exclude={"comment"}), data.comment)
    return redirect(_contract_url(contract_id, "ratings"), done="rating-given")


@post("/workspace/contracts/{contract_id:uuid}/invoices", include_in_schema=False, guards=[readers], status_code=303)
async def invoice_submit(
    request: Request[Any, Any, Any],
    contract_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)
    async with refusal(db, CONTRACT_PAGE, _again(db, actor, settings, contract_id), form=form, name="invoice"):
        data = parse(InvoiceIn, form)
        invoice = await billing.issue_invoice(
            db, actor, contract_id, amount=data.amount, tax_invoice_no=data.tax_invoice_no
        )
    return redirect(f"/workspace/invoices/{invoice.id}", done="invoice-issued")


@get("/workspace/contracts/{contract_id:uuid}/pdf", include_in_schema=False, guards=[readers])
async def contract_pdf(
    request: Request[Any, Any, Any],
    contract_id: FromPath[uuid.UUID],
    actor: CurrentActor,
    settings: AppSettings,
    lang: FromQuery[str | None] = None,
) -> Response[bytes]:
    return await serve_pdf(request, settings, actor, DocumentKind.contract, contract_id, lang)


@get("/workspace/agreements/{agreement_id:uuid}/pdf", include_in_schema=False, guards=[readers])
async def agreement_pdf(
    request: Request[Any, Any, Any],
    agreement_id: FromPath[uuid.UUID],
    actor: CurrentActor,
    settings: AppSettings,
    lang: FromQuery[str | None] = None,
) -> Response[bytes]:
    return await serve_pdf(request, settings, actor, DocumentKind.agreement, agreement_id, lang)


@get("/workspace/contracts/{contract_id:uuid}/files/{sha256:str}", include_in_schema=False, guards=[readers])
async def delivery_file(
    contract_id: FromPath[uuid.UUID], sha256: FromPath[str], db: DbSession, actor: CurrentActor, settings: AppSettings
) -> Response[bytes]:
    return await serve_delivery_file(db, actor, settings, contract_id, sha256)


# --- lists ---------------------------------------------------------------------------------------


@get("/workspace/contracts", include_in_schema=False, guards=[readers])
async def contracts_page(
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
    status: FromQuery[str | None] = None,
    flag: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template:
    pager = Pager.of(page, PAGE_SIZE)
    status = status if status in {s.value for s in ContractStatus} else None
    flag = flag if flag in rules.FLAGS else None
    rows, total = await contracts.list_contracts(
        db, actor, settings, status=status, flag=flag, q=q, limit=pager.limit, offset=pager.offset
    )
    return Template(
        "invoices/contracts.html",
        context={
            **pager.context(total),
            "rows": rows,
            "flags": {c.id: contracts.flags_of(c, settings) for c in rows},
            "status": status,
            "flag": flag,
            "q": q or "",
            "statuses": [s.value for s in ContractStatus],
            "all_flags": rules.FLAGS,
        },
    )


@get("/workspace/invoices", include_in_schema=False, guards=[readers])
async def invoices_page(
    db: DbSession, actor: CurrentActor, settings: AppSettings, page: FromQuery[str | None] = None
) -> Template:
    pager = Pager.of(page, PAGE_SIZE)
    rows, total = await billing.list_invoices(db, actor, limit=pager.limit, offset=pager.offset)
    return Template(
        "invoices/invoices.html",
        context={**pager.context(total), "rows": await views.invoices_out(db, settings, rows)},
    )


# --- the invoice page -------------------------------------------------------------------------------


async def invoice_context(db: AsyncSession, actor: Actor, settings: Settings, invoice_id: uuid.UUID) -> dict[str, Any]:
    invoice, contract = await billing.get_invoice(db, actor, invoice_id)
    out = (await views.invoices_out(db, settings, [invoice]))[0]
    notes = [i for i in await billing.invoices_of(db, contract.id) if i.credits_invoice_id == invoice.id]
    credited = await db.get(type(invoice), invoice.credits_invoice_id) if invoice.credits_invoice_id else None
    side = contracts.side_of(contract, actor)
    is_invoice = invoice.kind == InvoiceKind.invoice
    outstanding = (out.outstanding or Decimal("0")) if is_invoice else Decimal("0")
    return {
        "inv": out,
        "c": contract,
        "side": side,
        "credit_notes": await views.invoices_out(db, settings, notes),
        "credited_invoice": credited,
        "payments": await billing.payments_of(db, [invoice.id]) if is_invoice else [],
        "can_credit": side == "provider" and outstanding > 0,
        "can_pay": side == "owner" and outstanding > 0,
        "today": clock.today_local().isoformat(),
    }


@get("/workspace/invoices/{invoice_id:uuid}", include_in_schema=False, guards=[readers])
async def invoice_page(
    invoice_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
) -> Template:
    return Template(INVOICE_PAGE, context=await invoice_context(db, actor, settings, invoice_id))


def _invoice_again(db: AsyncSession, actor: Actor, settings: Settings, invoice_id: uuid.UUID) -> ContextBuilder:
    async def build() -> dict[str, Any]:
        return await invoice_context(db, actor, settings, invoice_id)

    return build


@post("/workspace/invoices/{invoice_id:uuid}/credit-notes", include_in_schema=False, guards=[readers], status_code=303)
async def credit_note_submit(
    request: Request[Any, Any, Any],
    invoice_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)
    async with refusal(db, INVOICE_PAGE, _invoice_again(db, actor, settings, invoice_id), form=form, name="credit"):
        data = parse(CreditNoteIn, form)
        note = await billing.issue_credit_note(db, actor, invoice_id, reason=data.reason, amount=data.amount)
    return redirect(f"/workspace/invoices/{note.id}", done="credit-note-issued")


@post("/workspace/invoices/{invoice_id:uuid}/payments", include_in_schema=False, guards=[readers], status_code=303)
async def payment_submit(
    request: Request[Any, Any, Any],
    invoice_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)
    async with refusal(db, INVOICE_PAGE, _invoice_again(db, actor, settings, invoice_id), form=form, name="pay"):
        data = parse(PaymentIn, form)
        await billing.record_payment(
            db, actor, settings, invoice_id, amount=data.amount, paid_on=data.paid_on, reference=data.reference
        )
    return redirect(f"/workspace/invoices/{invoice_id}#payments", done="payment-recorded")


@get("/workspace/invoices/{invoice_id:uuid}/pdf", include_in_schema=False, guards=[readers])
async def invoice_pdf(
    request: Request[Any, Any, Any],
    invoice_id: FromPath[uuid.UUID],
    actor: CurrentActor,
    settings: AppSettings,
    lang: FromQuery[str | None] = None,
) -> Response[bytes]:
    return await serve_pdf(request, settings, actor, DocumentKind.invoice, invoice_id, lang)


# --- oversight -----------------------------------------------------------------------------------


@get("/finance/contracts", include_in_schema=False, guards=[oversight])
async def oversight_page(
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
    flag: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template:
    pager = Pager.of(page, PAGE_SIZE)
    counts = await contracts.flag_counts(db, actor, settings)
    chosen = flag if flag in rules.FLAGS else None
    if chosen:
        rows, total = await contracts.list_contracts(
            db, actor, settings, flag=chosen, limit=pager.limit, offset=pager.offset
        )
    else:
        rows, total = await contracts.needing_attention(db, actor, settings, limit=pager.limit, offset=pager.offset)
    return Template(
        "invoices/oversight.html",
        context={
            **pager.context(total),
            "counts": counts,
            "flag": chosen,
            "rows": rows,
            "flags": {c.id: contracts.flags_of(c, settings) for c in rows},
            "days_to_payment": {c.id: contracts.days_to_payment(c) for c in rows},
            "accounts": {c.id: contracts.account_of(c) for c in rows},
        },
    )


# --- public: the contract summary and document verification -----------------------------------------


@get("/contracts/{contract_id:uuid}", include_in_schema=False)
async def contract_summary_page(
    contract_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
) -> Template:
    """The public summary of a contract signed by both parties (404 before, like an unknown id)."""
    contract = await contracts.public_contract(db, contract_id)
    return Template(
        "invoices/summary.html",
        context={
            "s": await views.contract_summary_out(db, settings, contract),
            "workspace": contracts.can_read(contract, actor),
        },
    )


def _verify_refused(name: str, field: str, message: str, form: dict[str, str]) -> FormInvalid:
    """The verification page again, with the error next to the field of the form ``name``."""
    context = {"found": None, "sha256": None, "form": form, "failed_form": name}
    return FormInvalid("invoices/verify.html", context, InvalidInput.field(field, message))


@get("/verify/document", include_in_schema=False)
async def verify_form(sha256: FromQuery[str | None] = None) -> Response[Any]:
    if sha256:
        value = sha256.strip().lower()
        if not rules.is_sha256(value):
            message = _("A SHA-256 has 64 hexadecimal characters.")
            raise _verify_refused("check", "sha256", message, {"sha256": sha256})
        return Redirect(path=f"/verify/document/{value}", status_code=303)
    return Template("invoices/verify.html", context={"found": None, "sha256": None})


VERIFY_UPLOAD_LIMIT = 30 * 1024 * 1024  # public: a document, not a delivery of many files


@post("/verify/document", include_in_schema=False, status_code=303, request_max_body_size=VERIFY_UPLOAD_LIMIT)
async def verify_upload(request: Request[Any, Any, Any]) -> Response[Any]:
    """Upload a file to check it: the server computes its SHA-256 and shows what it is (the file
    is not kept)."""
    upload = (await read_form(request)).file("file")
    if upload is None:
        raise _verify_refused("upload", "file", _("Choose the file to check."), {})
    data = await upload.read()
    return Redirect(path=f"/verify/document/{hashlib.sha256(data).hexdigest()}", status_code=303)


@get("/verify/document/{sha256:str}", include_in_schema=False)
async def verify_page(sha256: FromPath[str], db: DbSession, settings: AppSettings) -> Template:
    found = await documents.verify(db, sha256)
    return Template(
        "invoices/verify.html",
        context={
            "found": found,
            "sha256": sha256,
            "summary": found.summary if found else None,
            "url": views.verify_url(settings, sha256),
        },
        status_code=200 if found else 404,
    )


@get("/owners/{owner_id:uuid}", include_in_schema=False)
async def owner_page(owner_id: FromPath[uuid.UUID], db: DbSession, settings: AppSettings) -> Template:
    """An owner's public record (issue 13.5), linked from its purchases' announcements."""
    record = await owners.owner_record(db, settings, owner_id)
    return Template(
        "invoices/owner.html",
        context={
            "r": record,
            "pay": record.payment,
            "share": record.payment.share_within_term,
            "limit": owners.LIST_LIMIT,
        },
    )


def routes(settings: Settings) -> list[Any]:
    """The package's pages (the composition root mounts them)."""
    return [
        owner_page,
        contracts_page,
        contract_page,
        sign_submit,
        agreement_submit,
        agreement_sign_submit,
        agreement_withdraw_submit,
        delivery_submit,
        accept_submit,
        return_submit,
        void_submit,
        rating_submit,
        invoice_submit,
        contract_pdf,
        agreement_pdf,
        delivery_file,
        invoices_page,
        invoice_page,
        credit_note_submit,
        payment_submit,
        invoice_pdf,
        oversight_page,
        contract_summary_page,
        verify_form,
        verify_upload,
        verify_page,
    ]
