"""Form pages: when a service refuses what a form asked, show the form again with the errors.

The attempt is rolled back first, so that the page is rebuilt from what is committed; the rows
read for it are then detached, so that they still render after the request's session has rolled
back and closed. Raising :class:`FormInvalid` also makes the request roll back (nothing of a
refused attempt is ever written)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from market.errors import DomainError
from market.web.problems import FormInvalid

ContextBuilder = Callable[[], Awaitable[dict[str, Any]]]


async def refused(db: AsyncSession, template: str, error: DomainError, build: ContextBuilder) -> FormInvalid:
    """The :class:`FormInvalid` to raise for ``error``: ``template`` rendered with what ``build`` reads."""
    await db.rollback()
    context = await build()
    db.expunge_all()
    return FormInvalid(template, context, error)


@contextlib.asynccontextmanager
async def rerender_on_refusal(db: AsyncSession, template: str, build: ContextBuilder) -> AsyncIterator[None]:
    """``async with rerender_on_refusal(db, "pkg/form.html", build): await service(...)``"""
    try:
        yield
    except DomainError as exc:
        raise await refused(db, template, exc, build) from exc
