"""Recording and verifying the audit chain.

``record`` queues an event on the session; when that session commits, the queued events are
appended under a row lock on :class:`AuditHead` (``SELECT … FOR UPDATE`` on PostgreSQL, the
database write lock on SQLite), each carrying the hash of the one before. The lock is taken as
late as possible, just before the commit, so it is held only for the commit itself and
never while a request waits on other rows.

    hash = sha256(canonical({seq, at, actor_user, actor_org, actor_role, actor_ip, action,
                             entity_type, entity_id, data, prev}))
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlmodel import col

from market import clock, offload
from market.actor import Actor
from market.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from market.db import MarketSession, read_session_factory, unit_of_work
from market.jsonutil import canonical

_PENDING = "market.audit.pending"
_UNDER_LOCK: list[Callable[[Session, int], None]] = []


def under_chain_lock(hook: Callable[[Session, int], None]) -> Callable[[Session, int], None]:
    """Run ``hook(session, seq)`` in every committing transaction that appends audit events, after
    they are appended and while the chain head is still locked; ``seq`` is the number of the
    transaction's last event. Commits that change state are serialised by that lock, so numbers
    taken there grow in commit order: a reader that has seen number n has seen every commit
    numbered below n (what a changes feed needs to never skip a row)."""
    _UNDER_LOCK.append(hook)
    return hook


@dataclass(frozen=True)
class ChainHead:
    """Where the audit chain stands: every commit that changes state appends to it, so two reads
    that see the same head (in one database) see the same state."""

    seq: int
    hash: str
    occurred_at: datetime | None  # when its last event happened (None before the first)


async def chain_head(session: AsyncSession) -> ChainHead:
    """The chain head, with the time of its event, in one statement (two primary-key lookups)."""
    row = (
        await session.execute(
            select(col(AuditHead.seq), col(AuditHead.hash), col(AuditEvent.occurred_at))
            .outerjoin(AuditEvent, col(AuditEvent.seq) == col(AuditHead.seq))
            .where(col(AuditHead.id) == 1)
        )
    ).first()
    if row is None:
        return ChainHead(0, GENESIS_HASH, None)
    return ChainHead(int(row[0] or 0), str(row[1]), row[2])


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    first_bad_seq: int | None


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: Any,
    data: dict[str, Any] | None = None,
) -> None:
    """Queue an audit event; it is written in the same transaction when the session commits."""
    payload = canonical(data or {})  # fail now, not at commit, on data that cannot be serialised
    if not session.in_transaction():
        # tie the event to a transaction (no I/O), so that a rollback forgets it
        session.sync_session.begin()
    session.info.setdefault(_PENDING, []).append(
        {
            "occurred_at": clock.now(),
            "actor_user_id": actor.user_id,
            "actor_org_id": actor.org_id,
            "actor_role": actor.role,
            "actor_ip": actor.ip,
            "action": action,
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "data": payload,
        }
    )


def pending(session: AsyncSession) -> list[dict[str, Any]]:
    """Events queued on this session and not yet written (for tests and diagnostics)."""
    return list(session.info.get(_PENDING, []))


def event_hash(ev: AuditEvent) -> str:
    body = canonical(
        {
            "seq": ev.seq,
            "at": ev.occurred_at,
            "actor_user": ev.actor_user_id,
            "actor_org": ev.actor_org_id,
            "actor_role": ev.actor_role,
            "actor_ip": ev.actor_ip,
            "action": ev.action,
            "entity_type": ev.entity_type,
            "entity_id": ev.entity_id,
            "data": ev.data,
            "prev": ev.prev_hash,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@event.listens_for(MarketSession, "before_commit")
def _append_pending(session: Session) -> None:
    queued = session.info.pop(_PENDING, None)
    if not queued:
        return
    head = session.execute(
        select(AuditHead).where(col(AuditHead.id) == 1).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    seq, prev = head.seq, head.hash
    for item in queued:
        seq += 1
        ev = AuditEvent(seq=seq, prev_hash=prev, hash="", **item)
        ev.hash = event_hash(ev)
        session.add(ev)
        prev = ev.hash
    head.seq, head.hash = seq, prev
    for hook in _UNDER_LOCK:
        hook(session, seq)


@event.listens_for(MarketSession, "after_soft_rollback")
def _forget_pending(session: Session, _previous_transaction: Any) -> None:
    session.info.pop(_PENDING, None)


async def verify(session: AsyncSession, batch: int = 2000) -> VerifyResult:
    """Recompute the chain from the first event up to the head; name the first event that does not
    match.

    A changed event fails at its own sequence number; a deleted one at the number that is
    missing; a deleted tail at the first number the head counts but the table lacks. The head is
    read first and the events up to it are checked: events appended while the chain is read (each
    batch is its own statement) belong to a later head and are not mistaken for a broken chain.
    """
    head = (await session.execute(select(col(AuditHead.seq), col(AuditHead.hash)).where(col(AuditHead.id) == 1))).one()
    expected_seq, prev, count = 1, GENESIS_HASH, 0
    while expected_seq <= head.seq:
        rows = (
            await session.scalars(
                select(AuditEvent)
                .where(col(AuditEvent.seq) >= expected_seq, col(AuditEvent.seq) <= head.seq)
                .order_by(col(AuditEvent.seq))
                .limit(batch)
            )
        ).all()
        for ev in rows:
            if ev.seq != expected_seq or ev.prev_hash != prev or event_hash(ev) != ev.hash:
                return VerifyResult(ok=False, events=count, first_bad_seq=expected_seq)
            prev, expected_seq, count = ev.hash, expected_seq + 1, count + 1
        if len(rows) < batch:
            break
    if head.seq != count or head.hash != prev:
        return VerifyResult(ok=False, events=count, first_bad_seq=count + 1)
    return VerifyResult(ok=True, events=count, first_bad_seq=None)


def verify_database(database_url: str) -> VerifyResult:
    """:func:`verify` over its own connection, for the offload process (:mod:`market.offload`): a
    chain of half a million events takes half a minute of CPU, which the server's event loop must
    not spend."""

    async def run() -> VerifyResult:
        engine = offload.engine(database_url)
        try:
            async with unit_of_work(read_session_factory(engine)) as session:
                return await verify(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())
