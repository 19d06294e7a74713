"""JSON API of the bidding package (SPEC §6). Controllers translate; the services hold the rules."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, MediaType, Request, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from bidding import bids as bid_service
from bidding import (
    cancellation,
    clarifications,
    drafts,
    notices,
    presenters,
    purchases,
    queries,
    receipts,
    scoring,
    selecting,
)
from bidding.models import Purchase
from bidding.schemas import (
    AnswerIn,
    BidConfirmationOut,
    BidDraftOut,
    BidIn,
    BidOut,
    CancellationDecideIn,
    CancellationOut,
    ChangeNoticeIn,
    ChangeNoticeOut,
    Created,
    DecideIn,
    DrawCheckOut,
    DrawVerifyOut,
    EvaluationOut,
    ExplanationIn,
    MarkIn,
    ObjectionIn,
    ObjectionOut,
    OpenedBids,
    PurchaseCreate,
    PurchaseOut,
    PurchaseSummary,
    PurchaseUpdate,
    QuestionIn,
    QuestionOut,
    ReasonIn,
    Receipt,
    RepublishIn,
    ResultOut,
    SelectIn,
    StatusOut,
    TechnicalPartOut,
)
from market.identity.guards import requires_role, signed_in
from market.schemas import Page
from market.settings import Settings
from market.web import etag
from market.web.deps import AppSettings, CurrentActor, DbSession, Offset

owner_only = requires_role("owner")
provider_only = requires_role("provider")
admin_only = requires_role("admin")
bid_openers = requires_role("owner", "admin", "finance")

Limit = Annotated[int, QueryParameter(ge=1, le=200)]


def _status(p: Purchase) -> StatusOut:
    return StatusOut(id=p.id, ref=p.ref, status=p.status, draw_commitment=p.draw_commitment)


class PurchaseController(Controller):
    path = "/api/v1/purchases"
    tags = ["purchases"]

    @post("/", guards=[owner_only], status_code=201, summary="Draft a purchase")
    async def create(
        self, data: JSONBody[PurchaseCreate], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> Created:
        p = await purchases.create_draft(db, actor, settings, data)
        return Created(id=p.id, ref=p.ref, status=p.status)

    @get("/", summary="Published purchases, filtered by status, q, catalog_code, owner_id, method")
    async def list_purchases(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        settings: AppSettings,
        status: Annotated[str | None, QueryParameter(max_length=16)] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        catalog_code: Annotated[str | None, QueryParameter(max_length=32)] = None,
        owner_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
        method: Annotated[str | None, QueryParameter(max_length=16)] = None,
        limit: Limit = 20,
        offset: Offset = 0,
        cursor: Annotated[
            str | None,
            QueryParameter(
                max_length=100,
                description="Opaque: page on after this position (from the previous page's Link rel=next "
                "header) instead of by offset, to page deeply.",
            ),
        ] = None,
    ) -> Response[Page[PurchaseSummary]]:
        after = queries.parse_published_cursor("cursor", cursor)
        validator = await etag.check(request, db, kind="json")
        if validator.fresh:
            return validator.not_modified()
        f = queries.PurchaseFilter(status=status, q=q, catalog_code=catalog_code, owner_id=owner_id, method=method)
        rows, total = await queries.list_published(
            db, settings, f, limit=limit, offset=offset, after=after, head=validator.head
        )
        page = Page[PurchaseSummary](
            items=await presenters.summaries(db, rows), total=total, limit=limit, offset=offset
        )
        headers = validator.headers()
        if len(rows) == limit:  # a full page: a cursor to the next one (the Link header, RFC 8288)
            params = [(k, v) for k, v in request.query_params.items() if k not in ("cursor", "offset")]
            params.append(("cursor", queries.published_cursor(rows[-1])))
            headers["Link"] = f'<{settings.base_url}{request.url.path}?{urlencode(params)}>; rel="next"'
        return Response(page, headers=headers)

    @get("/mine", guards=[owner_only], summary="The owner's purchases, drafts included")
    async def mine(
        self,
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        status: Annotated[str | None, QueryParameter(max_length=16)] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[PurchaseSummary]:
        rows, total = await queries.list_own(
            db, actor, settings, queries.PurchaseFilter(status=status), limit=limit, offset=offset
        )
        return Page[PurchaseSummary](
            items=await presenters.summaries(db, rows), total=total, limit=limit, offset=offset
        )

    @get("/{purchase_id:uuid}", summary="One purchase (a draft only for its owner)")
    async def get_purchase(
        self, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> PurchaseOut:
        p = await purchases.get_purchase(db, settings, actor, purchase_id)
        return await presenters.purchase_out(db, p)

    @patch("/{purchase_id:uuid}", guards=[owner_only], summary="Edit a draft")
    async def update(
        self,
        purchase_id: FromPath[uuid.UUID],
        data: JSONBody[PurchaseUpdate],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> PurchaseOut:
        p = await purchases.update_draft(db, actor, settings, purchase_id, data)
        return await presenters.purchase_out(db, p)

    @post(
        "/{purchase_id:uuid}/publish", guards=[owner_only], status_code=200, summary="Publish: freeze, number, commit"
    )
    async def publish(
        self, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> StatusOut:
        return _status(await purchases.publish(db, actor, settings, purchase_id))

    @post("/{purchase_id:uuid}/cancel", guards=[owner_only], status_code=200, summary="Cancel with a reason")
    async def cancel(
        self,
        purchase_id: FromPath[uuid.UUID],
        data: JSONBody[ReasonIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> StatusOut:
        return _status(await purchases.cancel(db, actor, settings, purchase_id, data.reason))

    @post(
        "/{purchase_id:uuid}/cancellation-requests",
        guards=[owner_only],
        status_code=201,
        summary="After the deadline: ask the operator to cancel, with a written reason",
    )
    async def request_cancellation(
        self,
        purchase_id: FromPath[uuid.UUID],
        data: JSONBody[ReasonIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> CancellationOut:
        r = await cancellation.request(db, actor, settings, purchase_id, data.reason)
        r, p = await cancellation.get(db, actor, r.id)
        (out,) = presenters.cancellation_outs([(r, p)])
        return out

    @post(
        "/{purchase_id:uuid}/change-notices",
        guards=[owner_only],
        status_code=201,
        summary="Before the deadline: publish a change notice (变更公告) amending the purchase, with a written reason",
    )
    async def publish_change_notice(
        self,
        purchase_id: FromPath[uuid.UUID],
        data: JSONBody[ChangeNoticeIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> ChangeNoticeOut:
        n = await notices.publish(
            db,
            actor,
            settings,
            purchase_id,
            notices.Amendment(
                reason=data.reason,
                description=data.description,
                budget_cap=data.budget_cap,
                bid_deadline=data.bid_deadline,
                service_days=data.service_days,
            ),
        )
        return presenters.notice_out(n)

    @get("/{purchase_id:uuid}/change-notices", summary="A purchase's change notices, in order (public)")
    async def change_notices(
        self, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> list[ChangeNoticeOut]:
        p = await purchases.get_purchase(db, settings, actor, purchase_id)
        return [presenters.notice_out(n) for n in await notices.of_purchase(db, p.id)]

    @post(
        "/{purchase_id:uuid}/republish",
        guards=[owner_only],
        status_code=201,
        summary="Republish a failed purchase as a new draft round linked to it",
    )
    async def republish(
        self,
        purchase_id: FromPath[uuid.UUID],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        data: JSONBody[RepublishIn | None] = None,
    ) -> Created:
        p = await purchases.republish(db, actor, settings, purchase_id, data.bid_deadline if data else None)
        return Created(id=p.id, ref=p.ref, status=p.status)

    @get("/{purchase_id:uuid}/questions", summary="Clarifications (askers stay anonymous)")
    async def list_questions(
        self, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> list[QuestionOut]:
        p = await purchases.get_purchase(db, settings, actor, purchase_id)
        return [presenters.question_out(q) for q in await clarifications.questions(db, p.id)]

    @post("/{purchase_id:uuid}/questions", guards=[provider_only], status_code=201, summary="Ask a question")
    async def ask(
        self,
        purchase_id: FromPath[uuid.UUID],
        data: JSONBody[QuestionIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> QuestionOut:
        return presenters.question_out(await clarifications.ask(db, actor, settings, purchase_id, data.question))

    @post(
        "/{purchase_id:uuid}/bids",
        guards=[provider_only],
        status_code=201,
        summary="Submit a sealed bid; a second call replaces it",
    )
    async def bid(
        self,
        purchase_id: FromPath[uuid.UUID],
        data: JSONBody[BidIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> Receipt:
        b = await bid_service.submit(
            db, actor, settings, purchase_id, price=data.price, service_days=data.service_days, note=data.note or ""
        )
        return Receipt(id=b.id, digest=b.digest, received_at=b.received_at)

    @get(
        "/{purchase_id:uuid}/bid-draft",
        guards=[provider_only],
        summary="My firm's bid draft (its users only; 404 when there is none)",
    )
    async def bid_draft(self, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> BidDraftOut:
        draft = await drafts.current(db, actor, purchase_id)
        if draft is None:
            raise drafts.not_found()
        return await presenters.bid_draft_out(db, draft)

    @put(
        "/{purchase_id:uuid}/bid-draft",
        guards=[provider_only],
        summary="Prepare (or change) my firm's bid draft: a clerk prepares, an approver submits",
    )
    async def save_bid_draft(
        self,
        purchase_id: FromPath[uuid.UUID],
        data: JSONBody[BidIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> BidDraftOut:
        draft = await drafts.save(
            db, actor, settings, purchase_id, price=data.price, service_days=data.service_days, note=data.note or ""
        )
        return await presenters.bid_draft_out(db, draft)

    @delete(
        "/{purchase_id:uuid}/bid-draft", guards=[provider_only], status_code=204, summary="Discard my firm's bid draft"
    )
    async def discard_bid_draft(self, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> None:
        await drafts.discard(db, actor, purchase_id)

    @post(
        "/{purchase_id:uuid}/bid-draft/submit",
        guards=[provider_only],
        status_code=201,
        summary="An approver submits the firm's bid draft as its sealed bid",
    )
    async def submit_bid_draft(
        self, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> Receipt:
        b = await drafts.submit(db, actor, settings, purchase_id)
        return Receipt(id=b.id, digest=b.digest, received_at=b.received_at)

    @get(
        "/{purchase_id:uuid}/bids",
        guards=[bid_openers],
        summary="Opened bids: owner, operator and finance, after the deadline",
    )
    async def opened(
        self, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> OpenedBids:
        p, rows = await bid_service.opened(db, actor, settings, purchase_id)
        assert p.opened_at is not None
        return OpenedBids(
            purchase_id=p.id,
            ref=p.ref,
            opened_at=p.opened_at,
            items=await presenters.opened_bid_outs(db, rows),
            total=len(rows),
        )

    @post("/{purchase_id:uuid}/select", guards=[owner_only], status_code=200, summary="Run the selection")
    async def select(
        self,
        purchase_id: FromPath[uuid.UUID],
        data: JSONBody[SelectIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> ResultOut:
        await selecting.select_winner(
            db, actor, settings, purchase_id, bid_id=data.bid_id, reason=data.reason, quality_marks=data.quality_marks
        )
        p = await purchases.get_purchase(db, settings, actor, purchase_id)
        return ResultOut.model_validate(await selecting.public_result(db, p))

    @get("/{purchase_id:uuid}/result", summary="The result with its draw proof (public after the selection)")
    async def result(
        self, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> ResultOut:
        p = await purchases.get_purchase(db, settings, actor, purchase_id)
        return ResultOut.model_validate(await selecting.public_result(db, p))

    @post("/{purchase_id:uuid}/objections", guards=[provider_only], status_code=201, summary="Object to the result")
    async def object(
        self,
        purchase_id: FromPath[uuid.UUID],
        data: JSONBody[ObjectionIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> ObjectionOut:
        o = await selecting.file_objection(db, actor, settings, purchase_id, data.reason)
        p = await purchases.get_purchase(db, settings, actor, purchase_id)
        (out,) = await presenters.objection_outs(db, [(o, p)])
        return out


class QuestionController(Controller):
    path = "/api/v1/questions"
    tags = ["purchases"]

    @post("/{question_id:uuid}/answer", guards=[owner_only], status_code=200, summary="Answer publicly")
    async def answer(
        self,
        question_id: FromPath[uuid.UUID],
        data: JSONBody[AnswerIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> QuestionOut:
        return presenters.question_out(await clarifications.answer(db, actor, settings, question_id, data.answer))


class BidController(Controller):
    path = "/api/v1/bids"
    tags = ["bids"]

    @get("/", guards=[provider_only], summary="My bids with their receipts")
    async def mine(
        self,
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        history: Annotated[bool, QueryParameter(description="include replaced bids")] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[BidOut]:
        rows, total = await bid_service.mine(db, actor, settings, limit=limit, offset=offset, include_history=history)
        return Page[BidOut](items=await presenters.bid_outs(db, rows), total=total, limit=limit, offset=offset)

    @get("/{bid_id:uuid}", guards=[signed_in], summary="One bid: its bidder; after the deadline owner, admin, finance")
    async def read(
        self, bid_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> BidOut:
        b, p = await bid_service.read(db, actor, settings, bid_id)
        (out,) = await presenters.bid_outs(db, [(b, p)])
        return out

    @post(
        "/{bid_id:uuid}/confirm",
        guards=[provider_only],
        status_code=201,
        summary="After a material change notice: confirm the bid unchanged (its digest and receipt stay valid)",
    )
    async def confirm(
        self, bid_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> BidConfirmationOut:
        c = await notices.confirm(db, actor, settings, bid_id)
        b, _p = await bid_service.read(db, actor, settings, c.bid_id)
        return BidConfirmationOut(bid_id=b.id, notice_id=c.notice_id, confirmed_at=c.confirmed_at, digest=b.digest)

    @get(
        "/{bid_id:uuid}/receipt.pdf",
        guards=[signed_in],
        summary="The bid's printable receipt (the bidder only; anyone else gets 404)",
        media_type="application/pdf",
    )
    async def receipt(
        self,
        bid_id: FromPath[uuid.UUID],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        lang: Annotated[str | None, QueryParameter(max_length=5)] = None,
    ) -> Response[bytes]:
        data, filename = await receipts.receipt_pdf(db, actor, settings, bid_id, lang)
        headers = {
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        }
        return Response(data, media_type="application/pdf", headers=headers)

    @get(
        "/{bid_id:uuid}/document",
        guards=[signed_in],
        summary="The bid's canonical content; its SHA-256 is the receipt digest",
        media_type=MediaType.JSON,
    )
    async def document(
        self, bid_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> Response[bytes]:
        b, p = await bid_service.read(db, actor, settings, bid_id)
        body = bid_service.content(b, p).encode("utf-8")
        return Response(body, media_type=MediaType.JSON, headers={"X-Content-SHA256": b.digest})

    @delete("/{bid_id:uuid}", guards=[provider_only], status_code=204, summary="Withdraw my bid before the deadline")
    async def withdraw(self, bid_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> None:
        await bid_service.withdraw(db, actor, bid_id)

    @post(
        "/{bid_id:uuid}/explanation",
        guards=[provider_only],
        status_code=200,
        summary="Explain a price flagged as abnormally low",
    )
    async def explain(
        self,
        bid_id: FromPath[uuid.UUID],
        data: JSONBody[ExplanationIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> BidOut:
        b = await bid_service.explain(db, actor, settings, bid_id, data.explanation)
        _b, p = await bid_service.read(db, actor, settings, b.id)
        return presenters.bid_out(b, p)


class ObjectionController(Controller):
    path = "/api/v1/objections"
    tags = ["objections"]

    @get("/", guards=[signed_in], summary="Objections: admin and finance all, owners theirs, bidders their own")
    async def list_objections(
        self,
        db: DbSession,
        actor: CurrentActor,
        status: Annotated[str | None, QueryParameter(max_length=16)] = None,
        purchase_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[ObjectionOut]:
        rows, total = await selecting.list_objections(
            db, actor, status=status, purchase_id=purchase_id, limit=limit, offset=offset
        )
        return Page[ObjectionOut](
            items=await presenters.objection_outs(db, rows), total=total, limit=limit, offset=offset
        )

    @get("/{objection_id:uuid}", guards=[signed_in], summary="One objection")
    async def get_objection(
        self, objection_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
    ) -> ObjectionOut:
        o, p = await selecting.get_objection(db, actor, objection_id)
        (out,) = await presenters.objection_outs(db, [(o, p)])
        return out

    @post("/{objection_id:uuid}/decide", guards=[admin_only], status_code=200, summary="Uphold or dismiss")
    async def decide(
        self,
        objection_id: FromPath[uuid.UUID],
        data: JSONBody[DecideIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> ObjectionOut:
        o = await selecting.decide(db, actor, settings, objection_id, upheld=data.upheld, decision=data.decision)
        o, p = await selecting.get_objection(db, actor, o.id)
        (out,) = await presenters.objection_outs(db, [(o, p)])
        return out


class CancellationController(Controller):
    path = "/api/v1/cancellation-requests"
    tags = ["purchases"]

    @get("/", guards=[signed_in], summary="Requests to cancel after the deadline: admin and finance all, owners theirs")
    async def list_requests(
        self,
        db: DbSession,
        actor: CurrentActor,
        status: Annotated[str | None, QueryParameter(max_length=16)] = None,
        purchase_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[CancellationOut]:
        rows, total = await cancellation.listed(
            db, actor, status=status, purchase_id=purchase_id, limit=limit, offset=offset
        )
        return Page[CancellationOut](items=presenters.cancellation_outs(rows), total=total, limit=limit, offset=offset)

    @get("/{request_id:uuid}", guards=[signed_in], summary="One request to cancel")
    async def get_request(self, request_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> CancellationOut:
        (out,) = presenters.cancellation_outs([await cancellation.get(db, actor, request_id)])
        return out

    @post(
        "/{request_id:uuid}/decide",
        guards=[admin_only],
        status_code=200,
        summary="Approve (the purchase is cancelled) or refuse, in writing",
    )
    async def decide(
        self,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[CancellationDecideIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> CancellationOut:
        r = await cancellation.decide(db, actor, settings, request_id, approved=data.approved, decision=data.decision)
        (out,) = presenters.cancellation_outs([await cancellation.get(db, actor, r.id)])
        return out


class DrawController(Controller):
    path = "/api/v1/draws"
    tags = ["purchases"]

    @get("/{ref:str}/verify", summary="Recompute a purchase's draws from its published result")
    async def verify(self, ref: FromPath[str], db: DbSession, settings: AppSettings) -> DrawVerifyOut:
        p = await purchases.get_by_ref(db, settings, ref)
        checks = await selecting.verify_purchase(db, p)
        return DrawVerifyOut(
            ref=str(p.ref),
            purchase_id=p.id,
            ok=bool(checks) and all(c.verification.ok for c in checks),
            draws=[
                DrawCheckOut(
                    round=c.round,
                    status=c.status,
                    ok=c.verification.ok,
                    checks=dict(c.verification.checks),
                    seed=c.verification.seed,
                    index=c.verification.index,
                    winner_digest=c.verification.winner,
                )
                for c in checks
            ],
        )


class EvaluationController(Controller):
    """Scored selection in two envelopes (bidding.scoring): blind quality marks, then the prices."""

    path = "/api/v1/purchases/{purchase_id:uuid}/evaluation"
    tags = ["purchases"]

    @get("/", guards=[bid_openers], summary="Scored: the bids' technical parts and quality marks (no price)")
    async def evaluation(
        self, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> EvaluationOut:
        return presenters.evaluation_out(await scoring.evaluation(db, actor, settings, purchase_id))

    @patch("/marks/{bid_id:uuid}", guards=[owner_only], summary="Scored: mark a bid's technical part with a reason")
    async def mark(
        self,
        purchase_id: FromPath[uuid.UUID],
        bid_id: FromPath[uuid.UUID],
        data: JSONBody[MarkIn],
        db: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> TechnicalPartOut:
        await scoring.mark(db, actor, settings, purchase_id, bid_id, value=data.mark, reason=data.reason)
        out = presenters.evaluation_out(await scoring.evaluation(db, actor, settings, purchase_id))
        return next(item for item in out.items if item.bid_id == bid_id)

    @post("/lock", guards=[owner_only], status_code=200, summary="Scored: lock the marks for good; the prices open")
    async def lock(
        self, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor, settings: AppSettings
    ) -> EvaluationOut:
        await scoring.lock(db, actor, settings, purchase_id)
        return presenters.evaluation_out(await scoring.evaluation(db, actor, settings, purchase_id))


def routes(settings: Settings) -> list[Any]:
    """The package's API routes (the composition root mounts them)."""
    return [
        PurchaseController,
        QuestionController,
        BidController,
        ObjectionController,
        CancellationController,
        DrawController,
        EvaluationController,
    ]
