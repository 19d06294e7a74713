"""Audit trail API for the finance bureau and the operator."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, get
from litestar.params import QueryParameter
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import col

from market.audit.models import AuditEvent
from market.audit.service import verify
from market.db import fetch_page
from market.identity.guards import oversight
from market.schemas import Out, Page
from market.settings import Settings
from market.web.deps import DbSession, Offset


class VerifyOut(BaseModel):
    ok: bool
    events: int
    first_bad_seq: int | None


class AuditEventOut(Out):
    seq: int
    occurred_at: datetime
    actor_user_id: uuid.UUID | None
    actor_org_id: uuid.UUID | None
    actor_role: str
    action: str
    entity_type: str
    entity_id: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


def event_out(ev: AuditEvent) -> AuditEventOut:
    return AuditEventOut(
        seq=ev.seq,
        occurred_at=ev.occurred_at,
        actor_user_id=ev.actor_user_id,
        actor_org_id=ev.actor_org_id,
        actor_role=ev.actor_role,
        action=ev.action,
        entity_type=ev.entity_type,
        entity_id=ev.entity_id,
        data=json.loads(ev.data),
        prev_hash=ev.prev_hash,
        hash=ev.hash,
    )


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]
    guards = [oversight]

    @get("/verify", summary="Recompute the hash chain: {ok, events, first_bad_seq}")
    async def verify_chain(self, db: DbSession) -> VerifyOut:
        result = await verify(db)
        return VerifyOut(ok=result.ok, events=result.events, first_bad_seq=result.first_bad_seq)

    @get("/events", summary="Audit events, newest first, filtered by entity or action")
    async def events(
        self,
        db: DbSession,
        entity_type: Annotated[str | None, QueryParameter(max_length=40)] = None,
        entity_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        action: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Offset = 0,
    ) -> Page[AuditEventOut]:
        query = select(AuditEvent)
        if entity_type:
            query = query.where(col(AuditEvent.entity_type) == entity_type)
        if entity_id:
            query = query.where(col(AuditEvent.entity_id) == entity_id)
        if action:
            query = query.where(col(AuditEvent.action) == action)
        rows, total = await fetch_page(db, query.order_by(col(AuditEvent.seq).desc()), limit=limit, offset=offset)
        return Page[AuditEventOut](items=[event_out(r) for r in rows], total=total, limit=limit, offset=offset)


def routes(settings: Settings) -> list[Any]:
    """The audit trail's API (the composition root mounts it)."""
    return [AuditController]
