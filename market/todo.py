"""To-do lists on each role's dashboard (issue 11.4): what waits for the signed-in organisation,
oldest first, each item with its deadline.

Each package declares its lists in ``pages.WORKSPACE_TODO`` as ``(role, query)``; the
composition root gathers them (like ``WORKSPACE_TILES``) and the dashboard runs the role's. A
query is one SQL statement: the oldest :data:`LIMIT` items and the number of them all (a window
count), never a query per item.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from market.actor import Actor
from market.settings import Settings

LIMIT = 10


@dataclass(frozen=True)
class Item:
    label: str
    link: str
    since: datetime | None
    deadline: datetime | None = None
    overdue: bool = False


@dataclass(frozen=True)
class TodoList:
    key: str
    title: str  # a msgid, translated by the template
    link: str  # the page with the whole list
    items: Sequence[Item]
    total: int


Query = Callable[[AsyncSession, Actor, Settings], Awaitable[TodoList]]
Todo = tuple[str, Query]  # (role, query)


async def oldest(session: AsyncSession, stmt: Any, limit: int = LIMIT) -> tuple[list[Any], int]:
    """The first ``limit`` rows of ``stmt`` (already ordered oldest first) and the number of all
    its rows, in one statement (``count(*) OVER ()``)."""
    counted = stmt.add_columns(func.count().over().label("todo_total")).limit(limit)
    rows = (await session.execute(counted)).all()
    total = int(rows[0][-1]) if rows else 0
    return [row[:-1] if len(row) > 2 else row[0] for row in rows], total


def org_of(actor: Actor) -> uuid.UUID:
    assert actor.org_id is not None
    return actor.org_id
