"""HTML pages of the bidding package. Thin: read the form, parse it into the request schema of the
API route it mirrors, call the service, redirect with a notice — or, when the input or a rule
refuses it, show the page again with the errors next to their fields (422).

Public: announcements list and detail (Q&A, result, draw proof), draw verification.
Provider: eligible open purchases, bid form, my bids with receipts. Owner: drafts, publish,
opened bids, selection, answers, objections. Operator: objections.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bidding import bids as bid_service
from bidding import (
    cancellation,
    clarifications,
    drafts,
    notices,
    presenters,
    purchases,
    queries,
    scoring,
    selecting,
    timeline,
)
from bidding import vocab as _vocab  # noqa: F401  (registers the labels of the coded values)
from bidding.models import (
    CancellationStatus,
    Funding,
    Method,
    Objection,
    ObjectionStatus,
    Purchase,
    PurchaseStatus,
    Question,
)
from bidding.schemas import (
    AnswerIn,
    BidIn,
    CancellationDecideIn,
    ChangeNoticeIn,
    ChangeNoticeOut,
    DecideIn,
    ExplanationIn,
    MarkIn,
    ObjectionIn,
    PurchaseCreate,
    PurchaseUpdate,
    QuestionIn,
    ReasonIn,
    RepublishIn,
    SelectIn,
)
from listings import credit
from listings.credit_rules import grade_at_least
from listings.models import CatalogItem, ItemStatus
from market import clock
from market.actor import Actor
from market.i18n import format_datetime, format_money
from market.identity.guards import requires_role
from market.identity.models import Organization, OrgKind, OrgStatus
from market.settings import Settings
from market.terms import N_, choices
from market.web import etag
from market.web.deps import AppSettings, CurrentActor, DbSession
from market.web.forms import FormData, parse, read_form, refusal
from market.web.pages import Pager, Tile, redirect

S = PurchaseStatus
owner_only = requires_role("owner")
provider_only = requires_role("provider")
admin_only = requires_role("admin")
oversight_or_owner = requires_role("owner", "admin", "finance")
objection_readers = requires_role("admin", "finance")
PAGE = 20

# what a page says after a successful form (``?done=KEY``)
NOTICES = {
    "purchase-drafted": N_("The draft is saved. Check it, then publish it."),
    "draft-saved": N_("The draft is saved."),
    "purchase-published": N_("The purchase is published and open for bids."),
    "purchase-cancelled": N_("The purchase is cancelled."),
    "cancellation-requested": N_("Your request to cancel is sent; the operator decides it in writing."),
    "cancellation-decided": N_("The decision on the cancellation is recorded and published."),
    "change-notice-published": N_("The change notice is published with the purchase; bidders and askers are told."),
    "bid-confirmed": N_("Your bid is confirmed for the changed terms; its receipt stays valid."),
    "round-drafted": N_("A new round is drafted. Set its deadline and publish it."),
    "result-published": N_("The result is published; the publicity period has started."),
    "answer-published": N_("Your answer is published."),
    "question-asked": N_("Your question is published; the owner answers publicly and never sees who asked."),
    "bid-received": N_("Your sealed bid is received. Keep the receipt."),
    "bid-withdrawn": N_("Your bid is withdrawn."),
    "bid-draft-saved": N_("The bid draft is saved. Only your firm sees it; an approver reviews and submits it."),
    "bid-draft-discarded": N_("The bid draft is discarded."),
    "price-explained": N_("Your explanation is recorded."),
    "objection-filed": N_("Your objection is filed. The platform operator decides it in writing."),
    "objection-decided": N_("The decision is recorded."),
    "mark-saved": N_("The quality mark and its reason are saved; you may change them until you lock the marks."),
    "marks-locked": N_("The quality marks are locked and the prices are opened. Run the selection."),
}

# workspace tiles the composition root shows on each role's dashboard
WORKSPACE_TILES: list[Tile] = [
    ("provider", "/workspace/bidding/open", N_("Open purchases for my firm")),
    ("provider", "/workspace/bids", N_("My bids and receipts")),
    ("owner", "/workspace/purchases", N_("My purchases")),
    ("owner", "/workspace/purchases/new", N_("Draft a new purchase")),
    ("admin", "/admin/objections", N_("Objections to decide")),
    ("admin", "/admin/cancellations", N_("Cancellation requests to decide")),
    ("admin", "/purchases", N_("All announcements")),
    ("finance", "/purchases?method=direct", N_("Direct selections")),
    ("finance", "/admin/objections", N_("Objections")),
    ("finance", "/admin/cancellations", N_("Cancellations after the deadline")),
]


def _local_input(moment: datetime | None) -> str:
    """A moment as a ``datetime-local`` field shows it (China time)."""
    return clock.to_local(moment).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _suggested_deadline(settings: Settings) -> str:
    """The first whole hour after the earliest deadline allowed now."""
    earliest = purchases.earliest_deadline(settings, clock.now()) + timedelta(hours=1)
    return _local_input(clock.to_local(earliest).replace(minute=0, second=0, microsecond=0))


# the amended terms as a change notice lists them
CHANGED_FIELDS = {
    "description": N_("Scope of the service"),
    "budget_cap": N_("Price cap"),
    "bid_deadline": N_("Bid deadline"),
    "service_days": N_("Service days"),
}


def _shown(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "budget_cap":
        return format_money(Decimal(str(value)))
    if name == "bid_deadline":
        return format_datetime(datetime.fromisoformat(str(value)))
    return str(value)


def _notices_view(items: list[ChangeNoticeOut]) -> list[dict[str, Any]]:
    """The change notices as the pages show them: each change's label, before and after."""
    return [
        {
            "seq": n.seq,
            "published_at": n.published_at,
            "reason": n.reason,
            "material": n.material,
            "changes": [
                {
                    "field": c.field,
                    "label": CHANGED_FIELDS.get(c.field, c.field),
                    "before": _shown(c.field, c.before),
                    "after": _shown(c.field, c.after),
                }
                for c in n.changes
            ],
        }
        for n in items
    ]


