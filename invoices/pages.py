"""Pages of the invoices package: contracts with signing, agreements, deliveries, ratings,
invoices and payments in the workspace; the oversight list for the operator and finance; and the
public document verification. Forms work without JavaScript; errors re-render the page."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from invoices import billing, contracts, delivery, documents, ratings, rules, views
from invoices import labels as _labels  # noqa: F401  (registers the vocabularies)
from invoices.api import UPLOAD_REQUEST_LIMIT, read_uploads, serve_delivery_file, serve_pdf
from invoices.models import ContractStatus, DocumentKind, InvoiceKind
from invoices.schemas import DeliveryForm
from market import clock
from market.actor import Actor
from market.errors import InvalidInput
from market.i18n import gettext as _
from market.identity.guards import oversight, requires_role
from market.identity.models import User
from market.money import to_money
from market.settings import Settings
from market.terms import N_
from market.web.deps import AppSettings, CurrentActor, DbSession
from market.web.forms import refusal

WORKSPACE_TILES: list[tuple[str, str, str]] = [
    ("provider", "/workspace/contracts", N_("My contracts")),
    ("provider", "/workspace/invoices", N_("My invoices")),
    ("owner", "/workspace/contracts", N_("My contracts")),
    ("owner", "/workspace/invoices", N_("Invoices received")),
    ("admin", "/finance/contracts", N_("Contracts, delivery and payments")),
    ("finance", "/finance/contracts", N_("Contracts, delivery and payments")),
]

readers = requires_role("owner", "provider", "admin", "finance")
PAGE_SIZE = 25

DONE_MESSAGES = {
    "signed": N_("Your signature has been recorded."),
    "agreement": N_("The supplementary agreement has been proposed; both parties sign it next."),
    "agreement-signed": N_("Your signature on the supplementary agreement has been recorded."),
    "agreement-withdrawn": N_("The supplementary agreement has been withdrawn."),
    "delivered": N_("The deliverables have been submitted."),
    "accepted": N_("The service has been accepted."),
    "returned": N_("The deliverables have been returned with your reasons."),
    "rated": N_("Thank you: your rating has been recorded."),
    "invoiced": N_("The invoice has been issued."),
    "credited": N_("The credit note has been issued."),
    "paid": N_("The payment has been recorded."),
}


def _flash(done: str | None) -> str | None:
    return _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else None


def parse_amount(field: str, text: str | None, *, required: bool = True) -> Decimal | None:
    text = (text or "").strip().replace(",", "").replace("，", "").lstrip("¥￥")
    if not text:
        if required:
            raise InvalidInput.field(field, _("Enter an amount."))
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidInput.field(field, _("Enter an amount such as 12800.00.")) from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise InvalidInput.field(field, _("An amount has at most two decimals."))
    return to_money(value)


def parse_int(field: str, text: str | None, default: int | None = None) -> int | None:
    text = (text or "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise InvalidInput.field(field, _("Enter a whole number.")) from None


def parse_date(field: str, text: str | None) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise InvalidInput.field(field, _("Enter a date as YYYY-MM-DD.")) from None


# --- the contract page ----------------------------------------------------------------------------


async def _names(db: AsyncSession, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    return {row[0]: row[1] for row in await db.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))}


async def contract_context(
    db: AsyncSession, actor: Actor, settings: Settings, contract_id: uuid.UUID
) -> dict[str, Any]:
    c = await contracts.get_contract(db, actor, contract_id)
    side = contracts.side_of(c, actor)
    agreement_rows = await contracts.agreements_of(db, c.id)
    delivery_rows = await delivery.deliveries_of(db, c.id)
    files = await delivery.files_of(db, [d.id for d in delivery_rows])
    rating_rows = await ratings.ratings_of(db, c.id)
    invoice_rows = await billing.invoices_of(db, c.id)
    docs = await views.docs_by_entity(db, DocumentKind.contract.value, [c.id])
    agreement_docs = await views.docs_by_entity(db, DocumentKind.agreement.value, [a.id for a in agreement_rows])
    names = await _names(
        db,
        {c.owner_signed_by, c.provider_signed_by}
        | {a.owner_signed_by for a in agreement_rows}
        | {a.provider_signed_by for a in agreement_rows},
    )
    rated_roles = {r.ratee_role for r in rating_rows}
    my_ratee = None if side is None else ("provider" if side == "owner" else "owner")
    open_agreement = next((a for a in agreement_rows if a.status == "proposed"), None)
    return {
        "c": c,
        "side": side,
        "flags": contracts.flags_of(c, settings),
        "names": names,
        "documents": docs.get(c.id, []),
        "agreements": agreement_rows,
        "agreement_docs": agreement_docs,
        "open_agreement": open_agreement,
        "deliveries": list(reversed(delivery_rows)),
        "files": files,
        "ratings": rating_rows,
        "can_rate": side is not None and c.status == ContractStatus.accepted.value and my_ratee not in rated_roles,
        "my_ratee": my_ratee,
        "criteria": ratings.criteria_for(my_ratee) if my_ratee else (),
        "invoices": await views.invoices_out(db, settings, invoice_rows),
        "remaining": c.amount_current - c.invoiced_total,
        "payment_deadline": contracts.payment_deadline_of(c, settings),
        "days_to_payment": contracts.days_to_payment(c),
        "calendar_days_to_payment": (
            rules.calendar_days_to_payment(c.accepted_at, c.paid_on) if c.accepted_at and c.paid_on else None
        ),
        "max_upload_mb": f"{settings.max_upload_bytes / (1024 * 1024):g}",
    }


@get("/workspace/contracts/{contract_id:uuid}", include_in_schema=False, guards=[readers])
async def contract_page(
    contract_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
    done: FromQuery[str | None] = None,
) -> Template:
    context = await contract_context(db, actor, settings, contract_id)
    return Template("invoices/contract.html", context={**context, "flash": _flash(done)})


async def _act(
    db: AsyncSession,
    actor: Actor,
    settings: Settings,
    contract_id: uuid.UUID,
    action: Callable[[], Awaitable[Any]],
    *,
    done: str,
    anchor: str,
    form: str,
    values: dict[str, Any] | None = None,
) -> Redirect:
    """Run a service call for a form on the contract page; on a refusal, show the page again with
    the error next to the form that caused it (the request rolls back)."""

    async def again() -> dict[str, Any]:
        context = await contract_context(db, actor, settings, contract_id)
        return {**context, "failed_form": form, "values": values or {}}

    async with refusal(db, "invoices/contract.html", again):
        await action()
    return Redirect(path=f"/workspace/contracts/{contract_id}?done={done}#{anchor}", status_code=303)


class CsrfOnly(BaseModel):
    csrf_token: str | None = None


class ReasonForm(BaseModel):
    reason: str = ""
    csrf_token: str | None = None


class AgreementForm(BaseModel):
    text: str = ""
    new_amount: str = ""
    extra_days: str = ""
    csrf_token: str | None = None


class RatingForm(BaseModel):
    quality: str = ""
    timeliness: str = ""
    attitude: str = ""
    price: str = ""
    clarity: str = ""
    payment: str = ""
    comment: str = ""
    csrf_token: str | None = None


class InvoiceForm(BaseModel):
    amount: str = ""
    tax_invoice_no: str = ""
    csrf_token: str | None = None


class CreditNoteForm(BaseModel):
    reason: str = ""
    amount: str = ""
    csrf_token: str | None = None


class PaymentForm(BaseModel):
    amount: str = ""
    paid_on: str = ""
    reference: str = ""
    csrf_token: str | None = None


@post("/workspace/contracts/{contract_id:uuid}/sign", include_in_schema=False, guards=[readers], status_code=303)
async def sign_submit(
    contract_id: FromPath[uuid.UUID],
    data: URLEncodedBody[CsrfOnly],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    return await _act(
        db,
        actor,
        settings,
        contract_id,
        lambda: contracts.sign_contract(db, actor, settings, contract_id),
        done="signed",
        anchor="signatures",
        form="sign",
    )


@post("/workspace/contracts/{contract_id:uuid}/agreements", include_in_schema=False, guards=[readers], status_code=303)
async def agreement_submit(
    contract_id: FromPath[uuid.UUID],
    data: URLEncodedBody[AgreementForm],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    async def action() -> Any:
        return await contracts.propose_agreement(
            db,
            actor,
            contract_id,
            text=data.text,
            new_amount=parse_amount("new_amount", data.new_amount, required=False),
            extra_days=parse_int("extra_days", data.extra_days, 0) or 0,
        )

    return await _act(
        db,
        actor,
        settings,
        contract_id,
        action,
        done="agreement",
        anchor="agreements",
        form="agreement",
        values=data.model_dump(exclude={"csrf_token"}),
    )


async def _agreement_contract(db: AsyncSession, actor: Actor, agreement_id: uuid.UUID) -> uuid.UUID:
    _agreement, contract = await contracts.get_agreement(db, actor, agreement_id)
    return contract.id


@post("/workspace/agreements/{agreement_id:uuid}/sign", include_in_schema=False, guards=[readers], status_code=303)
async def agreement_sign_submit(
    agreement_id: FromPath[uuid.UUID],
    data: URLEncodedBody[CsrfOnly],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    contract_id = await _agreement_contract(db, actor, agreement_id)
    return await _act(
        db,
        actor,
        settings,
        contract_id,
        lambda: contracts.sign_agreement(db, actor, settings, agreement_id),
        done="agreement-signed",
        anchor="agreements",
        form="agreement-sign",
    )


@post("/workspace/agreements/{agreement_id:uuid}/withdraw", include_in_schema=False, guards=[readers], status_code=303)
async def agreement_withdraw_submit(
    agreement_id: FromPath[uuid.UUID],
    data: URLEncodedBody[ReasonForm],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    contract_id = await _agreement_contract(db, actor, agreement_id)
    return await _act(
        db,
        actor,
        settings,
        contract_id,
        lambda: contracts.withdraw_agreement(db, actor, agreement_id, data.reason),
        done="agreement-withdrawn",
        anchor="agreements",
        form="agreement-withdraw",
        values={"reason": data.reason},
    )


@post(
    "/workspace/contracts/{contract_id:uuid}/deliveries",
    include_in_schema=False,
    guards=[readers],
    status_code=303,
    request_max_body_size=UPLOAD_REQUEST_LIMIT,
)
async def delivery_submit(
    contract_id: FromPath[uuid.UUID],
    data: Annotated[DeliveryForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    uploads = await read_uploads(data)
    return await _act(
        db,
        actor,
        settings,
        contract_id,
        lambda: delivery.submit(db, actor, settings, contract_id, note=data.note, files=uploads),
        done="delivered",
        anchor="deliveries",
        form="delivery",
        values={"note": data.note},
    )


@post("/workspace/contracts/{contract_id:uuid}/accept", include_in_schema=False, guards=[readers], status_code=303)
async def accept_submit(
    contract_id: FromPath[uuid.UUID],
    data: URLEncodedBody[CsrfOnly],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    return await _act(
        db,
        actor,
        settings,
        contract_id,
        lambda: delivery.accept(db, actor, contract_id),
        done="accepted",
        anchor="deliveries",
        form="decide",
    )


@post("/workspace/contracts/{contract_id:uuid}/return", include_in_schema=False, guards=[readers], status_code=303)
async def return_submit(
    contract_id: FromPath[uuid.UUID],
    data: URLEncodedBody[ReasonForm],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    return await _act(
        db,
        actor,
        settings,
        contract_id,
        lambda: delivery.return_delivery(db, actor, contract_id, data.reason),
        done="returned",
        anchor="deliveries",
        form="decide",
        values={"reason": data.reason},
    )


@post("/workspace/contracts/{contract_id:uuid}/ratings", include_in_schema=False, guards=[readers], status_code=303)
async def rating_submit(
    contract_id: FromPath[uuid.UUID],
    data: URLEncodedBody[RatingForm],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    async def action() -> Any:
        scores = {
            name: parse_int(name, getattr(data, name)) for name in (*ratings.PROVIDER_CRITERIA, *ratings.OWNER_CRITERIA)
        }
        return await ratings.rate(db, actor, contract_id, scores, data.comment)

    return await _act(
        db,
        actor,
        settings,
        contract_id,
        action,
        done="rated",
        anchor="ratings",
        form="rating",
        values=data.model_dump(exclude={"csrf_token"}),
    )


@post("/workspace/contracts/{contract_id:uuid}/invoices", include_in_schema=False, guards=[readers], status_code=303)
async def invoice_submit(
    contract_id: FromPath[uuid.UUID],
    data: URLEncodedBody[InvoiceForm],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    issued: list[Any] = []

    async def action() -> Any:
        amount = parse_amount("amount", data.amount)
        assert amount is not None
        issued.append(
            await billing.issue_invoice(db, actor, contract_id, amount=amount, tax_invoice_no=data.tax_invoice_no)
        )

    await _act(
        db,
        actor,
        settings,
        contract_id,
        action,
        done="invoiced",
        anchor="invoices",
        form="invoice",
        values=data.model_dump(exclude={"csrf_token"}),
    )
    return Redirect(path=f"/workspace/invoices/{issued[0].id}?done=invoiced", status_code=303)


@get("/workspace/contracts/{contract_id:uuid}/pdf", include_in_schema=False, guards=[readers])
async def contract_pdf(
    request: Request,
    contract_id: FromPath[uuid.UUID],
    actor: CurrentActor,
    settings: AppSettings,
    lang: FromQuery[str | None] = None,
) -> Response[bytes]:
    return await serve_pdf(request, settings, actor, DocumentKind.contract.value, contract_id, lang)


@get("/workspace/agreements/{agreement_id:uuid}/pdf", include_in_schema=False, guards=[readers])
async def agreement_pdf(
    request: Request,
    agreement_id: FromPath[uuid.UUID],
    actor: CurrentActor,
    settings: AppSettings,
    lang: FromQuery[str | None] = None,
) -> Response[bytes]:
    return await serve_pdf(request, settings, actor, DocumentKind.agreement.value, agreement_id, lang)


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
    page: FromQuery[int] = 1,
) -> Template:
    page = max(1, page)
    status = status if status in {s.value for s in ContractStatus} else None
    flag = flag if flag in rules.FLAGS else None
    rows, total = await contracts.list_contracts(
        db, actor, settings, status=status, flag=flag, q=q, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return Template(
        "invoices/contracts.html",
        context={
            "rows": rows,
            "flags": {c.id: contracts.flags_of(c, settings) for c in rows},
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "status": status,
            "flag": flag,
            "q": q or "",
            "statuses": [s.value for s in ContractStatus],
            "all_flags": rules.FLAGS,
        },
    )


@get("/workspace/invoices", include_in_schema=False, guards=[readers])
async def invoices_page(
    db: DbSession, actor: CurrentActor, settings: AppSettings, page: FromQuery[int] = 1
) -> Template:
    page = max(1, page)
    rows, total = await billing.list_invoices(db, actor, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return Template(
        "invoices/invoices.html",
        context={
            "rows": await views.invoices_out(db, settings, rows),
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
        },
    )


async def invoice_context(db: AsyncSession, actor: Actor, settings: Settings, invoice_id: uuid.UUID) -> dict[str, Any]:
    invoice, contract = await billing.get_invoice(db, actor, invoice_id)
    out = (await views.invoices_out(db, settings, [invoice]))[0]
    notes = [i for i in await billing.invoices_of(db, contract.id) if i.credits_invoice_id == invoice.id]
    credited = await db.get(type(invoice), invoice.credits_invoice_id) if invoice.credits_invoice_id else None
    side = contracts.side_of(contract, actor)
    is_invoice = invoice.kind == InvoiceKind.invoice.value
    creditable = (out.outstanding or Decimal("0")) if is_invoice else Decimal("0")
    return {
        "inv": out,
        "c": contract,
        "side": side,
        "credit_notes": await views.invoices_out(db, settings, notes),
        "credited_invoice": credited,
        "payments": await billing.payments_of(db, [invoice.id]) if is_invoice else [],
        "can_credit": side == "provider" and is_invoice and creditable > 0,
        "can_pay": side == "owner" and is_invoice and (out.outstanding or 0) > 0,
        "today": clock.today_local().isoformat(),
    }


@get("/workspace/invoices/{invoice_id:uuid}", include_in_schema=False, guards=[readers])
async def invoice_page(
    invoice_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
    done: FromQuery[str | None] = None,
) -> Template:
    context = await invoice_context(db, actor, settings, invoice_id)
    return Template("invoices/invoice.html", context={**context, "flash": _flash(done)})


async def _invoice_act(
    db: AsyncSession,
    actor: Actor,
    settings: Settings,
    invoice_id: uuid.UUID,
    action: Callable[[], Awaitable[Any]],
    *,
    done: str,
    form: str,
    values: dict[str, Any],
) -> Redirect:
    async def again() -> dict[str, Any]:
        context = await invoice_context(db, actor, settings, invoice_id)
        return {**context, "failed_form": form, "values": values}

    async with refusal(db, "invoices/invoice.html", again):
        result = await action()
    target = result.id if done == "credited" else invoice_id
    return Redirect(path=f"/workspace/invoices/{target}?done={done}", status_code=303)


@post("/workspace/invoices/{invoice_id:uuid}/credit-notes", include_in_schema=False, guards=[readers], status_code=303)
async def credit_note_submit(
    invoice_id: FromPath[uuid.UUID],
    data: URLEncodedBody[CreditNoteForm],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    async def action() -> Any:
        amount = parse_amount("amount", data.amount, required=False)
        return await billing.issue_credit_note(db, actor, invoice_id, reason=data.reason, amount=amount)

    return await _invoice_act(
        db,
        actor,
        settings,
        invoice_id,
        action,
        done="credited",
        form="credit",
        values=data.model_dump(exclude={"csrf_token"}),
    )


@post("/workspace/invoices/{invoice_id:uuid}/payments", include_in_schema=False, guards=[readers], status_code=303)
async def payment_submit(
    invoice_id: FromPath[uuid.UUID],
    data: URLEncodedBody[PaymentForm],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    async def action() -> Any:
        amount = parse_amount("amount", data.amount)
        assert amount is not None
        paid_on = parse_date("paid_on", data.paid_on)
        return await billing.record_payment(
            db, actor, settings, invoice_id, amount=amount, paid_on=paid_on, reference=data.reference
        )

    return await _invoice_act(
        db, actor, settings, invoice_id, action, done="paid", form="pay", values=data.model_dump(exclude={"csrf_token"})
    )


@get("/workspace/invoices/{invoice_id:uuid}/pdf", include_in_schema=False, guards=[readers])
async def invoice_pdf(
    request: Request,
    invoice_id: FromPath[uuid.UUID],
    actor: CurrentActor,
    settings: AppSettings,
    lang: FromQuery[str | None] = None,
) -> Response[bytes]:
    return await serve_pdf(request, settings, actor, DocumentKind.invoice.value, invoice_id, lang)


# --- oversight -----------------------------------------------------------------------------------


@get("/finance/contracts", include_in_schema=False, guards=[oversight])
async def oversight_page(
    db: DbSession, actor: CurrentActor, settings: AppSettings, flag: FromQuery[str | None] = None
) -> Template:
    counts = {}
    for name in rules.FLAGS:
        _rows, counts[name] = await contracts.list_contracts(db, actor, settings, flag=name, limit=1)
    chosen = flag if flag in rules.FLAGS else None
    if chosen:
        rows, total = await contracts.list_contracts(db, actor, settings, flag=chosen, limit=200)
    else:
        # everything flagged for attention now, most urgent first
        seen: dict[uuid.UUID, Any] = {}
        for name in (rules.FLAG_OVERDUE, rules.FLAG_PAYMENT_OVERDUE, rules.FLAG_SIGNING_OVERDUE):
            for row in (await contracts.list_contracts(db, actor, settings, flag=name, limit=200))[0]:
                seen.setdefault(row.id, row)
        rows, total = list(seen.values()), len(seen)
    return Template(
        "invoices/oversight.html",
        context={
            "counts": counts,
            "flag": chosen,
            "rows": rows,
            "total": total,
            "flags": {c.id: contracts.flags_of(c, settings) for c in rows},
            "days_to_payment": {c.id: contracts.days_to_payment(c) for c in rows},
        },
    )


# --- public verification ----------------------------------------------------------------------


@get("/verify/document", include_in_schema=False)
async def verify_form(sha256: FromQuery[str | None] = None) -> Response[Any]:
    if sha256:
        value = sha256.strip().lower()
        if rules.is_sha256(value):
            return Redirect(path=f"/verify/document/{value}", status_code=303)
        return Template(
            "invoices/verify.html",
            context={"found": None, "sha256": sha256, "error": _("A SHA-256 has 64 hexadecimal characters.")},
            status_code=422,
        )
    return Template("invoices/verify.html", context={"found": None, "sha256": None})


VERIFY_UPLOAD_LIMIT = 30 * 1024 * 1024  # public: a document, not a delivery of many files


@post("/verify/document", include_in_schema=False, status_code=303, request_max_body_size=VERIFY_UPLOAD_LIMIT)
async def verify_upload(request: Request) -> Response[Any]:
    """Upload a file to check it: the server computes its SHA-256 and shows what it is (the file
    is not kept)."""
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        return Template(
            "invoices/verify.html",
            context={"found": None, "sha256": None, "error": _("Choose the file to check.")},
            status_code=422,
        )
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
            "url": f"{settings.base_url}/verify/document/{sha256}",
        },
        status_code=200 if found else 404,
    )


def routes(settings: Settings) -> list[Any]:
    """The package's pages (the composition root mounts them)."""
    return ROUTES


ROUTES = [
    contracts_page,
    contract_page,
    sign_submit,
    agreement_submit,
    agreement_sign_submit,
    agreement_withdraw_submit,
    delivery_submit,
    accept_submit,
    return_submit,
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
    verify_form,
    verify_upload,
    verify_page,
]
