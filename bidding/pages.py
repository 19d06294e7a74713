"""HTML pages of the bidding package. Thin: parse the form, call the service, render or redirect.

Public: announcements list and detail (Q&A, result, draw proof), draw verification.
Provider: eligible open purchases, bid form, my bids with receipts. Owner: drafts, publish,
opened bids, selection, answers, objections. Operator: objections.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding import bids as bid_service
from bidding import presenters, rules, selecting, services
from bidding.models import (
    Funding,
    Method,
    Objection,
    ObjectionStatus,
    Purchase,
    PurchaseStatus,
    Question,
    Selection,
    SelectionStatus,
)
from listings.models import CatalogItem, ItemStatus
from market import clock
from market.actor import Actor
from market.errors import FieldError, InvalidInput
from market.i18n import gettext as _
from market.identity.guards import requires_role
from market.identity.models import Organization, OrgKind, OrgStatus
from market.settings import Settings, get_settings
from market.terms import N_, choices
from market.web.deps import CurrentActor, DbSession
from market.web.forms import ContextBuilder, refusal

S = PurchaseStatus
owner_only = requires_role("owner")
provider_only = requires_role("provider")
admin_only = requires_role("admin")
oversight_or_owner = requires_role("owner", "admin", "finance")
objection_readers = requires_role("admin", "finance")
PAGE = 20

MESSAGES = {
    "drafted": lambda: _("The draft is saved. Check it, then publish it."),
    "saved": lambda: _("The draft is saved."),
    "published": lambda: _("The purchase is published and open for bids."),
    "cancelled": lambda: _("The purchase is cancelled."),
    "republished": lambda: _("A new round is drafted. Set its deadline and publish it."),
    "selected": lambda: _("The result is published; the publicity period has started."),
    "answered": lambda: _("Your answer is published."),
    "asked": lambda: _("Your question is published; the owner answers publicly and never sees who asked."),
    "bid": lambda: _("Your sealed bid is received. Keep the receipt."),
    "withdrawn": lambda: _("Your bid is withdrawn."),
    "explained": lambda: _("Your explanation is recorded."),
    "objected": lambda: _("Your objection is filed. The platform operator decides it in writing."),
    "decided": lambda: _("The decision is recorded."),
}


def _flash(msg: str | None) -> str | None:
    maker = MESSAGES.get(msg or "")
    return maker() if maker else None


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _money(form: dict[str, str], name: str, *, required: bool = True) -> Decimal | None:
    raw = (form.get(name) or "").replace(",", "").replace("¥", "").strip()
    if not raw:
        if required:
            raise InvalidInput.field(name, _("Enter an amount such as 12800.00."))
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput.field(name, _("Enter an amount such as 12800.00.")) from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")) or abs(value) > Decimal("999999999999"):
        raise InvalidInput.field(name, _("Enter an amount such as 12800.00."))
    return value


def _int(form: dict[str, str], name: str, *, required: bool = True) -> int | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        if required:
            raise InvalidInput.field(name, _("Enter a whole number."))
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput.field(name, _("Enter a whole number.")) from None


def _local_datetime(form: dict[str, str], name: str) -> datetime:
    raw = (form.get(name) or "").strip()
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput.field(name, _("Enter a date and time such as 2026-12-31 17:00.")) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.LOCAL_TZ)
    return value


def _local_input(moment: datetime | None) -> str:
    return clock.to_local(moment).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _uuid(raw: str | None, name: str) -> uuid.UUID | None:
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidInput.field(name, _("Choose one of the listed options.")) from None


# --- public -------------------------------------------------------------------------------------


@get("/purchases", include_in_schema=False)
async def announcements(
    request: Request,
    db: DbSession,
    q: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    catalog_code: FromQuery[str | None] = None,
    method: FromQuery[str | None] = None,
    page: FromQuery[int] = 1,
) -> Template:
    page = max(1, page)
    f = services.PurchaseFilter(
        status=status or None,
        q=(q or "").strip()[:100] or None,
        catalog_code=catalog_code or None,
        method=method or None,
    )
    rows, total = await services.list_published(db, f, limit=PAGE, offset=(page - 1) * PAGE)
    items = [{"code": i.code, "name": i.name} for i in await db.scalars(select(CatalogItem).order_by(CatalogItem.code))]
    return Template(
        "bidding/announcements.html",
        context={
            "items": await presenters.summaries(db, rows),
            "total": total,
            "page": page,
            "pages": max(1, (total + PAGE - 1) // PAGE),
            "filters": {
                "q": q or "",
                "status": status or "",
                "catalog_code": catalog_code or "",
                "method": method or "",
            },
            "statuses": [c for c in choices("purchase_status") if c[0] != "draft"],
            "methods": choices("purchase_method"),
            "catalog": items,
        },
    )


async def _detail_context(db: AsyncSession, actor: Actor, p: Purchase) -> dict[str, Any]:
    out = await presenters.purchase_out(db, p)
    result = None
    checks: list[selecting.DrawCheck] = []
    if p.selected_at is not None:
        result = await selecting.public_result(db, p)
        checks = await selecting.verify_purchase(db, p)
    my_bid = None
    eligible = False
    i_objected = False
    if actor.role == "provider" and actor.org_id is not None:
        row = await bid_service.my_active_bid(db, actor, p.id)
        my_bid = presenters.bid_out(row, p) if row else None
        if p.status == S.open:
            eligible = any(e.id == p.id for e in await services.eligible_open(db, actor))
        if p.status == S.publicity:
            current = await services.current_selection(db, p.id)
            i_objected = current is not None and (
                await db.scalar(
                    select(Objection.id).where(
                        Objection.selection_id == current.id, Objection.provider_id == actor.org_id
                    )
                )
                is not None
            )
    avoid_names = await services.names(db, set(out.avoid_provider_ids))
    previous = await db.get(Purchase, p.previous_id) if p.previous_id else None
    next_round = await db.get(Purchase, out.next_round_id) if out.next_round_id else None
    # templates get plain data: a re-rendered form is drawn after the request's rollback
    return {
        "p": out,
        "questions": [presenters.question_out(q) for q in await services.questions(db, p.id)],
        "result": result,
        "checks": checks,
        "my_bid": my_bid,
        "eligible": eligible,
        "i_objected": i_objected,
        "is_owner": services.is_owner(actor, p),
        "avoid_names": [avoid_names.get(i, "") for i in out.avoid_provider_ids],
        "previous": _link(previous),
        "next_round": _link(next_round),
        "now": clock.now(),
    }


def _link(p: Purchase | None) -> dict[str, Any] | None:
    return {"id": p.id, "ref": p.ref} if p is not None and p.status != S.draft else None


def _purchase_brief(p: Purchase) -> dict[str, Any]:
    return {
        "id": p.id,
        "ref": p.ref,
        "title": p.title,
        "status": p.status,
        "explanation_due_at": p.explanation_due_at,
    }


@get("/purchases/{purchase_id:uuid}", include_in_schema=False)
async def announcement(
    request: Request,
    purchase_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    msg: FromQuery[str | None] = None,
) -> Template:
    p = await services.get_purchase(db, actor, purchase_id)
    context = await _detail_context(db, actor, p)
    return Template("bidding/announcement.html", context={**context, "flash": _flash(msg), "form": {}})


def _announcement_again(db: AsyncSession, actor: Actor, purchase_id: uuid.UUID, form: dict[str, Any]) -> ContextBuilder:
    async def build() -> dict[str, Any]:
        p = await services.get_purchase(db, actor, purchase_id)
        return {**await _detail_context(db, actor, p), "form": form}

    return build


@post("/purchases/{purchase_id:uuid}/questions", include_in_schema=False, guards=[provider_only], status_code=303)
async def ask_question(
    request: Request, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
) -> Redirect:
    form = await _form(request)
    async with refusal(db, "bidding/announcement.html", _announcement_again(db, actor, purchase_id, form)):
        await services.ask(db, actor, purchase_id, form.get("question", ""))
    return Redirect(f"/purchases/{purchase_id}?msg=asked#qa", status_code=303)


@post("/purchases/{purchase_id:uuid}/objections", include_in_schema=False, guards=[provider_only], status_code=303)
async def object_page(
    request: Request, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
) -> Redirect:
    form = await _form(request)
    async with refusal(db, "bidding/announcement.html", _announcement_again(db, actor, purchase_id, form)):
        await selecting.file_objection(db, actor, purchase_id, form.get("reason", ""))
    return Redirect(f"/purchases/{purchase_id}?msg=objected#result", status_code=303)


@get("/verify/draw", include_in_schema=False)
async def verify_draw_form(request: Request, ref: FromQuery[str | None] = None) -> Template | Redirect:
    if ref and ref.strip():
        return Redirect(f"/verify/draw/{ref.strip().upper()}")
    return Template("bidding/verify_draw.html", context={"p": None, "checks": [], "ref": ""})


@get("/verify/draw/{ref:str}", include_in_schema=False)
async def verify_draw_page(request: Request, ref: FromPath[str], db: DbSession) -> Template:
    p = await services.get_by_ref(db, ref)
    checks: list[selecting.DrawCheck] = []
    result = None
    if p.selected_at is not None:
        checks = await selecting.verify_purchase(db, p)
        result = await selecting.public_result(db, p)
    return Template(
        "bidding/verify_draw.html",
        context={"p": p, "checks": checks, "ref": p.ref, "result": result},
    )


# --- provider -----------------------------------------------------------------------------------


@get("/workspace/bidding/open", include_in_schema=False, guards=[provider_only])
async def open_for_me(request: Request, db: DbSession, actor: CurrentActor) -> Template:
    rows = await services.eligible_open(db, actor)
    mine = {}
    for p in rows:
        b = await bid_service.my_active_bid(db, actor, p.id)
        if b is not None:
            mine[p.id] = presenters.bid_out(b, p)
    return Template("bidding/provider_open.html", context={"items": await presenters.summaries(db, rows), "mine": mine})


async def _bid_context(db: AsyncSession, actor: Actor, p: Purchase) -> dict[str, Any]:
    row = await bid_service.my_active_bid(db, actor, p.id)
    return {"p": await presenters.purchase_out(db, p), "my_bid": presenters.bid_out(row, p) if row else None}


@get("/workspace/purchases/{purchase_id:uuid}/bid", include_in_schema=False, guards=[provider_only])
async def bid_form(request: Request, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> Template:
    p = await services.get_purchase(db, actor, purchase_id)
    context = await _bid_context(db, actor, p)
    b = context["my_bid"]
    form = {"price": f"{b.price:.2f}", "service_days": str(b.service_days), "note": b.note} if b else {}
    return Template("bidding/bid_form.html", context={**context, "form": form})


@post("/workspace/purchases/{purchase_id:uuid}/bid", include_in_schema=False, guards=[provider_only], status_code=303)
async def bid_submit(
    request: Request, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
) -> Redirect:
    form = await _form(request)

    async def again() -> dict[str, Any]:
        p = await services.get_purchase(db, actor, purchase_id)
        return {**await _bid_context(db, actor, p), "form": form}

    async with refusal(db, "bidding/bid_form.html", again):
        price = _money(form, "price")
        days = _int(form, "service_days")
        assert price is not None and days is not None
        b = await bid_service.submit(db, actor, purchase_id, price=price, service_days=days, note=form.get("note", ""))
    return Redirect(f"/workspace/bids?msg=bid&receipt={b.id}#bid-{b.id}", status_code=303)


@post("/workspace/bids/{bid_id:uuid}/withdraw", include_in_schema=False, guards=[provider_only], status_code=303)
async def bid_withdraw(request: Request, bid_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> Redirect:
    await bid_service.withdraw(db, actor, bid_id)
    return Redirect("/workspace/bids?msg=withdrawn", status_code=303)


async def _my_bids_context(db: AsyncSession, actor: Actor, page: int) -> dict[str, Any]:
    rows, total = await bid_service.mine(db, actor, limit=PAGE, offset=(page - 1) * PAGE)
    winners = set(
        await db.scalars(
            select(Selection.winner_bid_id).where(
                Selection.purchase_id.in_({p.id for _b, p in rows}),
                Selection.status == SelectionStatus.current.value,
            )
        )
    )
    return {
        "rows": [(presenters.bid_out(b, p), _purchase_brief(p)) for b, p in rows],
        "winners": winners,
        "total": total,
        "page": page,
        "pages": max(1, (total + PAGE - 1) // PAGE),
        "now": clock.now(),
        "ratio": f"{get_settings().abnormal_low_ratio * 100:.0f}%",
    }


@get("/workspace/bids", include_in_schema=False, guards=[provider_only])
async def my_bids(
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    msg: FromQuery[str | None] = None,
    receipt: FromQuery[str | None] = None,
    page: FromQuery[int] = 1,
) -> Template:
    context = await _my_bids_context(db, actor, max(1, page))
    return Template("bidding/my_bids.html", context={**context, "flash": _flash(msg), "receipt": receipt, "form": {}})


@post("/workspace/bids/{bid_id:uuid}/explanation", include_in_schema=False, guards=[provider_only], status_code=303)
async def bid_explain(request: Request, bid_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> Redirect:
    form = await _form(request)

    async def again() -> dict[str, Any]:
        context = await _my_bids_context(db, actor, 1)
        return {**context, "form": form, "explain_bid": str(bid_id), "receipt": None}

    async with refusal(db, "bidding/my_bids.html", again):
        await bid_service.explain(db, actor, bid_id, form.get("explanation", ""))
    return Redirect("/workspace/bids?msg=explained", status_code=303)


# --- owner --------------------------------------------------------------------------------------


@get("/workspace/purchases", include_in_schema=False, guards=[owner_only])
async def my_purchases(
    request: Request, db: DbSession, actor: CurrentActor, status: FromQuery[str | None] = None, page: FromQuery[int] = 1
) -> Template:
    page = max(1, page)
    rows, total = await services.list_own(
        db, actor, services.PurchaseFilter(status=status or None), limit=PAGE, offset=(page - 1) * PAGE
    )
    return Template(
        "bidding/owner_purchases.html",
        context={
            "items": await presenters.summaries(db, rows),
            "total": total,
            "page": page,
            "pages": max(1, (total + PAGE - 1) // PAGE),
            "status": status or "",
            "statuses": choices("purchase_status"),
        },
    )


async def _form_context(db: AsyncSession, form: dict[str, Any], purchase: Purchase | None = None) -> dict[str, Any]:
    items = [
        {"code": i.code, "name": i.name, "time_limit_days": i.time_limit_days, "fee_cap": i.fee_cap}
        for i in await db.scalars(
            select(CatalogItem).where(CatalogItem.status == ItemStatus.retained.value).order_by(CatalogItem.code)
        )
    ]
    providers = [
        (org_id, name)
        for org_id, name in await db.execute(
            select(Organization.id, Organization.name)
            .where(Organization.kind == OrgKind.provider.value, Organization.status == OrgStatus.approved.value)
            .order_by(Organization.name)
        )
    ]
    return {
        "form": form,
        "purchase": {"id": purchase.id, "title": purchase.title} if purchase else None,
        "catalog": items,
        "providers": providers,
        "methods": choices("purchase_method"),
        "fundings": choices("funding"),
        "earliest": services.earliest_deadline(clock.now()),
    }


def _purchase_form_input(form: dict[str, str]) -> services.PurchaseInput:
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    for name, parse in (
        ("budget_cap", lambda: _money(form, "budget_cap")),
        ("price_floor", lambda: _money(form, "price_floor", required=False)),
        ("service_days", lambda: _int(form, "service_days")),
        ("min_bids", lambda: _int(form, "min_bids", required=False)),
        ("bid_deadline", lambda: _local_datetime(form, "bid_deadline")),
    ):
        try:
            values[name] = parse()
        except InvalidInput as exc:
            errors.extend(exc.errors)
    method = form.get("method", "")
    weights = None
    if method == Method.scored:
        try:
            weights = rules.Weights(
                _int(form, "weight_price") or 0, _int(form, "weight_quality") or 0, _int(form, "weight_credit") or 0
            )
        except InvalidInput:
            errors.append(FieldError("weights", _("The weights are percentages from 0 to 100 that add up to 100.")))
    avoid: list[uuid.UUID] = []
    for raw in form.get("avoid_provider_ids_list", "").split(","):
        if raw.strip():
            try:
                avoid.append(uuid.UUID(raw.strip()))
            except ValueError:
                errors.append(FieldError("avoid_provider_ids", _("Choose one of the listed options.")))
    if errors:
        raise InvalidInput(_("The purchase is not valid."), _("Correct the fields named below."), errors=errors)
    return services.PurchaseInput(
        title=form.get("title", ""),
        catalog_code=form.get("catalog_code", ""),
        description=form.get("description", ""),
        budget_cap=values["budget_cap"],
        price_floor=values["price_floor"],
        funding=form.get("funding", ""),
        investment_code=form.get("investment_code") or None,
        method=method,
        bid_deadline=values["bid_deadline"],
        service_days=values["service_days"],
        min_bids=values["min_bids"],
        weights=weights,
        avoid_provider_ids=tuple(avoid),
    )


async def _raw_form(request: Request) -> dict[str, str]:
    """The form, with the multi-valued ``avoid_provider_ids`` joined by commas."""
    form = await request.form()
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    data["avoid_provider_ids_list"] = ",".join(v for v in form.getall("avoid_provider_ids", []) if isinstance(v, str))
    return data


@get("/workspace/purchases/new", include_in_schema=False, guards=[owner_only])
async def new_purchase(request: Request, db: DbSession) -> Template:
    earliest = services.earliest_deadline(clock.now())
    suggested = (earliest + timedelta(hours=1)).astimezone(clock.LOCAL_TZ).replace(minute=0, second=0, microsecond=0)
    form = {
        "funding": Funding.fiscal.value,
        "method": Method.random.value,
        "bid_deadline": _local_input(suggested),
        "weight_price": "60",
        "weight_quality": "30",
        "weight_credit": "10",
    }
    return Template("bidding/purchase_form.html", context=await _form_context(db, form))


@post("/workspace/purchases/new", include_in_schema=False, guards=[owner_only], status_code=303)
async def new_purchase_submit(request: Request, db: DbSession, actor: CurrentActor) -> Redirect:
    form = await _raw_form(request)
    async with refusal(db, "bidding/purchase_form.html", lambda: _form_context(db, form)):
        p = await services.create_draft(db, actor, _purchase_form_input(form))
    return Redirect(f"/workspace/purchases/{p.id}?msg=drafted", status_code=303)


def _form_of(p: Purchase, avoid: list[uuid.UUID]) -> dict[str, Any]:
    return {
        "title": p.title,
        "catalog_code": p.catalog_code,
        "description": p.description,
        "budget_cap": f"{p.budget_cap:.2f}",
        "price_floor": f"{p.price_floor:.2f}" if p.price_floor is not None else "",
        "funding": p.funding,
        "investment_code": p.investment_code or "",
        "method": p.method,
        "bid_deadline": _local_input(p.bid_deadline),
        "service_days": str(p.service_days),
        "min_bids": str(p.min_bids),
        "weight_price": str(p.weight_price if p.weight_price is not None else 60),
        "weight_quality": str(p.weight_quality if p.weight_quality is not None else 30),
        "weight_credit": str(p.weight_credit if p.weight_credit is not None else 10),
        "avoid_provider_ids_list": ",".join(str(a) for a in avoid),
    }


@get("/workspace/purchases/{purchase_id:uuid}/edit", include_in_schema=False, guards=[owner_only])
async def edit_purchase(
    request: Request,
    purchase_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    msg: FromQuery[str | None] = None,
) -> Template | Redirect:
    p = await services.owned(db, actor, purchase_id)
    if p.status != S.draft:
        return Redirect(f"/workspace/purchases/{p.id}")
    form = _form_of(p, await services.avoid_ids(db, p.id))
    return Template("bidding/purchase_form.html", context={**await _form_context(db, form, p), "flash": _flash(msg)})


@post("/workspace/purchases/{purchase_id:uuid}/edit", include_in_schema=False, guards=[owner_only], status_code=303)
async def edit_purchase_submit(
    request: Request, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
) -> Redirect:
    form = await _raw_form(request)
    p = await services.owned(db, actor, purchase_id)
    async with refusal(db, "bidding/purchase_form.html", lambda: _form_context(db, form, p)):
        data = _purchase_form_input(form)
        changes = {f: getattr(data, f) for f in data.__dataclass_fields__}
        await services.update_draft(db, actor, purchase_id, changes)
    return Redirect(f"/workspace/purchases/{purchase_id}?msg=saved", status_code=303)


async def _manage_context(db: AsyncSession, actor: Actor, p: Purchase) -> dict[str, Any]:
    context = await _detail_context(db, actor, p)
    opened = None
    if p.opened_at is not None:
        _p, rows = await bid_service.opened(db, actor, p.id)
        opened = await presenters.opened_bid_outs(db, rows)
    objections: list[Any] = []
    if p.selected_at is not None:
        obj_rows, _n = await selecting.list_objections(db, actor, status=None, purchase_id=p.id, limit=100, offset=0)
        objections = await presenters.objection_outs(db, obj_rows)
    waiting = await bid_service.unexplained(db, p.id) if p.status == S.evaluating else 0
    return {
        **context,
        "opened": opened,
        "objections": objections,
        "waiting_explanations": waiting,
        "earliest": services.earliest_deadline(clock.now()),
        "suggested_deadline": _local_input(
            (services.earliest_deadline(clock.now()) + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        ),
    }


@get("/workspace/purchases/{purchase_id:uuid}", include_in_schema=False, guards=[oversight_or_owner])
async def manage(
    request: Request,
    purchase_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    msg: FromQuery[str | None] = None,
) -> Template:
    if actor.role == "owner":
        p = await services.owned(db, actor, purchase_id)
    else:
        p = await services.get_purchase(db, actor, purchase_id)
    context = await _manage_context(db, actor, p)
    return Template("bidding/manage.html", context={**context, "flash": _flash(msg), "form": {}})


async def _owner_action(request: Request, db: AsyncSession, actor: Actor, purchase_id: uuid.UUID, action: Any) -> None:
    form = await _form(request)

    async def again() -> dict[str, Any]:
        p = await services.get_purchase(db, actor, purchase_id)
        return {**await _manage_context(db, actor, p), "form": form}

    async with refusal(db, "bidding/manage.html", again):
        await action(form)


@post("/workspace/purchases/{purchase_id:uuid}/publish", include_in_schema=False, guards=[owner_only], status_code=303)
async def publish_page(
    request: Request, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
) -> Redirect:
    await _owner_action(request, db, actor, purchase_id, lambda form: services.publish(db, actor, purchase_id))
    return Redirect(f"/workspace/purchases/{purchase_id}?msg=published", status_code=303)


@post("/workspace/purchases/{purchase_id:uuid}/cancel", include_in_schema=False, guards=[owner_only], status_code=303)
async def cancel_page(
    request: Request, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
) -> Redirect:
    await _owner_action(
        request, db, actor, purchase_id, lambda form: services.cancel(db, actor, purchase_id, form.get("reason", ""))
    )
    return Redirect(f"/workspace/purchases/{purchase_id}?msg=cancelled", status_code=303)


@post(
    "/workspace/purchases/{purchase_id:uuid}/republish", include_in_schema=False, guards=[owner_only], status_code=303
)
async def republish_page(
    request: Request, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
) -> Redirect:
    created: list[Purchase] = []

    async def action(form: dict[str, str]) -> None:
        deadline = _local_datetime(form, "bid_deadline") if form.get("bid_deadline") else None
        created.append(await services.republish(db, actor, purchase_id, deadline))

    await _owner_action(request, db, actor, purchase_id, action)
    return Redirect(f"/workspace/purchases/{created[0].id}/edit?msg=republished", status_code=303)


@post("/workspace/purchases/{purchase_id:uuid}/select", include_in_schema=False, guards=[owner_only], status_code=303)
async def select_page(
    request: Request, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
) -> Redirect:
    async def action(form: dict[str, str]) -> None:
        marks = {k.removeprefix("mark_"): v for k, v in form.items() if k.startswith("mark_")}
        quality: dict[str, int] | None = None
        if marks:
            quality = {}
            for key, raw in marks.items():
                try:
                    quality[key] = int(raw)
                except ValueError:
                    raise InvalidInput.field(
                        "quality_marks", _("Quality marks are whole numbers from 0 to 100 per bid.")
                    ) from None
        await selecting.select_winner(
            db,
            actor,
            purchase_id,
            bid_id=_uuid(form.get("bid_id"), "bid_id"),
            reason=form.get("reason") or None,
            quality_marks=quality,
        )

    await _owner_action(request, db, actor, purchase_id, action)
    return Redirect(f"/workspace/purchases/{purchase_id}?msg=selected", status_code=303)


@post("/workspace/questions/{question_id:uuid}/answer", include_in_schema=False, guards=[owner_only], status_code=303)
async def answer_page(
    request: Request, question_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
) -> Redirect:
    form = await _form(request)
    question = await db.get(Question, question_id)
    if question is None:
        raise services.not_found()

    async def again() -> dict[str, Any]:
        p = await services.owned(db, actor, question.purchase_id)
        return {**await _manage_context(db, actor, p), "form": form}

    async with refusal(db, "bidding/manage.html", again):
        q = await services.answer(db, actor, question_id, form.get(f"answer_{question_id}", form.get("answer", "")))
    return Redirect(f"/workspace/purchases/{q.purchase_id}?msg=answered#qa", status_code=303)


# --- operator -----------------------------------------------------------------------------------


async def _objections_context(db: AsyncSession, actor: Actor, status: str | None, page: int) -> dict[str, Any]:
    rows, total = await selecting.list_objections(
        db, actor, status=status or None, purchase_id=None, limit=PAGE, offset=(page - 1) * PAGE
    )
    return {
        "items": await presenters.objection_outs(db, rows),
        "total": total,
        "page": page,
        "pages": max(1, (total + PAGE - 1) // PAGE),
        "status": status or "",
        "statuses": choices("objection_status"),
        "can_decide": actor.role == "admin",
    }


@get("/admin/objections", include_in_schema=False, guards=[objection_readers])
async def objections_page(
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    status: FromQuery[str | None] = ObjectionStatus.pending.value,
    page: FromQuery[int] = 1,
    msg: FromQuery[str | None] = None,
) -> Template:
    context = await _objections_context(db, actor, status, max(1, page))
    return Template("bidding/objections.html", context={**context, "flash": _flash(msg), "form": {}})


@post("/admin/objections/{objection_id:uuid}/decide", include_in_schema=False, guards=[admin_only], status_code=303)
async def decide_page(
    request: Request, objection_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
) -> Redirect:
    form = await _form(request)

    async def again() -> dict[str, Any]:
        context = await _objections_context(db, actor, ObjectionStatus.pending.value, 1)
        return {**context, "form": form, "deciding": str(objection_id)}

    async with refusal(db, "bidding/objections.html", again):
        verdict = form.get("verdict")
        if verdict not in ("uphold", "dismiss"):
            raise InvalidInput.field("verdict", _("Choose to uphold or to dismiss the objection."))
        await selecting.decide(db, actor, objection_id, upheld=verdict == "uphold", decision=form.get("decision", ""))
    return Redirect("/admin/objections?msg=decided", status_code=303)


# workspace tiles the composition root shows on each role's dashboard
WORKSPACE_TILES: list[tuple[str, str, str]] = [
    ("provider", "/workspace/bidding/open", N_("Open purchases for my firm")),
    ("provider", "/workspace/bids", N_("My bids and receipts")),
    ("owner", "/workspace/purchases", N_("My purchases")),
    ("owner", "/workspace/purchases/new", N_("Draft a new purchase")),
    ("admin", "/admin/objections", N_("Objections to decide")),
    ("admin", "/purchases", N_("All announcements")),
    ("finance", "/purchases?method=direct", N_("Direct selections")),
    ("finance", "/admin/objections", N_("Objections")),
]


def routes(settings: Settings) -> list[Any]:
    """The package's pages (the composition root mounts them)."""
    return ROUTES


ROUTES = [
    announcements,
    announcement,
    ask_question,
    object_page,
    verify_draw_form,
    verify_draw_page,
    open_for_me,
    bid_form,
    bid_submit,
    bid_withdraw,
    my_bids,
    bid_explain,
    my_purchases,
    new_purchase,
    new_purchase_submit,
    edit_purchase,
    edit_purchase_submit,
    manage,
    publish_page,
    cancel_page,
    republish_page,
    select_page,
    answer_page,
    objections_page,
    decide_page,
]
