"""In-process domain events, so that an earlier layer can trigger a later one without importing it
(an award in ``bidding`` drafts a contract in ``invoices``).

Handlers run in the emitter's transaction: when the request rolls back, so does everything its
events caused. The composition root (``market.app.wire``) subscribes the handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

Handler = Callable[..., Awaitable[Any]]

_subscribers: dict[str, list[Handler]] = {}


def subscribe(name: str, handler: Handler) -> None:
    handlers = _subscribers.setdefault(name, [])
    if handler not in handlers:
        handlers.append(handler)


def subscribers(name: str) -> list[Handler]:
    return list(_subscribers.get(name, []))


async def emit(session: AsyncSession, name: str, **payload: Any) -> None:
    for handler in subscribers(name):
        await handler(session, **payload)
