"""Typed in-process domain events, so that an earlier layer can trigger a later one without
importing it (an award in ``bidding`` drafts a contract in ``invoices``).

An event is a frozen dataclass defined by the package that emits it (``bidding.events``);
handlers subscribe to its type and take ``(session, event)``. Handlers run in the emitter's
transaction, in the order they subscribed: when the request rolls back, so does everything its
events caused. The composition root (``market.app.wire``) subscribes the handlers; tests scope
their own with ``with handlers.scoped(): subscribe(...)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from market.registry import Registry


@dataclass(frozen=True)
class Event:
    """Base of every domain event (subclasses are frozen dataclasses)."""


E = TypeVar("E", bound=Event)
Handler = Callable[[AsyncSession, Any], Awaitable[None]]

# (event type, the handler's qualified name) → handler, in subscription order; subscribing a
# handler of the same name again replaces it (the composition root may wire more than once)
handlers: Registry[tuple[type[Event], str], Handler] = Registry("event handlers")


def subscribe(event_type: type[E], handler: Callable[[AsyncSession, E], Awaitable[None]]) -> None:
    name = f"{getattr(handler, '__module__', '')}.{getattr(handler, '__qualname__', repr(handler))}"
    handlers.register((event_type, name), handler)


def subscribers(event_type: type[Event]) -> list[Handler]:
    return [h for (t, _h), h in handlers.items() if t is event_type]


async def emit(session: AsyncSession, event: Event) -> None:
    """Run every handler of ``type(event)`` in the caller's transaction."""
    for handler in subscribers(type(event)):
        await handler(session, event)
