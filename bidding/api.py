"""JSON API of the bidding package (SPEC §6). Controllers translate; the services hold the rules."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, MediaType, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from bidding import bids as bid_service
from bidding import presenters, rules, selecting, services
from bidding.schemas import (
    AnswerIn,
    BidIn,
    BidOut,
    Created,
    DecideIn,
    DrawCheckOut,
    DrawVerifyOut,
    ExplanationIn,
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
)
from market.identity.guards import requires_role, signed_in
from market.schemas import Page
from market.settings import Settings
from market.web.deps import CurrentActor, DbSession

owner_only = requires_role("owner")
provider_only = requires_role("provider")
admin_only = requires_role("admin")
bid_openers = requires_role("owner", "admin", "finance")

Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Offset = Annotated[int, QueryParameter(ge=0)]


def _input(data: PurchaseCreate) -> services.PurchaseInput:
    return services.PurchaseInput(
        title=data.title,
        catalog_code=data.catalog_code,
        description=data.description,
        budget_cap=data.budget_cap,
        price_floor=data.price_floor,
        funding=data.funding,
        investment_code=data.investment_code,
        method=data.method,
        bid_deadline=data.bid_deadline,
        service_days=data.service_days,
        min_bids=data.min_bids,
        weights=rules.Weights(data.weights.price, data.weights.quality, data.weights.credit) if data.weights else None,
        avoid_provider_ids=tuple(data.avoid_provider_ids),
    )


def _changes(data: PurchaseUpdate) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in data.model_fields_set:
        value = getattr(data, name)
        if name == "weights":
            value = rules.Weights(value.price, value.quality, value.credit) if value else None
        elif name == "avoid_provider_ids":
            value = tuple(value or ())
        changes[name] = value
    return changes


def _status(p: Any) -> StatusOut:
    return StatusOut(id=p.id, ref=p.ref, status=p.status, draw_commitment=p.draw_commitment)


class PurchaseController(Controller):
    path = "/api/v1/purchases"
    tags = ["purchases"]

    @post("/", guards=[owner_only], status_code=201, summary="Draft a purchase")
    async def create(self, data: JSONBody[PurchaseCreate], db: DbSession, actor: CurrentActor) -> Created:
        p = await services.create_draft(db, actor, _input(data))
        return Created(id=p.id, ref=p.ref, status=p.status)

    @get("/", summary="Published purchases, filtered by status, q, catalog_code, owner_id, method")
    async def list_purchases(
        self,
        db: DbSession,
        status: Annotated[str | None, QueryParameter(max_length=16)] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        catalog_code: Annotated[str | None, QueryParameter(max_length=32)] = None,
        owner_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
        method: Annotated[str | None, QueryParameter(max_length=16)] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[PurchaseSummary]:
        f = services.PurchaseFilter(status=status, q=q, catalog_code=catalog_code, owner_id=owner_id, method=method)
        rows, total = await services.list_published(db, f, limit=limit, offset=offset)
        return Page[PurchaseSummary](
            items=await presenters.summaries(db, rows), total=total, limit=limit, offset=offset
        )

    @get("/mine", guards=[owner_only], summary="The owner's purchases, drafts included")
    async def mine(
        self,
        db: DbSession,
        actor: CurrentActor,
        status: Annotated[str | None, QueryParameter(max_length=16)] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[PurchaseSummary]:
        rows, total = await services.list_own(
            db, actor, services.PurchaseFilter(status=status), limit=limit, offset=offset
        )
        return Page[PurchaseSummary](
            items=await presenters.summaries(db, rows), total=total, limit=limit, offset=offset
        )

    @get("/{purchase_id:uuid}", summary="One purchase (a draft only for its owner)")
    async def get_purchase(self, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> PurchaseOut:
        p = await services.get_purchase(db, actor, purchase_id)
        return await presenters.purchase_out(db, p)

    @patch("/{purchase_id:uuid}", guards=[owner_only], summary="Edit a draft")
    async def update(
        self, purchase_id: FromPath[uuid.UUID], data: JSONBody[PurchaseUpdate], db: DbSession, actor: CurrentActor
    ) -> PurchaseOut:
        p = await services.update_draft(db, actor, purchase_id, _changes(data))
        return await presenters.purchase_out(db, p)

    @post(
        "/{purchase_id:uuid}/publish", guards=[owner_only], status_code=200, summary="Publish: freeze, number, commit"
    )
    async def publish(self, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> StatusOut:
        return _status(await services.publish(db, actor, purchase_id))

    @post("/{purchase_id:uuid}/cancel", guards=[owner_only], status_code=200, summary="Cancel with a reason")
    async def cancel(
        self, purchase_id: FromPath[uuid.UUID], data: JSONBody[ReasonIn], db: DbSession, actor: CurrentActor
    ) -> StatusOut:
        return _status(await services.cancel(db, actor, purchase_id, data.reason))

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
        data: JSONBody[RepublishIn | None] = None,
    ) -> Created:
        p = await services.republish(db, actor, purchase_id, data.bid_deadline if data else None)
        return Created(id=p.id, ref=p.ref, status=p.status)

    @get("/{purchase_id:uuid}/questions", summary="Clarifications (askers stay anonymous)")
    async def list_questions(
        self, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor
    ) -> list[QuestionOut]:
        p = await services.get_purchase(db, actor, purchase_id)
        return [presenters.question_out(q) for q in await services.questions(db, p.id)]

    @post("/{purchase_id:uuid}/questions", guards=[provider_only], status_code=201, summary="Ask a question")
    async def ask(
        self, purchase_id: FromPath[uuid.UUID], data: JSONBody[QuestionIn], db: DbSession, actor: CurrentActor
    ) -> QuestionOut:
        return presenters.question_out(await services.ask(db, actor, purchase_id, data.question))

    @post(
        "/{purchase_id:uuid}/bids",
        guards=[provider_only],
        status_code=201,
        summary="Submit a sealed bid; a second call replaces it",
    )
    async def bid(
        self, purchase_id: FromPath[uuid.UUID], data: JSONBody[BidIn], db: DbSession, actor: CurrentActor
    ) -> Receipt:
        b = await bid_service.submit(
            db, actor, purchase_id, price=data.price, service_days=data.service_days, note=data.note or ""
        )
        return Receipt(id=b.id, digest=b.digest, received_at=b.received_at)

    @get(
        "/{purchase_id:uuid}/bids",
        guards=[bid_openers],
        summary="Opened bids: owner, operator and finance, after the deadline",
    )
    async def opened(self, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> OpenedBids:
        p, rows = await bid_service.opened(db, actor, purchase_id)
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
        self, purchase_id: FromPath[uuid.UUID], data: JSONBody[SelectIn], db: DbSession, actor: CurrentActor
    ) -> ResultOut:
        await selecting.select_winner(
            db, actor, purchase_id, bid_id=data.bid_id, reason=data.reason, quality_marks=data.quality_marks
        )
        p = await services.get_purchase(db, actor, purchase_id)
        return ResultOut.model_validate(await selecting.public_result(db, p))

    @get("/{purchase_id:uuid}/result", summary="The result with its draw proof (public after the selection)")
    async def result(self, purchase_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> ResultOut:
        p = await services.get_purchase(db, actor, purchase_id)
        return ResultOut.model_validate(await selecting.public_result(db, p))

    @post("/{purchase_id:uuid}/objections", guards=[provider_only], status_code=201, summary="Object to the result")
    async def object(
        self, purchase_id: FromPath[uuid.UUID], data: JSONBody[ObjectionIn], db: DbSession, actor: CurrentActor
    ) -> ObjectionOut:
        o = await selecting.file_objection(db, actor, purchase_id, data.reason)
        p = await services.get_purchase(db, actor, purchase_id)
        (out,) = await presenters.objection_outs(db, [(o, p)])
        return out


class QuestionController(Controller):
    path = "/api/v1/questions"
    tags = ["purchases"]

    @post("/{question_id:uuid}/answer", guards=[owner_only], status_code=200, summary="Answer publicly")
    async def answer(
        self, question_id: FromPath[uuid.UUID], data: JSONBody[AnswerIn], db: DbSession, actor: CurrentActor
    ) -> QuestionOut:
        return presenters.question_out(await services.answer(db, actor, question_id, data.answer))


class BidController(Controller):
    path = "/api/v1/bids"
    tags = ["bids"]

    @get("/", guards=[provider_only], summary="My bids with their receipts")
    async def mine(
        self,
        db: DbSession,
        actor: CurrentActor,
        history: Annotated[bool, QueryParameter(description="include replaced bids")] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[BidOut]:
        rows, total = await bid_service.mine(db, actor, limit=limit, offset=offset, include_history=history)
        return Page[BidOut](items=[presenters.bid_out(b, p) for b, p in rows], total=total, limit=limit, offset=offset)

    @get("/{bid_id:uuid}", guards=[signed_in], summary="One bid: its bidder; after the deadline owner, admin, finance")
    async def read(self, bid_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> BidOut:
        b, p = await bid_service.read(db, actor, bid_id)
        return presenters.bid_out(b, p)

    @get(
        "/{bid_id:uuid}/document",
        guards=[signed_in],
        summary="The bid's canonical content; its SHA-256 is the receipt digest",
        media_type=MediaType.JSON,
    )
    async def document(self, bid_id: FromPath[uuid.UUID], db: DbSession, actor: CurrentActor) -> Response[bytes]:
        b, p = await bid_service.read(db, actor, bid_id)
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
        self, bid_id: FromPath[uuid.UUID], data: JSONBody[ExplanationIn], db: DbSession, actor: CurrentActor
    ) -> BidOut:
        b = await bid_service.explain(db, actor, bid_id, data.explanation)
        _b, p = await bid_service.read(db, actor, b.id)
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
        self, objection_id: FromPath[uuid.UUID], data: JSONBody[DecideIn], db: DbSession, actor: CurrentActor
    ) -> ObjectionOut:
        o = await selecting.decide(db, actor, objection_id, upheld=data.upheld, decision=data.decision)
        o, p = await selecting.get_objection(db, actor, o.id)
        (out,) = await presenters.objection_outs(db, [(o, p)])
        return out


class DrawController(Controller):
    path = "/api/v1/draws"
    tags = ["purchases"]

    @get("/{ref:str}/verify", summary="Recompute a purchase's draws from its published result")
    async def verify(self, ref: FromPath[str], db: DbSession) -> DrawVerifyOut:
        p = await services.get_by_ref(db, ref)
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


def routes(settings: Settings) -> list[Any]:
    """The package's API routes (the composition root mounts them)."""
    return [PurchaseController, QuestionController, BidController, ObjectionController, DrawController]
