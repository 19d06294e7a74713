"""Anchors of the audit chain outside the database (SPEC §5 "Audit trail").

The hash chain shows an edited event only as long as nobody recomputes the hashes after it: the
table's owner can switch the triggers off, edit event 500, rehash every later event and the head,
and the chain verifies again. So the worker signs the chain head every hour (and at the end of
each day in China, the midnight anchor), and publishes the anchors with their public key
(``GET /api/v1/audit/anchors``, the page ``/audit/anchors``). Anyone may save them; a saved
anchor pins the hash of event ``seq`` as it was then, and ``market audit verify --anchors FILE``
(:func:`check_saved`) finds the first anchor whose event no longer has that hash — a rewritten
history, however carefully rehashed. The anchors are not themselves audit events: each one
records the chain's head, and an event for it would move the head it records.

Slots are hours counted from a local (Asia/Shanghai) midnight, so slot 0 of each day is its
midnight; ``MARKET_ACCELERATOR`` shortens the hour as it shortens every rule period. One anchor
per slot (a unique key), whatever number of workers run; a worker that was stopped anchors the
current slot when it starts and does not back-fill the slots it missed (they would all sign the
head as it is now). An empty chain is not anchored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from market.audit import signing
from market.audit.models import GENESIS_HASH, AnchorKind, AuditAnchor, AuditEvent, AuditHead
from market.clock import LOCAL_TZ, ensure_aware
from market.settings import Settings

ORIGIN = datetime(2000, 1, 1, tzinfo=LOCAL_TZ)  # a midnight in China: slot boundaries count from it
HOUR_US = 3_600 * 1_000_000
SLOTS_PER_DAY = 24
_BATCH = 500


def current_slot(now: datetime, accelerator: int = 1) -> tuple[datetime, AnchorKind]:
    """The slot ``now`` falls in: when it began, and whether it begins a day (local midnight)."""
    period_us = max(1, HOUR_US // accelerator)
    elapsed_us = (ensure_aware(now) - ORIGIN) // timedelta(microseconds=1)
    index = elapsed_us // period_us
    start = ORIGIN + timedelta(microseconds=index * period_us)
    return start, AnchorKind.day if index % SLOTS_PER_DAY == 0 else AnchorKind.hour


async def take_anchor(
    session: AsyncSession, key: Ed25519PrivateKey, now: datetime, slot: datetime, kind: AnchorKind
) -> AuditAnchor | None:
    """Sign the chain head as committed now, for ``slot`` (added to the session, not committed);
    ``None`` while the chain is empty (there is nothing to anchor)."""
    head = (await session.execute(select(col(AuditHead.seq), col(AuditHead.hash)).where(col(AuditHead.id) == 1))).one()
    if head.seq == 0:
        return None
    at = ensure_aware(now)
    message = signing.anchor_message(head.seq, head.hash, signing.format_at(at), kind.value)
    anchor = AuditAnchor(
        seq=head.seq,
        hash=head.hash,
        at=at,
        kind=kind,
        slot=slot,
        key_id=signing.key_id(key.public_key()),
        signature=signing.sign(key, message),
    )
    session.add(anchor)
    return anchor


async def anchor_tick(factory: async_sessionmaker[AsyncSession], settings: Settings, now: datetime) -> int:
    """The worker job: anchor the current slot unless it is anchored already (1 when it anchored)."""
    slot, kind = current_slot(now, settings.accelerator)
    async with factory() as session:
        if await session.scalar(select(col(AuditAnchor.id)).where(col(AuditAnchor.slot) == slot)) is not None:
            return 0
        if await take_anchor(session, signing.signing_key(settings), now, slot, kind) is None:
            return 0
        try:
            await session.commit()
        except IntegrityError:  # another worker anchored this slot first
            await session.rollback()
            return 0
    return 1


async def published(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[AuditAnchor], int]:
    """Anchors, newest first, and how many there are."""
    total = await session.scalar(select(func.count()).select_from(AuditAnchor)) or 0
    rows = await session.scalars(
        select(AuditAnchor).order_by(col(AuditAnchor.at).desc(), col(AuditAnchor.id).desc()).limit(limit).offset(offset)
    )
    return list(rows), total


def anchor_json(anchor: AuditAnchor) -> dict[str, Any]:
    """An anchor as published (and as saved by whoever keeps a copy)."""
    return {
        "seq": anchor.seq,
        "hash": anchor.hash,
        "at": signing.format_at(anchor.at),
        "kind": anchor.kind.value,
        "key_id": anchor.key_id,
        "signature": anchor.signature,
    }


# --- checking anchors saved earlier ------------------------------------------------------------


@dataclass(frozen=True)
class SavedAnchor:
    seq: int
    hash: str
    at: str
    kind: str
    signature: str
    key_id: str | None = None


@dataclass(frozen=True)
class AnchorCheck:
    ok: bool
    anchors: int  # how many anchors held, in seq order, before the first that does not
    first_bad: dict[str, Any] | None  # {seq, at, reason} of the first anchor that does not hold


def read_saved(document: Any) -> tuple[str | None, list[SavedAnchor]]:
    """The public key (PEM or base64, when the document carries one) and the anchors of a document
    saved from ``GET /api/v1/audit/anchors`` (or a bare list of anchors). ValueError names what is wrong."""
    if isinstance(document, list):
        key, items = None, document
    elif isinstance(document, dict) and isinstance(document.get("anchors"), list):
        raw_key = document.get("public_key")
        key = raw_key if isinstance(raw_key, str) else None
        items = document["anchors"]
    else:
        raise ValueError("expected the JSON of GET /api/v1/audit/anchors: an object with a list 'anchors'")
    anchors = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ValueError(f"anchor {number}: not an object")
        seq, hash_, at, kind, sig = (item.get(k) for k in ("seq", "hash", "at", "kind", "signature"))
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise ValueError(f"anchor {number}: seq must be a whole number")
        if not all(isinstance(v, str) for v in (hash_, at, kind, sig)):
            raise ValueError(f"anchor {number}: hash, at, kind and signature must be strings")
        key_id = item.get("key_id")
        anchors.append(
            SavedAnchor(seq, str(hash_), str(at), str(kind), str(sig), key_id if isinstance(key_id, str) else None)
        )
    return key, anchors


async def check_saved(session: AsyncSession, key: Ed25519PublicKey, anchors: Sequence[SavedAnchor]) -> AnchorCheck:
    """Check every anchor's signature with ``key`` and that the chain's event at its ``seq`` still
    has the anchored hash; name the first anchor (in seq order) that does not hold."""
    ordered = sorted(anchors, key=lambda a: (a.seq, a.at))
    kid = signing.key_id(key)
    held = 0
    for start in range(0, len(ordered), _BATCH):
        batch = ordered[start : start + _BATCH]
        seqs = {a.seq for a in batch if a.seq > 0}
        rows = await session.execute(
            select(col(AuditEvent.seq), col(AuditEvent.hash)).where(col(AuditEvent.seq).in_(seqs))
        )
        hashes: dict[int, str] = {row.seq: row.hash for row in rows}
        hashes[0] = GENESIS_HASH
        for anchor in batch:
            reason = _fault(anchor, key, kid, hashes.get(anchor.seq))
            if reason is not None:
                return AnchorCheck(False, held, {"seq": anchor.seq, "at": anchor.at, "reason": reason})
            held += 1
    return AnchorCheck(True, held, None)


def _fault(anchor: SavedAnchor, key: Ed25519PublicKey, kid: str, current: str | None) -> str | None:
    if anchor.key_id is not None and anchor.key_id != kid:
        return f"signed by another key ({anchor.key_id}, not {kid})"
    message = signing.anchor_message(anchor.seq, anchor.hash, anchor.at, anchor.kind)
    if not signing.signature_ok(key, message, anchor.signature):
        return "the signature does not verify"
    if current is None:
        return "the anchored event is missing from the chain"
    if current != anchor.hash:
        return "the event at this seq no longer has the anchored hash"
    return None
