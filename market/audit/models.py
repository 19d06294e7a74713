from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from market.db import StrEnumType, UTCDateTime, one_of

GENESIS_HASH = "0" * 64


class AuditEvent(SQLModel, table=True):
    """One state change. Rows are only ever inserted (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    occurred_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    actor_user_id: uuid.UUID | None = Field(default=None, index=True)
    actor_org_id: uuid.UUID | None = Field(default=None, index=True)
    actor_role: str = Field(max_length=16)
    actor_ip: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=64, index=True)
    entity_type: str = Field(max_length=40)
    entity_id: str = Field(max_length=64)
    data: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(min_length=64, max_length=64)
    hash: str = Field(min_length=64, max_length=64, unique=True)


class AuditHead(SQLModel, table=True):
    """The chain head: one row, locked while events are appended, so the chain never forks."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0, sa_type=BigInteger)
    hash: str = Field(default=GENESIS_HASH, max_length=64)


class AnchorKind(StrEnum):
    hour = "hour"  # every hour
    day = "day"  # the hour that ends a day in China (midnight, Asia/Shanghai)


class AuditAnchor(SQLModel, table=True):
    """A signed statement of the chain head, published so that a rewritten history shows even
    when every later hash was recomputed. Only ever inserted (database triggers refuse UPDATE
    and DELETE); one per slot (an hour, or the end of a day in China), however many workers run."""

    __tablename__ = "audit_anchors"
    __table_args__ = (CheckConstraint(one_of("kind", AnchorKind), name="kind"),)

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(sa_type=BigInteger)
    hash: str = Field(min_length=64, max_length=64)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    kind: AnchorKind = Field(sa_type=StrEnumType(AnchorKind, 8))
    slot: datetime = Field(sa_type=UTCDateTime, nullable=False, unique=True)
    key_id: str = Field(max_length=16)
    signature: str = Field(max_length=100)
