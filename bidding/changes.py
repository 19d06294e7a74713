"""The change sequence of a purchase (``Purchase.change_seq``), which the open data feed pages by.

A commit that changes a purchase or what hangs off it (selections, objections, cancellation
requests here; contracts, invoices and payments in the invoices package, which registers them
with :func:`follow`) stamps the purchase with the number of its last audit event. The number is
taken in :func:`market.audit.service.under_chain_lock`, under the chain head's row lock that
serialises every commit that changes state, so numbers grow in commit order: when two
transactions would take 5 and 6 and 6 commits first, there is no such case — the second one
waits for the lock until the first has committed, and a harvester that has seen 6 has seen 5.
(A database sequence would hand out 5 and 6 at statement time, and a reader could see 6 before
5 commits and skip it.) Several purchases changed in one commit share its number; the feed
orders by ``(change_seq, id)``.

Bids are deliberately not followed: a sealed bid must not show in the public feed, not even as
the moment a purchase changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from bidding.models import CancellationRequest, Objection, Purchase, Selection
from market.audit.service import under_chain_lock
from market.db import MarketSession

_TOUCHED = "bidding.changes.touched"
_PURCHASES: Any = Purchase.__table__  # type: ignore[attr-defined]

# model → (the purchase id of an instance) or (a key of the instance, how to map keys to purchase ids)
_DIRECT: dict[type, Callable[[Any], uuid.UUID | None]] = {}
_THROUGH: dict[type, tuple[Callable[[Any], uuid.UUID | None], Any, Any]] = {}


def follow(model: type, purchase_of: Callable[[Any], uuid.UUID | None]) -> None:
    """Changes to rows of ``model`` bump the change sequence of ``purchase_of(row)``."""
    _DIRECT[model] = purchase_of


def follow_through(
    model: type, key_of: Callable[[Any], uuid.UUID | None], key_column: Any, purchase_column: Any
) -> None:
    """Changes to rows of ``model`` bump the purchase found by ``key_column == key_of(row)``
    (``purchase_column`` of that row), e.g. a payment's contract → the contract's purchase."""
    _THROUGH[model] = (key_of, key_column, purchase_column)


follow(Purchase, lambda p: p.id)
follow(Selection, lambda s: s.purchase_id)
follow(Objection, lambda o: o.purchase_id)
follow(CancellationRequest, lambda c: c.purchase_id)


@event.listens_for(MarketSession, "after_flush")
def _note(session: Session, _context: Any) -> None:
    touched: dict[Any, set[uuid.UUID]] = session.info.setdefault(_TOUCHED, {})
    for obj in (*session.new, *session.dirty, *session.deleted):
        kind = type(obj)
        if kind in _DIRECT:
            purchase_id = _DIRECT[kind](obj)
            if purchase_id is not None:
                touched.setdefault(None, set()).add(purchase_id)
        elif kind in _THROUGH:
            key_of, key_column, _purchase_column = _THROUGH[kind]
            key = key_of(obj)
            if key is not None:
                touched.setdefault(key_column, set()).add(key)


@under_chain_lock
def _stamp(session: Session, seq: int) -> None:
    touched: dict[Any, set[uuid.UUID]] = session.info.pop(_TOUCHED, {})
    if not touched:
        return
    conditions = []
    for key_column, keys in touched.items():
        if key_column is None:
            conditions.append(_PURCHASES.c.id.in_(keys))
        else:
            purchase_column = next(t[2] for t in _THROUGH.values() if t[1] is key_column)
            conditions.append(_PURCHASES.c.id.in_(select(purchase_column).where(key_column.in_(keys))))
    session.execute(update(_PURCHASES).where(or_(*conditions)).values(change_seq=seq))


@event.listens_for(MarketSession, "after_commit")
def _forget(session: Session) -> None:
    session.info.pop(_TOUCHED, None)


@event.listens_for(MarketSession, "after_soft_rollback")
def _forget_rolled_back(session: Session, _previous_transaction: Any) -> None:
    session.info.pop(_TOUCHED, None)
