"""Selection by rule, the published result with its draw proof, objections and their decisions."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bidding import bids as bid_service
from bidding import cancellation, draw, notifications, purchases, queries, rules, scoring, sealing, timeline
from bidding.models import (
    Bid,
    BidStatus,
    FailReason,
    Method,
    Objection,
    ObjectionStatus,
    Purchase,
    PurchaseStatus,
    Selection,
    SelectionStatus,
)
from listings import credit
from listings.credit_rules import CreditFactKind
from market import audit, clock
from market.actor import SYSTEM, Actor, require_approver
from market.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RuleViolation
from market.i18n import format_datetime
from market.i18n import gettext as _
from market.jsonutil import canonical
from market.money import to_money
from market.settings import Settings
from market.terms import N_
from market.workdays import add_period

S = PurchaseStatus
MAX_TEXT = 8000  # an objection's reasons, a decision's grounds
MAX_REASON = 4000  # the written reason of a direct selection


async def pool(session: AsyncSession, purchase_id: uuid.UUID) -> list[Bid]:
    """The bids the rules choose from: active at the deadline, valid, not excluded by an objection."""
    return list(
        await session.scalars(
            select(Bid)
            .where(
                col(Bid.purchase_id) == purchase_id,
                col(Bid.status) == BidStatus.active,
                col(Bid.valid).is_(True),
                col(Bid.excluded).is_(False),
            )
            .order_by(col(Bid.digest))
        )
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


async def select_winner(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    purchase_id: uuid.UUID,
    *,
    bid_id: uuid.UUID | None = None,
    reason: str | None = None,
    quality_marks: dict[str, int] | None = None,
) -> Selection:
    """The owner runs the selection; the method decides (SPEC §5 "Selection")."""
    require_approver(actor)
    p = await purchases.owned(session, settings, actor, purchase_id)
    if reason is not None:  # a direct selection's written reason (the rules say how short it may be)
        reason = rules.text(reason, "reason", shortest=0, longest=MAX_REASON, too_short="") or None
    if p.status != S.evaluating:
        if p.status == S.open:
            raise RuleViolation(
                _("Selection starts after the deadline (%(deadline)s).", deadline=format_datetime(p.bid_deadline))
            )
        raise RuleViolation(_("This purchase is not waiting for a selection."))
    await cancellation.refuse_while_pending(session, p)
    if await bid_service.unexplained(session, p.id):
        raise RuleViolation(
            _("An abnormally low price awaits its bidder's explanation."),
            _(
                "Selection is possible once every flagged bidder has explained, or at %(due)s.",
                due=format_datetime(p.explanation_due_at),
            ),
        )
    bids = await pool(session, p.id)
    if len(bids) < p.min_bids:  # pragma: no cover - the close, the expiry and objections fail such purchases
        raise RuleViolation(_("There are fewer valid bids than the minimum."))
    if p.method == Method.scored:
        if quality_marks:
            raise InvalidInput.field(
                "quality_marks",
                _("Quality marks are given with reasons and locked before the prices open; the selection uses them."),
            )
        marks = await scoring.locked_marks(session, p, bids)
        if any(b.credit_score is None for b in bids):  # opened before credit was snapshotted at the opening
            await timeline.snapshot_credit(session, p, [b for b in bids if b.credit_score is None])
        for b in bids:
            b.quality_mark = marks[b.id]
    elif quality_marks:
        raise InvalidInput.field("quality_marks", _("Quality marks apply only to scored selection."))
    return await run(session, actor, settings, p, bids, chosen=bid_id, reason=reason, action="selected")


async def run(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    p: Purchase,
    bids: list[Bid],
    *,
    chosen: uuid.UUID | None,
    reason: str | None,
    action: str,
    data: dict[str, Any] | None = None,
) -> Selection:
    """Apply the method to ``bids`` with the committed secret, publish the result, start publicity."""
    require_approver(actor)
    weights = (
        rules.Weights(p.weight_price or 0, p.weight_quality or 0, p.weight_credit or 0)
        if p.method == Method.scored
        else None
    )
    candidates = [rules.Candidate(b.id, b.digest, b.price, b.quality_mark, b.credit_score) for b in bids]
    assert p.draw_secret is not None and p.ref is not None
    outcome = rules.select(
        p.method,
        candidates,
        secret=sealing.unseal(settings.secret_key, p.id, p.draw_secret, p.draw_commitment or ""),
        purchase_ref=p.ref,
        weights=weights,
        chosen_bid_id=chosen,
        reason=reason,
    )
    now = clock.now()
    last_round = await session.scalar(select(func.max(Selection.round)).where(col(Selection.purchase_id) == p.id))
    ends = add_period(now, settings.publicity_days, settings.accelerator)
    d = outcome.draw
    selection = Selection(
        purchase_id=p.id,
        round=int(last_round or 0) + 1,
        method=p.method,
        winner_bid_id=outcome.winner.bid_id,
        price=outcome.winner.price,
        reason=outcome.reason,
        evaluation=canonical(outcome.evaluation()),
        draw_commitment=d.commitment if d else None,
        draw_secret=d.secret if d else None,
        draw_seed=d.seed if d else None,
        draw_candidates=canonical(d.candidates) if d else None,
        draw_index=d.index if d else None,
        selected_at=now,
        selected_by=actor.user_id,
        publicity_ends_at=ends,
    )
    session.add(selection)
    if d is not None:
        # the secret is public now: commit to a fresh one for a possible rerun
        secret = draw.new_secret()
        p.draw_secret = sealing.seal(settings.secret_key, p.id, secret)
        p.draw_commitment = draw.commitment(secret)
    p.selected_at = now
    p.publicity_ends_at = ends
    await session.flush()
    timeline.move(
        session,
        actor,
        p,
        S.publicity,
        action,
        {
            **(data or {}),
            "round": selection.round,
            "method": p.method,
            "winner_bid_id": selection.winner_bid_id,
            "winner_digest": outcome.winner.digest,
            "price": selection.price,
            "reason": selection.reason,
            "draw": d.public() if d else None,
            "next_draw_commitment": p.draw_commitment,
            "publicity_ends_at": ends,
        },
    )
    await timeline.schedule(session, p)
    await notifications.result_published(session, p, selection.round)
    return selection


# --- objections -------------------------------------------------------------------------------


async def file_objection(
    session: AsyncSession, actor: Actor, settings: Settings, purchase_id: uuid.UUID, reason: str
) -> Objection:
    if actor.role != "provider" or actor.org_id is None:
        raise PermissionDenied(_("Only bidders object to a result."))
    p = await purchases.get_purchase(session, settings, actor, purchase_id, for_update=True)
    if p.status != S.publicity or p.publicity_ends_at is None or clock.now() >= p.publicity_ends_at:
        raise RuleViolation(_("Objections are accepted only during the publicity period of a result."))
    selection = await timeline.current_selection(session, p.id)
    assert selection is not None
    bid = await bid_service.my_active_bid(session, actor, p.id)
    if bid is None or bid.valid is None:
        raise PermissionDenied(_("Only firms that bid on this purchase may object."))
    if bid.id == selection.winner_bid_id:
        raise RuleViolation(_("The selected firm cannot object to its own selection."))
    existing = await session.scalar(
        select(Objection.id).where(
            col(Objection.selection_id) == selection.id, col(Objection.provider_id) == actor.org_id
        )
    )
    if existing is not None:
        raise Conflict(_("You have already objected to this result; a bidder objects once."))
    reason = rules.text(
        reason, "reason", shortest=10, longest=MAX_TEXT, too_short=_("Give your reasons (at least 10 characters).")
    )
    objection = Objection(
        purchase_id=p.id,
        selection_id=selection.id,
        provider_id=actor.org_id,
        filed_by=actor.user_id,
        reason=reason,
        filed_at=clock.now(),
    )
    session.add(objection)
    await session.flush()
    audit.record(
        session,
        actor,
        "objection.filed",
        "objection",
        objection.id,
        {"purchase_id": p.id, "selection_round": selection.round, "reason": reason},
    )
    await notifications.objection_filed(session, p)
    await timeline.schedule(session, p)
    return objection


async def get_objection(session: AsyncSession, actor: Actor, objection_id: uuid.UUID) -> tuple[Objection, Purchase]:
    objection = await session.get(Objection, objection_id)
    if objection is None:
        raise NotFound(_("No such objection."))
    p = await session.get(Purchase, objection.purchase_id)
    assert p is not None
    allowed = (
        actor.role in ("admin", "finance")
        or (actor.role == "owner" and p.owner_id == actor.org_id)
        or (actor.role == "provider" and objection.provider_id == actor.org_id)
    )
    if not allowed:
        raise NotFound(_("No such objection."))
    return objection, p


async def list_objections(
    session: AsyncSession, actor: Actor, *, status: str | None, purchase_id: uuid.UUID | None, limit: int, offset: int
) -> tuple[list[tuple[Objection, Purchase]], int]:
    query = select(Objection, Purchase).join(Purchase, col(Purchase.id) == col(Objection.purchase_id))
    if actor.role == "owner":
        query = query.where(col(Purchase.owner_id) == actor.org_id)
    elif actor.role == "provider":
        query = query.where(col(Objection.provider_id) == actor.org_id)
    elif actor.role not in ("admin", "finance"):
        raise PermissionDenied(_("You may not see objections."))
    if status:
        query = query.where(col(Objection.status) == status)
    if purchase_id:
        query = query.where(col(Objection.purchase_id) == purchase_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (await session.execute(query.order_by(col(Objection.filed_at).desc()).limit(limit).offset(offset))).all()
    return [(o, p) for o, p in rows], int(total or 0)


async def decide(
    session: AsyncSession, actor: Actor, settings: Settings, objection_id: uuid.UUID, *, upheld: bool, decision: str
) -> Objection:
    """The operator upholds or dismisses an objection with a written decision.

    Upheld: the winner is excluded and the selection reruns on the rest with a fresh draw (the
    new commitment was published with the previous result), or — for ``direct`` — the owner
    selects again; too few bids left fails the purchase. Dismissed: if publicity is over and no
    other objection is pending, the purchase is awarded now.
    """
    if actor.role != "admin":
        raise PermissionDenied(_("Only the platform operator decides objections."))
    objection = await session.get(Objection, objection_id)
    if objection is None:
        raise NotFound(_("No such objection."))
    p = await timeline.lock(session, objection.purchase_id)
    assert p is not None
    objection = await session.scalar(
        select(Objection)
        .where(col(Objection.id) == objection_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert objection is not None
    if objection.status != ObjectionStatus.pending:
        raise Conflict(_("This objection has already been decided."))
    decision = rules.text(
        decision,
        "decision",
        shortest=10,
        longest=MAX_TEXT,
        too_short=_("Write the decision and its grounds (at least 10 characters)."),
    )
    now = clock.now()
    objection.status = ObjectionStatus.upheld if upheld else ObjectionStatus.dismissed
    objection.decision, objection.decided_at, objection.decided_by = decision, now, actor.user_id
    audit.record(
        session,
        actor,
        f"objection.{objection.status}",
        "objection",
        objection.id,
        {"purchase_id": p.id, "decision": decision},
    )
    await notifications.objection_decided(session, p, objection, N_("upheld") if upheld else N_("dismissed"))
    if upheld:
        await _overturn(session, settings, p, objection, now)
    else:
        await timeline.apply_due(session, settings, p, now)  # publicity may be over: the award is due now
    await timeline.schedule(session, p)
    return objection


async def upheld_effect(session: AsyncSession, objection: Objection, p: Purchase) -> rules.UpheldEffect | None:
    """What upholding this pending objection would do now (``None`` once it is decided)."""
    if objection.status != ObjectionStatus.pending:
        return None
    selection = await session.get(Selection, objection.selection_id)
    if selection is None or selection.status != SelectionStatus.current:  # pragma: no cover - superseded first
        return None
    remaining = [b for b in await pool(session, p.id) if b.id != selection.winner_bid_id]
    return rules.upheld_effect(p.method, len(remaining), p.min_bids)


async def _overturn(
    session: AsyncSession, settings: Settings, p: Purchase, objection: Objection, now: datetime
) -> None:
    selection = await session.get(Selection, objection.selection_id)
    assert selection is not None
    if selection.status != SelectionStatus.current or p.status != S.publicity:  # pragma: no cover - guarded
        raise RuleViolation(_("This result has already been overturned."))
    selection.status = SelectionStatus.overturned
    winner = await session.get(Bid, selection.winner_bid_id)
    assert winner is not None
    # the firm's credit: an objection upheld against a selection it won
    await credit.record_fact(
        session,
        provider_id=winner.provider_id,
        kind=CreditFactKind.objection_upheld,
        occurred_at=now,
        value=1,
        source_id=objection.id,
        link=f"/purchases/{p.id}#round-{selection.round}",
        note=p.ref or "",
    )
    others = list(
        await session.scalars(
            select(Objection).where(
                col(Objection.selection_id) == selection.id,
                col(Objection.status) == ObjectionStatus.pending,
                col(Objection.id) != objection.id,
            )
        )
    )
    for other in others:
        other.status = ObjectionStatus.superseded
        other.decision = _("The result was overturned by another upheld objection; you may object to the new result.")
        other.decided_at = now
        audit.record(session, SYSTEM, "objection.superseded", "objection", other.id, {"by": objection.id})
    await rerun_without_winner(
        session, settings, p, selection, FailReason.objection_upheld, {"objection_id": objection.id}
    )


async def rerun_without_winner(
    session: AsyncSession,
    settings: Settings,
    p: Purchase,
    selection: Selection,
    fail_reason: FailReason,
    data: dict[str, Any],
) -> None:
    """The selection ``selection`` no longer stands (an upheld objection, an award voided): its
    winner is excluded and the method runs again on the remaining valid bids, drawing with the
    secret committed with the previous result (a new round); for ``direct`` the owner selects
    again; fewer valid bids than the minimum fail the purchase. ``data`` names the cause in the
    audit events."""
    winner = await session.get(Bid, selection.winner_bid_id)
    assert winner is not None
    winner.excluded = True
    audit.record(
        session,
        SYSTEM,
        "purchase.winner_excluded",
        "purchase",
        p.id,
        {"round": selection.round, "bid_id": winner.id, **data},
    )
    rest = await pool(session, p.id)
    if len(rest) < p.min_bids:
        await timeline.fail(session, p, fail_reason, {"valid_bids": len(rest), "min_bids": p.min_bids, **data})
    elif p.method == Method.direct:
        p.publicity_ends_at = None
        timeline.move(session, SYSTEM, p, S.evaluating, "reopened", data)
    else:
        await run(session, SYSTEM, settings, p, rest, chosen=None, reason=None, action="reselected", data=data)


# --- an award its winner did not sign ----------------------------------------------------------


async def void_effect(session: AsyncSession, p: Purchase) -> rules.UpheldEffect | None:
    """What voiding the award of an awarded purchase would do now: rerun among the remaining
    valid bids, the owner selects again (direct), or fail below the minimum (None: no award)."""
    if p.status != S.awarded:
        return None
    selection = await timeline.current_selection(session, p.id)
    if selection is None:  # pragma: no cover - an award always has its selection
        return None
    remaining = [b for b in await pool(session, p.id) if b.id != selection.winner_bid_id]
    return rules.upheld_effect(p.method, len(remaining), p.min_bids)


async def void_award(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    purchase_id: uuid.UUID,
    *,
    contract_id: uuid.UUID,
    reason: str,
) -> Selection:
    """The owner voids the award of a purchase whose winner did not sign the contract within the
    signing period (the contracts package checks the contract and calls this in its transaction):
    the round is marked voided with its reason, published on the result, and the selection reruns
    on the remaining valid bids exactly as after an upheld objection (or the purchase fails).
    Returns the voided selection."""
    require_approver(actor)
    p = await timeline.lock(session, purchase_id)
    if p is None or actor.role != "owner" or p.owner_id != actor.org_id:
        raise NotFound(_("No such purchase."))
    if p.status != S.awarded or p.contract_id != contract_id:
        raise Conflict(_("Only the award of a purchase whose contract awaits signatures can be voided."))
    selection = await timeline.current_selection(session, p.id)
    assert selection is not None
    winner = await session.get(Bid, selection.winner_bid_id)
    assert winner is not None
    now = clock.now()
    selection.status = SelectionStatus.voided
    selection.voided_at = now
    selection.void_reason = reason
    p.contract_id = None
    p.awarded_at = None
    data = {"contract_id": contract_id, "void_reason": reason}
    audit.record(
        session,
        actor,
        "purchase.award_voided",
        "purchase",
        p.id,
        {"round": selection.round, "bid_id": winner.id, "provider_id": winner.provider_id, **data},
    )
    await rerun_without_winner(session, settings, p, selection, FailReason.award_voided, {"contract_id": contract_id})
    await timeline.schedule(session, p)
    return selection


# --- the public result ------------------------------------------------------------------------


@dataclass
class Result:
    purchase: Purchase
    selection: Selection | None  # the selection that stands; None after an upheld objection
    rounds: list[Selection]
    bids: list[Bid]
    provider_names: dict[uuid.UUID, str]
    objections: list[Objection]
    reasons: dict[uuid.UUID, str]  # scored: the written reason of each bid's quality mark

    @property
    def winner(self) -> Bid | None:
        if self.selection is None:
            return None
        return next(b for b in self.bids if b.id == self.selection.winner_bid_id)


def proof(selection: Selection) -> dict[str, Any] | None:
    if selection.draw_seed is None:
        return None
    return {
        "commitment": selection.draw_commitment,
        "secret": selection.draw_secret,
        "seed": selection.draw_seed,
        "candidates": json.loads(selection.draw_candidates or "[]"),
        "index": selection.draw_index,
    }


async def result(session: AsyncSession, p: Purchase) -> Result:
    """The published result of a purchase that has had a selection (404 before)."""
    rounds = list(
        await session.scalars(
            select(Selection).where(col(Selection.purchase_id) == p.id).order_by(col(Selection.round))
        )
    )
    if not rounds:
        raise NotFound(_("There is no result yet."), _("The result is published when the owner runs the selection."))
    current = next((s for s in reversed(rounds) if s.status == SelectionStatus.current), None)
    bid_rows = list(
        await session.scalars(
            select(Bid)
            .where(col(Bid.purchase_id) == p.id, col(Bid.status) == BidStatus.active)
            .order_by(col(Bid.price), col(Bid.digest))
        )
    )
    winners = {s.winner_bid_id for s in rounds}
    names = await queries.names(session, {b.provider_id for b in bid_rows if b.id in winners})
    objections = list(
        await session.scalars(
            select(Objection).where(col(Objection.purchase_id) == p.id).order_by(col(Objection.filed_at))
        )
    )
    reasons: dict[uuid.UUID, str] = {}
    if p.method == Method.scored and p.marks_locked_at is not None:
        reasons = {bid_id: m.reason for bid_id, m in (await scoring.marks_of(session, p.id)).items()}
    return Result(p, current, rounds, bid_rows, names, objections, reasons)


def _objection(o: Objection, rounds: list[Selection]) -> dict[str, Any]:
    return {
        "id": o.id,
        "round": _round_of(rounds, o.selection_id),
        "status": o.status,
        "filed_at": o.filed_at,
        "decided_at": o.decided_at,
        "decision": o.decision,
    }


def commitments(p: Purchase, rounds: list[Selection]) -> list[rules.Commitment]:
    """The draw commitments as published: the announcement's, then each rerun's with the result
    of the round before it (the pending one only while a rerun may still come)."""
    drawn = [(s.round, s.draw_commitment) for s in rounds if s.draw_seed is not None and s.draw_commitment]
    pending = p.draw_commitment if p.status in (S.open, S.evaluating, S.publicity) else None
    return rules.commitments(drawn, pending, rounds[-1].round if rounds else 0)


def public(res: Result) -> dict[str, Any]:
    """The result as everyone sees it (SPEC §6 ``GET /purchases/{id}/result``).

    Every valid bid's price is public; bidders' names only once the purchase is awarded, except
    the winners' (a result names its winner). Every round is there with its objections; a bid
    excluded by an upheld objection is never the winner.
    """
    p, sel = res.purchase, res.selection
    awarded = p.status in (S.awarded, S.contracted)
    winner = res.winner
    shown = sel or res.rounds[-1]
    evaluation = {row["bid_id"]: row for row in json.loads(shown.evaluation)}
    scored = p.method == Method.scored
    bids = []
    for b in res.bids:
        if not b.valid and not b.excluded:
            continue
        row: dict[str, Any] = {
            "digest": b.digest,
            "price": to_money(b.price),
            "service_days": b.service_days,
            "abnormally_low": b.abnormally_low,
            "excluded": b.excluded,
            "winner": winner is not None and b.id == winner.id,
            "score": evaluation.get(str(b.id), {}).get("score"),
            "quality_mark": b.quality_mark if scored else None,
            "quality_reason": res.reasons.get(b.id) if scored else None,
            "credit_score": b.credit_score if scored else None,
            "credit_grade": b.credit_grade if (scored or p.min_grade is not None) else None,
            "provider_name": res.provider_names.get(b.provider_id)
            if (awarded or (winner is not None and b.id == winner.id))
            else None,
        }
        bids.append(row)
    by_id = {b.id: b for b in res.bids}
    return {
        "purchase_id": p.id,
        "ref": p.ref,
        "status": p.status,
        "round": shown.round,
        "method": shown.method,
        "winner_bid_id": sel.winner_bid_id if sel else None,
        "winner_digest": winner.digest if winner else None,
        "winner_provider_id": winner.provider_id if winner else None,
        "winner_provider_name": res.provider_names.get(winner.provider_id) if winner else None,
        "price": sel.price if sel else None,
        "service_days": winner.service_days if winner else None,
        "reason": sel.reason if sel else None,
        "selected_at": sel.selected_at if sel else None,
        "publicity_ends_at": sel.publicity_ends_at if sel else None,
        "awarded_at": p.awarded_at,
        "draw": proof(sel) if sel else None,
        "next_draw_commitment": p.draw_commitment if p.status == S.publicity else None,
        "bids": bids,
        "rounds": [
            {
                "round": s.round,
                "status": s.status,
                "method": s.method,
                "winner_bid_id": s.winner_bid_id,
                "winner_digest": by_id[s.winner_bid_id].digest if s.winner_bid_id in by_id else None,
                "winner_provider_name": res.provider_names.get(by_id[s.winner_bid_id].provider_id)
                if s.winner_bid_id in by_id
                else None,
                "price": s.price,
                "reason": s.reason,
                "selected_at": s.selected_at,
                "publicity_ends_at": s.publicity_ends_at,
                "draw": proof(s),
                "objections": [_objection(o, res.rounds) for o in res.objections if o.selection_id == s.id],
                "voided_at": s.voided_at,
                "void_reason": s.void_reason,
            }
            for s in res.rounds
        ],
        "objections": [_objection(o, res.rounds) for o in res.objections],
        "commitments": [
            {
                "round": c.round,
                "commitment": c.commitment,
                "published_with_round": c.published_with,
                "drawn": c.drawn,
            }
            for c in commitments(p, res.rounds)
        ],
    }


def _round_of(rounds: list[Selection], selection_id: uuid.UUID) -> int | None:
    return next((s.round for s in rounds if s.id == selection_id), None)


async def names_for_award(session: AsyncSession, res: Result) -> None:
    """After the award every valid bidder is named in the result."""
    if res.purchase.status in (S.awarded, S.contracted):
        res.provider_names.update(await queries.names(session, {b.provider_id for b in res.bids}))


async def public_result(session: AsyncSession, p: Purchase) -> dict[str, Any]:
    res = await result(session, p)
    await names_for_award(session, res)
    return public(res)


@dataclass
class DrawCheck:
    round: int
    status: str
    proof: dict[str, Any]
    winner_digest: str | None
    verification: draw.Verification


async def verify_purchase(session: AsyncSession, p: Purchase) -> list[DrawCheck]:
    """Recompute every draw of the purchase from its published result."""
    published = await public_result(session, p)
    checks = []
    for r in published["rounds"]:
        if r["draw"] is None:
            continue
        checks.append(
            DrawCheck(
                round=r["round"],
                status=r["status"],
                proof=r["draw"],
                winner_digest=r["winner_digest"],
                verification=draw.verify(str(p.ref), r["draw"], r["winner_digest"]),
            )
        )
    return checks
