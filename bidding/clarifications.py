"""Clarifications (答疑): providers ask while a purchase is open; the owner answers publicly; the
asker stays anonymous to the owner and the public (the row keeps it for the record only)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bidding import notifications, purchases, rules
from bidding.models import PurchaseStatus, Question
from market import audit, clock
from market.actor import Actor
from market.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from market.i18n import gettext as _
from market.settings import Settings

S = PurchaseStatus
MAX_QUESTION = 4000
MAX_ANSWER = 8000


async def ask(session: AsyncSession, actor: Actor, settings: Settings, purchase_id: uuid.UUID, text: str) -> Question:
    if actor.role != "provider" or actor.org_id is None:
        raise PermissionDenied(_("Only intermediary firms ask clarification questions."))
    p = await purchases.get_purchase(session, settings, actor, purchase_id)
    if p.status != S.open:
        raise RuleViolation(_("Questions are taken only while the purchase is open for bids."))
    text = rules.text(
        text, "question", shortest=5, longest=MAX_QUESTION, too_short=_("Write your question (at least 5 characters).")
    )
    q = Question(
        purchase_id=p.id, asker_org_id=actor.org_id, asked_by=actor.user_id, question=text, asked_at=clock.now()
    )
    session.add(q)
    await session.flush()
    audit.record(session, actor, "question.asked", "question", q.id, {"purchase_id": p.id, "question": text})
    return q


async def answer(
    session: AsyncSession, actor: Actor, settings: Settings, question_id: uuid.UUID, text: str
) -> Question:
    q = await session.get(Question, question_id)
    if q is None:
        raise NotFound(_("No such question."))
    p = await purchases.owned(session, settings, actor, q.purchase_id)
    if p.status not in (S.open, S.evaluating):
        raise RuleViolation(_("Questions can be answered while the purchase is open or being evaluated."))
    if q.answer is not None:
        raise Conflict(_("This question has already been answered."))
    text = rules.text(text, "answer", shortest=2, longest=MAX_ANSWER, too_short=_("Write the answer."))
    q.answer, q.answered_at, q.answered_by = text, clock.now(), actor.user_id
    audit.record(session, actor, "question.answered", "question", q.id, {"purchase_id": p.id, "answer": text})
    await notifications.answered(session, p, q)
    return q


async def questions(session: AsyncSession, purchase_id: uuid.UUID) -> list[Question]:
    return list(
        await session.scalars(
            select(Question).where(col(Question.purchase_id) == purchase_id).order_by(col(Question.asked_at))
        )
    )
