"""The contracts' and invoices' to-do lists (issue 11.4): one query each, oldest first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from invoices import rules
from invoices.models import Contract, ContractStatus
from market import clock, todo
from market.actor import Actor
from market.settings import Settings
from market.terms import N_


def _label(contract: Contract) -> str:
    return f"{contract.number} · {contract.title}"


def _link(contract: Contract) -> str:
    return f"/workspace/contracts/{contract.id}"


async def contracts_to_sign(session: AsyncSession, actor: Actor, settings: Settings) -> todo.TodoList:
    org = todo.org_of(actor)
    mine = (
        (col(Contract.owner_id) == org) & col(Contract.owner_signed_at).is_(None)
        if actor.role == "owner"
        else (col(Contract.provider_id) == org) & col(Contract.provider_signed_at).is_(None)
    )
    rows, total = await todo.oldest(
        session,
        select(Contract)
        .where(col(Contract.status) == ContractStatus.draft, mine)
        .order_by(col(Contract.sign_by), col(Contract.number)),
    )
    now = clock.now()
    items = [todo.Item(_label(c), _link(c), c.drafted_at, c.sign_by, clock.ensure_aware(c.sign_by) < now) for c in rows]
    return todo.TodoList("contracts_to_sign", N_("Contracts to sign"), "/workspace/contracts", items, total)


async def deliveries_to_review(session: AsyncSession, actor: Actor, settings: Settings) -> todo.TodoList:
    rows, total = await todo.oldest(
        session,
        select(Contract)
        .where(col(Contract.owner_id) == todo.org_of(actor), col(Contract.status) == ContractStatus.delivered)
        .order_by(col(Contract.delivered_at), col(Contract.number)),
    )
    items = [todo.Item(_label(c), _link(c), c.delivered_at) for c in rows]
    return todo.TodoList("deliveries_to_review", N_("Deliveries to review"), "/workspace/contracts", items, total)


async def deliveries_returned(session: AsyncSession, actor: Actor, settings: Settings) -> todo.TodoList:
    rows, total = await todo.oldest(
        session,
        select(Contract)
        .where(col(Contract.provider_id) == todo.org_of(actor), col(Contract.status) == ContractStatus.returned)
        .order_by(col(Contract.delivered_at), col(Contract.number)),
    )
    now = clock.now()
    items = [
        todo.Item(
            _label(c),
            _link(c),
            c.delivered_at,
            c.due_at_current,
            c.due_at_current is not None and clock.ensure_aware(c.due_at_current) < now,
        )
        for c in rows
    ]
    return todo.TodoList("deliveries_returned", N_("Deliveries to correct"), "/workspace/contracts", items, total)


async def _unpaid(session: AsyncSession, actor: Actor, settings: Settings, *, everyone: bool) -> todo.TodoList:
    """Accepted contracts with invoiced amounts not yet paid, the oldest acceptance first, each
    with its payment deadline (the payment term in calendar days)."""
    query = select(Contract).where(
        col(Contract.accepted_at).is_not(None), col(Contract.paid_total) < col(Contract.invoiced_total)
    )
    if not everyone:
        query = query.where(col(Contract.owner_id) == todo.org_of(actor))
    rows, total = await todo.oldest(session, query.order_by(col(Contract.accepted_at), col(Contract.number)))
    now = clock.now()
    items = []
    for c in rows:
        assert c.accepted_at is not None
        due = rules.payment_deadline(c.accepted_at, c.payment_days, settings.accelerator)
        label = f"{_label(c)} · ¥{c.invoiced_total - c.paid_total}"
        if everyone:
            label = f"{c.owner_name} · {label}"
        items.append(todo.Item(label, _link(c), c.accepted_at, due, due < now))
    link = "/finance/contracts" if everyone else "/workspace/invoices"
    return todo.TodoList("invoices_to_pay", N_("Invoices to pay"), link, items, total)


async def invoices_to_pay(session: AsyncSession, actor: Actor, settings: Settings) -> todo.TodoList:
    return await _unpaid(session, actor, settings, everyone=False)


async def payments_awaited(session: AsyncSession, actor: Actor, settings: Settings) -> todo.TodoList:
    return await _unpaid(session, actor, settings, everyone=True)


TODO: list[todo.Todo] = [
    ("provider", contracts_to_sign),
    ("provider", deliveries_returned),
    ("owner", contracts_to_sign),
    ("owner", deliveries_to_review),
    ("owner", invoices_to_pay),
    ("finance", payments_awaited),
]
