"""Audit trail API for the finance bureau and the operator: verifying the chain. Reading its
events, filtered and found by reference, is oversight's (``GET /api/v1/audit/events`` in
:mod:`oversight.api`), since references name records of every package."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from pydantic import BaseModel

from market.audit.service import verify
from market.identity.guards import oversight
from market.settings import Settings
from market.web.deps import DbSession


class VerifyOut(BaseModel):
    ok: bool
    events: int
    first_bad_seq: int | None


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]
    guards = [oversight]

    @get("/verify", summary="Recompute the hash chain: {ok, events, first_bad_seq}")
    async def verify_chain(self, db: DbSession) -> VerifyOut:
        result = await verify(db)
        return VerifyOut(ok=result.ok, events=result.events, first_bad_seq=result.first_bad_seq)


def routes(settings: Settings) -> list[Any]:
    """The audit trail's API (the composition root mounts it)."""
    return [AuditController]
