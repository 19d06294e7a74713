"""Turning rows into response schemas (shared by the API, the pages and the CLI)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bidding import cancellation, notices, purchases, queries, rules, scoring, selecting
from bidding.models import (
    Bid,
    BidStatus,
    CancellationRequest,
    ChangeNotice,
    Method,
    Objection,
    Purchase,
    PurchaseStatus,
    Question,
    Selection,
    SelectionStatus,
)
from bidding.outcomes import outcome
from bidding.schemas import (
    BidOut,
    CancellationOut,
    ChangeNoticeOut,
    ChangeOut,
    EvaluationOut,
    IfUpheld,
    ObjectionOut,
    OpenedBidOut,
    PurchaseOut,
    PurchaseSummary,
    QuestionOut,
    TechnicalPartOut,
    Weights,
)


async def summaries(session: AsyncSession, rows: list[Purchase]) -> list[PurchaseSummary]:
    owners = await queries.names(session, {p.owner_id for p in rows})
    items = await queries.catalog_names(session, {p.catalog_code for p in rows})
    return [
        PurchaseSummary(
            id=p.id,
            ref=p.ref,
            round=p.round,
            title=p.title,
            owner_id=p.owner_id,
            owner_name=owners.get(p.owner_id, ""),
            catalog_code=p.catalog_code,
            catalog_name=items.get(p.catalog_code, ""),
            budget_cap=p.budget_cap,
            method=p.method,
            status=p.effective_status,  # as of now, without writing (reads never apply due transitions)
            bid_deadline=p.bid_deadline,
            published_at=p.published_at,
        )
        for p in rows
    ]


async def purchase_out(session: AsyncSession, p: Purchase) -> PurchaseOut:
    (summary,) = await summaries(session, [p])
    counts = await queries.opened_counts(session, p)
    next_round = await session.scalar(select(Purchase.id).where(col(Purchase.previous_id) == p.id))
    weights = (
        Weights(price=p.weight_price or 0, quality=p.weight_quality or 0, credit=p.weight_credit or 0)
        if p.method == Method.scored
        else None
    )
    return PurchaseOut(
        **summary.model_dump(),
        previous_id=p.previous_id,
        next_round_id=next_round,
        description=p.description,
        price_floor=p.price_floor,
        funding=p.funding,
        investment_code=p.investment_code,
        service_days=p.service_days,
        min_bids=p.min_bids,
        weights=weights,
        avoid_provider_ids=await purchases.avoid_ids(session, p.id),
        min_grade=p.min_grade,
        draw_commitment=p.draw_commitment,
        opened_at=p.opened_at,
        explanation_due_at=p.explanation_due_at,
        selected_at=p.selected_at,
        publicity_ends_at=p.publicity_ends_at,
        awarded_at=p.awarded_at,
        contracted_at=p.contracted_at,
        cancel_reason=p.cancel_reason,
        fail_reason=p.fail_reason,
        contract_id=p.contract_id,
        cancellation_requests=cancellation_outs([(r, p) for r in await cancellation.of_purchase(session, p.id)]),
        change_notices=[notice_out(n) for n in await notices.of_purchase(session, p.id)],
        marks_locked_at=p.marks_locked_at,
        bid_count=counts[0] if counts else None,
        valid_bid_count=counts[1] if counts else None,
    )


def question_out(q: Question) -> QuestionOut:
    return QuestionOut.model_validate(q)


def bid_out(b: Bid, p: Purchase, winners: set[uuid.UUID] | None = None) -> BidOut:
    """A bid for its bidder (and, after the opening, the owner and oversight); with the winning
    bids of the current selections (``winners``) it says the bid's outcome."""
    return BidOut(
        id=b.id,
        outcome=outcome(b.status, p.status, won=b.id in winners, valid=b.valid, excluded=b.excluded)
        if winners is not None
        else None,
        purchase_id=p.id,
        purchase_ref=p.ref,
        purchase_title=p.title,
        provider_id=b.provider_id,
        price=b.price,
        service_days=b.service_days,
        note=b.note,
        digest=b.digest,
        received_at=b.received_at,
        status=b.status,
        withdrawn_at=b.withdrawn_at,
        valid=b.valid,
        invalid_reason=b.invalid_reason,
        abnormally_low=b.abnormally_low,
        explanation=b.explanation,
        explanation_due_at=p.explanation_due_at if b.abnormally_low else None,
        excluded=b.excluded,
    )


