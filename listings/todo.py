"""The operator's review queues as to-do lists (issue 11.4): one query each, oldest first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from listings.models import Qualification, ReviewStatus, Violation, ViolationAppeal
from listings.organizations import review_due
from listings.violation_rules import ViolationStatus
from market import clock, todo
from market.actor import Actor
from market.identity.models import Organization, OrgStatus
from market.settings import Settings
from market.terms import N_


async def registrations_to_review(session: AsyncSession, actor: Actor, settings: Settings) -> todo.TodoList:
    rows, total = await todo.oldest(
        session,
        select(Organization)
        .where(col(Organization.status) == OrgStatus.pending)
        .order_by(col(Organization.updated_at), col(Organization.id)),
    )
    now = clock.now()
    items = []
    for org in rows:
        due = review_due(org, settings)
        items.append(todo.Item(org.name, f"/admin/organizations/{org.id}", org.updated_at, due, due < now))
    return todo.TodoList("registrations_to_review", N_("Registrations to review"), "/admin/reviews", items, total)


async def qualifications_to_review(session: AsyncSession, actor: Actor, settings: Settings) -> todo.TodoList:
    rows, total = await todo.oldest(
        session,
        select(Qualification, Organization)
        .join(Organization, col(Organization.id) == col(Qualification.provider_id))
        .where(col(Qualification.status) == ReviewStatus.pending)
        .order_by(col(Qualification.updated_at), col(Qualification.id)),
    )
    items = [todo.Item(f"{org.name} · {q.name}", "/admin/reviews", q.updated_at) for q, org in rows]
    return todo.TodoList("qualifications_to_review", N_("Qualifications to review"), "/admin/reviews", items, total)


async def appeals_to_decide(session: AsyncSession, actor: Actor, settings: Settings) -> todo.TodoList:
    rows, total = await todo.oldest(
        session,
        select(ViolationAppeal, Organization)
        .join(Violation, col(Violation.id) == col(ViolationAppeal.violation_id))
        .join(Organization, col(Organization.id) == col(Violation.provider_id))
        .where(col(Violation.status) == ViolationStatus.under_appeal)
        .order_by(col(ViolationAppeal.filed_at), col(ViolationAppeal.id)),
    )
    items = [todo.Item(org.name, f"/admin/violations/{a.violation_id}", a.filed_at) for a, org in rows]
    return todo.TodoList("appeals_to_decide", N_("Violation appeals to decide"), "/admin/violations", items, total)


async def violations_open_to_appeal(session: AsyncSession, actor: Actor, settings: Settings) -> todo.TodoList:
    """The firm's violations it may still appeal, with the end of each appeal window."""
    rows, total = await todo.oldest(
        session,
        select(Violation)
        .where(
            col(Violation.provider_id) == actor.org_id,
            col(Violation.status) == ViolationStatus.appealable,
            col(Violation.appeal_due_at) > clock.now(),
        )
        .order_by(col(Violation.appeal_due_at), col(Violation.id)),
    )
    items = [
        todo.Item(f"{v.points} · {v.reason[:60]}", f"/workspace/violations/{v.id}", v.recorded_at, v.appeal_due_at)
        for v in rows
    ]
    return todo.TodoList(
        "violations_open_to_appeal", N_("Violations you may appeal"), "/workspace/violations", items, total
    )


TODO: list[todo.Todo] = [
    ("admin", registrations_to_review),
    ("admin", qualifications_to_review),
    ("admin", appeals_to_decide),
    ("provider", violations_open_to_appeal),
]