# --- public -------------------------------------------------------------------------------------


@get("/purchases", include_in_schema=False)
async def announcements(
    request: Request[Any, Any, Any],
    db: DbSession,
    settings: AppSettings,
    q: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    catalog_code: FromQuery[str | None] = None,
    method: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template | Response[Any]:
    validator = await etag.check(request, db)
    if validator.fresh:
        return validator.not_modified()
    pager = Pager.of(page, PAGE)
    f = queries.PurchaseFilter(
        status=status or None,
        q=(q or "").strip()[:100] or None,
        catalog_code=catalog_code or None,
        method=method or None,
    )
    rows, total = await queries.list_published(
        db, settings, f, limit=pager.limit, offset=pager.offset, head=validator.head
    )
    catalog = await db.execute(select(CatalogItem.code, CatalogItem.name).order_by(col(CatalogItem.code)))
    return Template(
        "bidding/announcements.html",
        context={
            **pager.context(total),
            "items": await presenters.summaries(db, rows),
            "form": {"q": q or "", "status": status or "", "catalog_code": catalog_code or "", "method": method or ""},
            "statuses": [c for c in choices("purchase_status") if c[0] != S.draft],
            "methods": choices("purchase_method"),
            "catalog": [(code, f"{code} {name}") for code, name in catalog.all()],
        },
        headers=validator.headers(),
    )


async def _detail_context(db: AsyncSession, settings: Settings, actor: Actor, p: Purchase) -> dict[str, Any]:
    """What the announcement and the owner's page show: plain data, so that a page shown again
    after a refused form needs no row of the rolled-back attempt."""
    out = await presenters.purchase_out(db, p)
    result = None
    checks: list[selecting.DrawCheck] = []
    if p.selected_at is not None:
        result = await selecting.public_result(db, p)
        checks = await selecting.verify_purchase(db, p)
    my_bid = None
    my_outcome = None
    eligible = False
    my_grade = None  # the firm's credit grade when it is below the purchase's minimum
    i_objected = False
    if actor.role == "provider" and actor.org_id is not None:
        row = await bid_service.my_active_bid(db, actor, p.id)
        my_bid = presenters.bid_out(row, p) if row else None
        if my_bid is not None and row is not None and p.status == S.open:
            my_bid.awaiting_confirmation = await notices.needs_confirmation(db, p, row)
        latest = await bid_service.my_latest_bid(db, actor, p.id)
        my_outcome = (await presenters.bid_outs(db, [(latest, p)]))[0] if latest else None
        if p.status == S.open:
            eligible = await queries.may_bid_on(db, actor, p)
            if eligible and p.min_grade is not None:
                mine = await credit.standing(db, actor.org_id, clock.now())
                if not grade_at_least(mine.grade, p.min_grade):
                    eligible, my_grade = False, mine.grade
        if p.status == S.publicity:
            current = await timeline.current_selection(db, p.id)
            i_objected = current is not None and (
                await db.scalar(
                    select(Objection.id).where(
                        col(Objection.selection_id) == current.id, col(Objection.provider_id) == actor.org_id
                    )
                )
                is not None
            )
    avoid_names = await queries.names(db, set(out.avoid_provider_ids))
    previous = await db.get(Purchase, p.previous_id) if p.previous_id else None
    next_round = await db.get(Purchase, out.next_round_id) if out.next_round_id else None
    if result is not None:
        commitments = result["commitments"]
    elif p.draw_commitment and p.status in (S.open, S.evaluating):
        commitments = [{"round": 1, "commitment": p.draw_commitment, "published_with_round": None, "drawn": False}]
    else:
        commitments = []
    return {
        "p": out,
        "change_notices": _notices_view(out.change_notices),
        "commitments": commitments,
        "questions": [presenters.question_out(q) for q in await clarifications.questions(db, p.id)],
        "result": result,
        "checks": checks,
        "my_bid": my_bid,
        "my_outcome": my_outcome,
        "eligible": eligible,
        "my_grade": my_grade,
        "i_objected": i_objected,
        "is_owner": purchases.is_owner(actor, p),
        "avoid_names": [avoid_names.get(i, "") for i in out.avoid_provider_ids],
        "previous": _link(previous),
        "next_round": _link(next_round),
    }


def _link(p: Purchase | None) -> dict[str, Any] | None:
    return {"id": p.id, "ref": p.ref} if p is not None and p.status != S.draft else None


@get("/purchases/{purchase_id:uuid}", include_in_schema=False)
async def announcement(
    purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
) -> Template:
    p = await purchases.get_purchase(db, settings, actor, purchase_id)
    return Template("bidding/announcement.html", context=await _detail_context(db, settings, actor, p))


async def _public_form(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    settings: Settings,
    actor: Actor,
    purchase_id: uuid.UUID,
    name: str,
) -> tuple[FormData, AbstractAsyncContextManager[None]]:
    """A form of the announcement page, and the refusal that shows that page again."""
    form = await read_form(request)

    async def again() -> dict[str, Any]:
        p = await purchases.get_purchase(db, settings, actor, purchase_id)
        return await _detail_context(db, settings, actor, p)

    return form, refusal(db, "bidding/announcement.html", again, form=form, name=name)


@post("/purchases/{purchase_id:uuid}/questions", include_in_schema=False, guards=[provider_only], status_code=303)
async def ask_question(
    request: Request[Any, Any, Any],
    purchase_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form, refused = await _public_form(request, db, settings, actor, purchase_id, "question")
    async with refused:
        data = parse(QuestionIn, form)
        await clarifications.ask(db, actor, settings, purchase_id, data.question)
    return redirect(f"/purchases/{purchase_id}#qa", done="question-asked")


@post("/purchases/{purchase_id:uuid}/objections", include_in_schema=False, guards=[provider_only], status_code=303)
async def object_page(
    request: Request[Any, Any, Any],
    purchase_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form, refused = await _public_form(request, db, settings, actor, purchase_id, "objection")
    async with refused:
        data = parse(ObjectionIn, form)
        await selecting.file_objection(db, actor, settings, purchase_id, data.reason)
    return redirect(f"/purchases/{purchase_id}#result", done="objection-filed")


@get("/verify/draw", include_in_schema=False)
async def verify_draw_form(ref: FromQuery[str | None] = None) -> Template | Redirect:
    if ref and ref.strip():
        return Redirect(f"/verify/draw/{ref.strip().upper()}")
    return Template("bidding/verify_draw.html", context={"p": None, "checks": [], "ref": ""})


@get("/verify/draw/{ref:str}", include_in_schema=False)
async def verify_draw_page(ref: FromPath[str], db: DbSession, settings: AppSettings) -> Template:
    p = await purchases.get_by_ref(db, settings, ref)
    checks = await selecting.verify_purchase(db, p) if p.selected_at is not None else []
    return Template("bidding/verify_draw.html", context={"p": p, "checks": checks, "ref": p.ref})


# --- provider -----------------------------------------------------------------------------------


@get("/workspace/bidding/open", include_in_schema=False, guards=[provider_only])
async def open_for_me(
    db: DbSession, actor: CurrentActor, settings: AppSettings, page: FromQuery[str | None] = None
) -> Template:
    pager = Pager.of(page, PAGE)
    rows, total = await queries.eligible_open(db, actor, settings, limit=pager.limit, offset=pager.offset)
    bids = await bid_service.my_active_bids(db, actor, [p.id for p in rows])
    mine = {p.id: presenters.bid_out(bids[p.id], p) for p in rows if p.id in bids}
    return Template(
        "bidding/provider_open.html",
        context={"items": await presenters.summaries(db, rows), "mine": mine, **pager.context(total)},
    )


async def _bid_context(db: AsyncSession, settings: Settings, actor: Actor, purchase_id: uuid.UUID) -> dict[str, Any]:
    p = await purchases.get_purchase(db, settings, actor, purchase_id)
    row = await bid_service.my_active_bid(db, actor, p.id)
    draft = await drafts.current(db, actor, p.id)
    return {
        "p": await presenters.purchase_out(db, p),
        "my_bid": presenters.bid_out(row, p) if row else None,
        "draft": await presenters.bid_draft_out(db, draft) if draft else None,
    }


@get("/workspace/purchases/{purchase_id:uuid}/bid", include_in_schema=False, guards=[provider_only])
async def bid_form(
    purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
) -> Template:
    context = await _bid_context(db, settings, actor, purchase_id)
    b = context["draft"] or context["my_bid"]  # the draft under review, else the bid it replaces
    form = {"price": f"{b.price:.2f}", "service_days": str(b.service_days), "note": b.note} if b else {}
    return Template("bidding/bid_form.html", context={**context, "form": form})


@post("/workspace/purchases/{purchase_id:uuid}/bid", include_in_schema=False, guards=[provider_only], status_code=303)
async def bid_submit(
    request: Request[Any, Any, Any],
    purchase_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)

    async def again() -> dict[str, Any]:
        return await _bid_context(db, settings, actor, purchase_id)

    async with refusal(db, "bidding/bid_form.html", again, form=form, name="bid"):
        data = parse(BidIn, form)
        b = await bid_service.submit(
            db, actor, settings, purchase_id, price=data.price, service_days=data.service_days, note=data.note or ""
        )
    return redirect(f"/workspace/bids?receipt={b.id}#bid-{b.id}", done="bid-received")


@post(
    "/workspace/purchases/{purchase_id:uuid}/bid-draft",
    include_in_schema=False,
    guards=[provider_only],
    status_code=303,
)
async def bid_draft_save(
    request: Request[Any, Any, Any],
    purchase_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)

    async def again() -> dict[str, Any]:
        return await _bid_context(db, settings, actor, purchase_id)

    async with refusal(db, "bidding/bid_form.html", again, form=form, name="bid"):
        data = parse(BidIn, form)
        await drafts.save(
            db, actor, settings, purchase_id, price=data.price, service_days=data.service_days, note=data.note or ""
        )
    return redirect(f"/workspace/purchases/{purchase_id}/bid", done="bid-draft-saved")


@post(
    "/workspace/purchases/{purchase_id:uuid}/bid-draft/discard",
    include_in_schema=False,
    guards=[provider_only],
    status_code=303,
)
async def bid_draft_discard(
    purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
) -> Redirect:
    async def again() -> dict[str, Any]:
        return await _bid_context(db, settings, actor, purchase_id)

    async with refusal(db, "bidding/bid_form.html", again, name="discard"):
        await drafts.discard(db, actor, purchase_id)
    return redirect(f"/workspace/purchases/{purchase_id}/bid", done="bid-draft-discarded")


@post("/workspace/bids/{bid_id:uuid}/withdraw", include_in_schema=False, guards=[provider_only], status_code=303)
async def bid_withdraw(
    bid_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
) -> Redirect:
    purchase_id = (await bid_service.own_bid(db, actor, bid_id)).purchase_id

    async def again() -> dict[str, Any]:
        return await _bid_context(db, settings, actor, purchase_id)

    async with refusal(db, "bidding/bid_form.html", again, name="withdraw"):
        await bid_service.withdraw(db, actor, bid_id)
    return redirect("/workspace/bids", done="bid-withdrawn")


async def _my_bids_context(db: AsyncSession, settings: Settings, actor: Actor, pager: Pager) -> dict[str, Any]:
    rows, total = await bid_service.mine(db, actor, settings, limit=pager.limit, offset=pager.offset)
    outs = await presenters.bid_outs(db, rows)
    return {
        **pager.context(total),
        "rows": [(out, _purchase_brief(p)) for out, (_b, p) in zip(outs, rows, strict=True)],
        "ratio": f"{settings.abnormal_low_ratio * 100:.0f}%",
    }


def _purchase_brief(p: Purchase) -> dict[str, Any]:
    return {
        "id": p.id,
        "ref": p.ref,
        "title": p.title,
        "status": p.effective_status,
        "explanation_due_at": p.explanation_due_at,
    }


@get("/workspace/bids", include_in_schema=False, guards=[provider_only])
async def my_bids(
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
    receipt: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template:
    context = await _my_bids_context(db, settings, actor, Pager.of(page, PAGE))
    return Template("bidding/my_bids.html", context={**context, "receipt": receipt})


@post("/workspace/bids/{bid_id:uuid}/explanation", include_in_schema=False, guards=[provider_only], status_code=303)
async def bid_explain(
    request: Request[Any, Any, Any],
    bid_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)

    async def again() -> dict[str, Any]:
        return await _my_bids_context(db, settings, actor, Pager.of(1, PAGE))

    async with refusal(db, "bidding/my_bids.html", again, form=form, name=f"explain-{bid_id}"):
        data = parse(ExplanationIn, form)
        await bid_service.explain(db, actor, settings, bid_id, data.explanation)
    return redirect("/workspace/bids", done="price-explained")


# --- owner --------------------------------------------------------------------------------------


@get("/workspace/purchases", include_in_schema=False, guards=[owner_only])
async def my_purchases(
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
    status: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template:
    pager = Pager.of(page, PAGE)
    f = queries.PurchaseFilter(status=status or None)
    rows, total = await queries.list_own(db, actor, settings, f, limit=pager.limit, offset=pager.offset)
    return Template(
        "bidding/owner_purchases.html",
        context={
            **pager.context(total),
            "items": await presenters.summaries(db, rows),
            "form": {"status": status or ""},
            "statuses": choices("purchase_status"),
        },
    )


async def _form_context(db: AsyncSession, settings: Settings, draft: Purchase | None = None) -> dict[str, Any]:
    """What the purchase form offers: retained catalog items, approved providers to avoid."""
    items = await db.scalars(
        select(CatalogItem).where(col(CatalogItem.status) == ItemStatus.retained).order_by(col(CatalogItem.code))
    )
    providers = await db.execute(
        select(Organization.id, Organization.name)
        .where(col(Organization.kind) == OrgKind.provider, col(Organization.status) == OrgStatus.approved)
        .order_by(col(Organization.name))
    )
    return {
        "purchase": {"id": draft.id, "title": draft.title} if draft else None,
        "catalog": [
            {"code": i.code, "name": i.name, "time_limit_days": i.time_limit_days, "fee_cap": i.fee_cap} for i in items
        ],
        "providers": [(str(org_id), name) for org_id, name in providers.all()],
        "methods": choices("purchase_method"),
        "fundings": choices("funding"),
        "grades": credit.grade_choices(),
        "earliest": purchases.earliest_deadline(settings, clock.now()),
        # accelerated (a demo or a test), a working day lasts seconds: the deadline takes seconds
        "deadline_step": 1 if settings.accelerator > 1 else 60,
    }


def _weights(form: FormData) -> dict[str, Any]:
    """The weight fields are on the form whatever the method: they count for scored selection
    only, and three empty ones are no weights."""
    given = any(form.get(f"weights.{part}").strip() for part in ("price", "quality", "credit"))
    return {} if form.get("method") == Method.scored and given else {"weights": None}


@get("/workspace/purchases/new", include_in_schema=False, guards=[owner_only])
async def new_purchase(db: DbSession, settings: AppSettings) -> Template:
    form = {
        "funding": Funding.fiscal,
        "method": Method.random,
        "bid_deadline": _suggested_deadline(settings),
        "weights.price": "60",
        "weights.quality": "30",
        "weights.credit": "10",
    }
    return Template("bidding/purchase_form.html", context={**await _form_context(db, settings), "form": form})


@post("/workspace/purchases/new", include_in_schema=False, guards=[owner_only], status_code=303)
async def new_purchase_submit(
    request: Request[Any, Any, Any], db: DbSession, actor: CurrentActor, settings: AppSettings
) -> Redirect:
    form = await read_form(request)

    async def again() -> dict[str, Any]:
        return await _form_context(db, settings)

    async with refusal(db, "bidding/purchase_form.html", again, form=form):
        data = parse(PurchaseCreate, form, **_weights(form))
        p = await purchases.create_draft(db, actor, settings, data)
    return redirect(f"/workspace/purchases/{p.id}", done="purchase-drafted")


def _form_of(p: Purchase, avoid: list[uuid.UUID]) -> dict[str, Any]:
    """A draft as its form shows it."""
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
        "weights.price": str(p.weight_price if p.weight_price is not None else 60),
        "weights.quality": str(p.weight_quality if p.weight_quality is not None else 30),
        "weights.credit": str(p.weight_credit if p.weight_credit is not None else 10),
        "avoid_provider_ids": [str(a) for a in avoid],
        "min_grade": p.min_grade or "",
    }


def _whole_draft(form: FormData) -> dict[str, Any]:
    """The edit form shows every term, so it replaces them all: a field left empty clears an
    optional term (and is refused for a required one), an empty choice of firms clears the list."""
    given: dict[str, Any] = {}
    for name in PurchaseUpdate.model_fields:
        if name not in ("weights", "avoid_provider_ids") and not form.get(name).strip():
            given[name] = "" if name in purchases.REQUIRED_TERMS else None
    given["avoid_provider_ids"] = [v for v in form.getall("avoid_provider_ids") if v]
    return {**given, **_weights(form)}


@get("/workspace/purchases/{purchase_id:uuid}/edit", include_in_schema=False, guards=[owner_only])
async def edit_purchase(
    purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
) -> Template | Redirect:
    p = await purchases.owned(db, settings, actor, purchase_id)
    if p.status != S.draft:
        return Redirect(f"/workspace/purchases/{p.id}")
    form = _form_of(p, await purchases.avoid_ids(db, p.id))
    return Template("bidding/purchase_form.html", context={**await _form_context(db, settings, p), "form": form})


@post("/workspace/purchases/{purchase_id:uuid}/edit", include_in_schema=False, guards=[owner_only], status_code=303)
async def edit_purchase_submit(
    request: Request[Any, Any, Any],
    purchase_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)

    async def again() -> dict[str, Any]:
        return await _form_context(db, settings, await purchases.owned(db, settings, actor, purchase_id))

    async with refusal(db, "bidding/purchase_form.html", again, form=form):
        data = parse(PurchaseUpdate, form, **_whole_draft(form))
        await purchases.update_draft(db, actor, settings, purchase_id, data)
    return redirect(f"/workspace/purchases/{purchase_id}", done="draft-saved")


async def _manage_context(db: AsyncSession, settings: Settings, actor: Actor, purchase_id: uuid.UUID) -> dict[str, Any]:
    if actor.role == "owner":
        p = await purchases.owned(db, settings, actor, purchase_id)
    else:
        p = await purchases.get_purchase(db, settings, actor, purchase_id)
    context = await _detail_context(db, settings, actor, p)
    opened = None
    evaluation = None
    if p.opened_at is not None and p.method == Method.scored:
        evaluation = presenters.evaluation_out(await scoring.evaluation(db, actor, settings, p.id))
    if p.opened_at is not None and not scoring.prices_sealed_for(actor, p):
        _p, rows = await bid_service.opened(db, actor, settings, p.id)
        opened = await presenters.opened_bid_outs(db, rows)
    objections: list[Any] = []
    if p.selected_at is not None:
        obj_rows, _n = await selecting.list_objections(db, actor, status=None, purchase_id=p.id, limit=100, offset=0)
        objections = await presenters.objection_outs(db, obj_rows)
    waiting = await bid_service.unexplained(db, p.id) if p.status == S.evaluating else 0
    return {
        **context,
        "cancellation_pending": await cancellation.pending_of(db, p.id) is not None,
        "opened": opened,
        "evaluation": evaluation,
        "objections": objections,
        "waiting_explanations": waiting,
        "suggested_deadline": _suggested_deadline(settings),
        "current_deadline": _local_input(p.bid_deadline),
        "min_bidding_days": settings.min_bidding_days,
        "four_eyes_refusal": (
            await purchases.four_eyes_refusal(db, settings, actor, p)
            if p.status == S.draft and actor.role == "owner"
            else None
        ),
    }


@get("/workspace/purchases/{purchase_id:uuid}", include_in_schema=False, guards=[oversight_or_owner])
async def manage(
    purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
) -> Template:
    return Template("bidding/manage.html", context=await _manage_context(db, settings, actor, purchase_id))


async def _owner_form(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    settings: Settings,
    actor: Actor,
    purchase_id: uuid.UUID,
    name: str,
) -> tuple[FormData, AbstractAsyncContextManager[None]]:
    """A form of the owner's page of a purchase, and the refusal that shows that page again."""
    form = await read_form(request)

    async def again() -> dict[str, Any]:
        return await _manage_context(db, settings, actor, purchase_id)

    return form, refusal(db, "bidding/manage.html", again, form=form, name=name)


@post("/workspace/purchases/{purchase_id:uuid}/publish", include_in_schema=False, guards=[owner_only], status_code=303)
async def publish_page(
    request: Request[Any, Any, Any],
    purchase_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    _form, refused = await _owner_form(request, db, settings, actor, purchase_id, "publish")
    async with refused:
        await purchases.publish(db, actor, settings, purchase_id)
    return redirect(f"/workspace/purchases/{purchase_id}", done="purchase-published")


@post("/workspace/purchases/{purchase_id:uuid}/cancel", include_in_schema=False, guards=[owner_only], status_code=303)
async def cancel_page(
    request: Request[Any, Any, Any],
    purchase_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form, refused = await _owner_form(request, db, settings, actor, purchase_id, "cancel")
    async with refused:
        data = parse(ReasonIn, form)
        await purchases.cancel(db, actor, settings, purchase_id, data.reason)
    return redirect(f"/workspace/purchases/{purchase_id}", done="purchase-cancelled")


@post(
    "/workspace/purchases/{purchase_id:uuid}/cancellation-request",
    include_in_schema=False,
    guards=[owner_only],
    status_code=303,
)
async def cancellation_request_page(
    request: Request[Any, Any, Any],
    purchase_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form, refused = await _owner_form(request, db, settings, actor, purchase_id, "cancel")
    async with refused:
        data = parse(ReasonIn, form)
        await cancellation.request(db, actor, settings, purchase_id, data.reason)
    return redirect(f"/workspace/purchases/{purchase_id}#cancellation", done="cancellation-requested")


@post(
    "/workspace/purchases/{purchase_id:uuid}/change-notices",
    include_in_schema=False,
    guards=[owner_only],
    status_code=303,
)
async def change_notice_page(
    request: Request[Any, Any, Any],
    purchase_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form, refused = await _owner_form(request, db, settings, actor, purchase_id, "change-notice")
    async with refused:
        p = await purchases.owned(db, settings, actor, purchase_id)
        data = parse(ChangeNoticeIn, form)
        # the form shows the current terms: what was left as it is does not change (the deadline
        # is shown to the minute, so an unchanged one is the current deadline, not a minute earlier)
        deadline = data.bid_deadline
        if deadline is not None and _local_input(deadline) == _local_input(p.bid_deadline):
            deadline = None
        await notices.publish(
            db,
            actor,
            settings,
            purchase_id,
            notices.Amendment(
                reason=data.reason,
                description=data.description,
                budget_cap=data.budget_cap,
                bid_deadline=deadline,
                service_days=data.service_days,
            ),
        )
    return redirect(f"/purchases/{purchase_id}#change-notices", done="change-notice-published")


@post("/workspace/bids/{bid_id:uuid}/confirm", include_in_schema=False, guards=[provider_only], status_code=303)
async def bid_confirm(
    request: Request[Any, Any, Any],
    bid_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    purchase_id = (await bid_service.own_bid(db, actor, bid_id)).purchase_id
    _form, refused = await _public_form(request, db, settings, actor, purchase_id, "confirm")
    async with refused:
        await notices.confirm(db, actor, settings, bid_id)
    return redirect(f"/purchases/{purchase_id}#bid", done="bid-confirmed")


@post(
    "/workspace/purchases/{purchase_id:uuid}/republish", include_in_schema=False, guards=[owner_only], status_code=303
)
async def republish_page(
    request: Request[Any, Any, Any],
    purchase_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form, refused = await _owner_form(request, db, settings, actor, purchase_id, "republish")
    async with refused:
        data = parse(RepublishIn, form)
        p = await purchases.republish(db, actor, settings, purchase_id, data.bid_deadline)
    return redirect(f"/workspace/purchases/{p.id}/edit", done="round-drafted")


@post("/workspace/purchases/{purchase_id:uuid}/select", include_in_schema=False, guards=[owner_only], status_code=303)
async def select_page(
    request: Request[Any, Any, Any],
    purchase_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form, refused = await _owner_form(request, db, settings, actor, purchase_id, "select")
    # a quality mark per valid bid: ``quality_marks.<bid id>``, as the API's {bid id: mark}
    marks = {k.removeprefix("quality_marks."): v for k, v in form.values.items() if k.startswith("quality_marks.")}
    async with refused:
        data = parse(SelectIn, form, **({"quality_marks": marks} if marks else {}))
        await selecting.select_winner(
            db,
            actor,
            settings,
            purchase_id,
            bid_id=data.bid_id,
            reason=data.reason,
            quality_marks=data.quality_marks,
        )
    return redirect(f"/workspace/purchases/{purchase_id}", done="result-published")


# --- owner: scored selection in two envelopes (bidding.scoring) -----------------------------------


async def _evaluate_context(
    db: AsyncSession, settings: Settings, actor: Actor, purchase_id: uuid.UUID
) -> dict[str, Any]:
    evaluation = await scoring.evaluation(db, actor, settings, purchase_id)
    return {
        "p": await presenters.purchase_out(db, evaluation.purchase),
        "evaluation": presenters.evaluation_out(evaluation),
        "is_owner": purchases.is_owner(actor, evaluation.purchase),
    }


@get("/workspace/purchases/{purchase_id:uuid}/evaluate", include_in_schema=False, guards=[oversight_or_owner])
async def evaluate(
    purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
) -> Template:
    return Template("bidding/evaluate.html", context=await _evaluate_context(db, settings, actor, purchase_id))


@post(
    "/workspace/purchases/{purchase_id:uuid}/marks/{bid_id:uuid}",
    include_in_schema=False,
    guards=[owner_only],
    status_code=303,
)
async def mark_page(
    request: Request[Any, Any, Any],
    purchase_id: FromPath[uuid.UUID],
    bid_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)

    async def again() -> dict[str, Any]:
        return await _evaluate_context(db, settings, actor, purchase_id)

    async with refusal(db, "bidding/evaluate.html", again, form=form, name=f"mark-{bid_id}"):
        data = parse(MarkIn, form)
        await scoring.mark(db, actor, settings, purchase_id, bid_id, value=data.mark, reason=data.reason)
    return redirect(f"/workspace/purchases/{purchase_id}/evaluate#bid-{bid_id}", done="mark-saved")


@post(
    "/workspace/purchases/{purchase_id:uuid}/marks/lock", include_in_schema=False, guards=[owner_only], status_code=303
)
async def lock_marks_page(
    request: Request[Any, Any, Any],
    purchase_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)

    async def again() -> dict[str, Any]:
        return await _evaluate_context(db, settings, actor, purchase_id)

    async with refusal(db, "bidding/evaluate.html", again, form=form, name="lock"):
        await scoring.lock(db, actor, settings, purchase_id)
    return redirect(f"/workspace/purchases/{purchase_id}", done="marks-locked")


@post("/workspace/questions/{question_id:uuid}/answer", include_in_schema=False, guards=[owner_only], status_code=303)
async def answer_page(
    request: Request[Any, Any, Any],
    question_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    purchase_id = await db.scalar(select(Question.purchase_id).where(col(Question.id) == question_id))
    if purchase_id is None:
        raise purchases.not_found()
    form, refused = await _owner_form(request, db, settings, actor, purchase_id, f"answer-{question_id}")
    async with refused:
        data = parse(AnswerIn, form)
        await clarifications.answer(db, actor, settings, question_id, data.answer)
    return redirect(f"/workspace/purchases/{purchase_id}#qa", done="answer-published")


# --- operator -----------------------------------------------------------------------------------


async def _objections_context(db: AsyncSession, actor: Actor, status: str | None, pager: Pager) -> dict[str, Any]:
    rows, total = await selecting.list_objections(
        db, actor, status=status or None, purchase_id=None, limit=pager.limit, offset=pager.offset
    )
    return {
        **pager.context(total),
        "items": await presenters.objection_outs(db, rows),
        "filter": {"status": status or ""},
        "statuses": choices("objection_status"),
        "can_decide": actor.role == "admin",
    }


@get("/admin/objections", include_in_schema=False, guards=[objection_readers])
async def objections_page(
    db: DbSession,
    actor: CurrentActor,
    status: FromQuery[str | None] = ObjectionStatus.pending.value,
    page: FromQuery[str | None] = None,
) -> Template:
    context = await _objections_context(db, actor, status, Pager.of(page, PAGE))
    return Template("bidding/objections.html", context=context)


@post("/admin/objections/{objection_id:uuid}/decide", include_in_schema=False, guards=[admin_only], status_code=303)
async def decide_page(
    request: Request[Any, Any, Any],
    objection_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)

    async def again() -> dict[str, Any]:
        return await _objections_context(db, actor, ObjectionStatus.pending, Pager.of(1, PAGE))

    async with refusal(db, "bidding/objections.html", again, form=form, name=f"decide-{objection_id}"):
        data = parse(DecideIn, form)
        await selecting.decide(db, actor, settings, objection_id, upheld=data.upheld, decision=data.decision)
    return redirect("/admin/objections", done="objection-decided")


async def _cancellations_context(db: AsyncSession, actor: Actor, status: str | None, pager: Pager) -> dict[str, Any]:
    rows, total = await cancellation.listed(db, actor, status=status or None, limit=pager.limit, offset=pager.offset)
    owners = await queries.names(db, {p.owner_id for _r, p in rows})
    return {
        **pager.context(total),
        "items": presenters.cancellation_outs(rows),
        "owners": {p.id: owners.get(p.owner_id, "") for _r, p in rows},
        "filter": {"status": status or ""},
        "statuses": choices("cancellation_status"),
        "can_decide": actor.role == "admin",
    }


@get("/admin/cancellations", include_in_schema=False, guards=[objection_readers])
async def cancellations_page(
    db: DbSession,
    actor: CurrentActor,
    status: FromQuery[str | None] = CancellationStatus.pending.value,
    page: FromQuery[str | None] = None,
) -> Template:
    context = await _cancellations_context(db, actor, status, Pager.of(page, PAGE))
    return Template("bidding/cancellations.html", context=context)


@post("/admin/cancellations/{request_id:uuid}/decide", include_in_schema=False, guards=[admin_only], status_code=303)
async def cancellation_decide_page(
    request: Request[Any, Any, Any],
    request_id: FromPath[uuid.UUID],
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
) -> Redirect:
    form = await read_form(request)

    async def again() -> dict[str, Any]:
        return await _cancellations_context(db, actor, CancellationStatus.pending, Pager.of(1, PAGE))

    async with refusal(db, "bidding/cancellations.html", again, form=form, name=f"cancellation-{request_id}"):
        data = parse(CancellationDecideIn, form)
        await cancellation.decide(db, actor, settings, request_id, approved=data.approved, decision=data.decision)
    return redirect("/admin/cancellations", done="cancellation-decided")


def routes(settings: Settings) -> list[Any]:
    """The package's pages (the composition root mounts them)."""
    return [
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
        bid_draft_save,
        bid_draft_discard,
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
        cancellation_request_page,
        change_notice_page,
        bid_confirm,
        republish_page,
        select_page,
        evaluate,
        mark_page,
        lock_marks_page,
        answer_page,
        objections_page,
        decide_page,
        cancellations_page,
        cancellation_decide_page,
    ]