async def winning_bids(session: AsyncSession, purchase_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """The winning bid of each purchase's current selection."""
    if not purchase_ids:
        return set()
    return set(
        await session.scalars(
            select(Selection.winner_bid_id).where(
                col(Selection.purchase_id).in_(purchase_ids), col(Selection.status) == SelectionStatus.current
            )
        )
    )


async def bid_outs(session: AsyncSession, rows: list[tuple[Bid, Purchase]]) -> list[BidOut]:
    """Bids with their outcomes."""
    winners = await winning_bids(session, {p.id for _b, p in rows})
    waiting = await notices.awaiting(session, rows)
    outs = []
    for b, p in rows:
        out = bid_out(b, p, winners)
        if p.status == PurchaseStatus.open and b.status == BidStatus.active:
            out.awaiting_confirmation = b.id in waiting
        outs.append(out)
    return outs


async def opened_bid_outs(session: AsyncSession, rows: list[Bid]) -> list[OpenedBidOut]:
    names = await queries.names(session, {b.provider_id for b in rows})
    return [
        OpenedBidOut(
            id=b.id,
            provider_id=b.provider_id,
            provider_name=names.get(b.provider_id, ""),
            price=b.price,
            service_days=b.service_days,
            note=b.note,
            digest=b.digest,
            received_at=b.received_at,
            valid=b.valid,
            invalid_reason=b.invalid_reason,
            abnormally_low=b.abnormally_low,
            explanation=b.explanation,
            excluded=b.excluded,
            quality_mark=b.quality_mark,
            credit_score=b.credit_score,
            credit_grade=b.credit_grade,
        )
        for b in rows
    ]


async def objection_outs(session: AsyncSession, rows: list[tuple[Objection, Purchase]]) -> list[ObjectionOut]:
    names = await queries.names(session, {o.provider_id for o, _p in rows})
    rounds = {
        sel_id: number
        for sel_id, number in await session.execute(
            select(Selection.id, Selection.round).where(col(Selection.id).in_({o.selection_id for o, _p in rows}))
        )
    }
    return [
        ObjectionOut(
            id=o.id,
            purchase_id=p.id,
            purchase_ref=p.ref,
            purchase_title=p.title,
            provider_id=o.provider_id,
            provider_name=names.get(o.provider_id, ""),
            round=rounds.get(o.selection_id),
            reason=o.reason,
            filed_at=o.filed_at,
            status=o.status,
            decision=o.decision,
            decided_at=o.decided_at,
            if_upheld=_if_upheld(await selecting.upheld_effect(session, o, p)),
        )
        for o, p in rows
    ]


def cancellation_outs(rows: list[tuple[CancellationRequest, Purchase]]) -> list[CancellationOut]:
    return [
        CancellationOut(
            id=r.id,
            purchase_id=p.id,
            purchase_ref=p.ref,
            purchase_title=p.title,
            reason=r.reason,
            requested_at=r.requested_at,
            status=r.status,
            decision=r.decision,
            decided_at=r.decided_at,
        )
        for r, p in rows
    ]


def _if_upheld(effect: rules.UpheldEffect | None) -> IfUpheld | None:
    if effect is None:
        return None
    return IfUpheld(action=effect.action.value, remaining=effect.remaining, min_bids=effect.min_bids)


def evaluation_out(ev: scoring.Evaluation) -> EvaluationOut:
    """The technical parts of a scored purchase's bids with their marks: never a price."""
    p = ev.purchase
    return EvaluationOut(
        purchase_id=p.id,
        ref=p.ref,
        status=p.status,
        opened_at=p.opened_at,
        marks_locked_at=p.marks_locked_at,
        missing=ev.missing,
        items=[
            TechnicalPartOut(
                bid_id=t.bid.id,
                provider_id=t.bid.provider_id,
                provider_name=t.provider_name,
                service_days=t.bid.service_days,
                note=t.bid.note,
                received_at=t.bid.received_at,
                valid=t.bid.valid,
                invalid_reason=t.invalid_reason,
                excluded=t.bid.excluded,
                to_mark=t.to_mark,
                mark=t.mark.mark if t.mark else None,
                reason=t.mark.reason if t.mark else None,
                marked_at=t.mark.marked_at if t.mark else None,
            )
            for t in ev.parts
        ],
    )


def notice_out(n: ChangeNotice) -> ChangeNoticeOut:
    return ChangeNoticeOut(
        id=n.id,
        purchase_id=n.purchase_id,
        seq=n.seq,
        reason=n.reason,
        material=n.material,
        published_at=n.published_at,
        changes=[ChangeOut(**c) for c in notices.changes_of(n)],
    )
