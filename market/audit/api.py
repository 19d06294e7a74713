"""Audit trail API for the finance bureau and the operator: verifying the chain. Reading its
events, filtered and found by reference, is oversight's (``GET /api/v1/audit/events`` in
:mod:`oversight.api`), since references name records of every package."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get
from litestar.params import QueryParameter
from pydantic import BaseModel

from market import offload
from market.audit import anchors, signing
from market.audit.service import verify_database
from market.identity.guards import oversight
from market.settings import Settings
from market.web.deps import AppSettings, DbSession


class VerifyOut(BaseModel):
    ok: bool
    events: int
    first_bad_seq: int | None


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]
    guards = [oversight]

    @get("/verify", summary="Recompute the hash chain: {ok, events, first_bad_seq}")
    async def verify_chain(self, settings: AppSettings) -> VerifyOut:
        result = await offload.run(verify_database, settings.database_url)  # not on the event loop
        return VerifyOut(ok=result.ok, events=result.events, first_bad_seq=result.first_bad_seq)


class AnchorOut(BaseModel):
    seq: int
    hash: str
    at: str
    kind: str
    key_id: str
    signature: str


class AnchorsOut(BaseModel):
    algorithm: str
    key_id: str
    public_key: str  # PEM (SubjectPublicKeyInfo)
    public_key_base64: str  # the raw 32 bytes
    message: str  # what each signature covers
    anchors: list[AnchorOut]
    total: int
    limit: int
    offset: int


MESSAGE_FORMAT = (
    signing.MESSAGE_PREFIX
    + '{"at":"<at>","hash":"<hash>","kind":"<kind>","seq":<seq>} (UTF-8; canonical JSON: keys sorted, no spaces)'
)


@get(
    "/api/v1/audit/anchors",
    tags=["audit"],
    security=[{}],
    summary="Signed anchors of the audit chain head, newest first, with the public key (public; save them "
    "and check later with `market audit verify --anchors FILE`)",
)
async def list_anchors(
    db: DbSession,
    settings: AppSettings,
    limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1_000,
    offset: Annotated[int, QueryParameter(ge=0, le=2**53)] = 0,
) -> AnchorsOut:
    public = signing.signing_key(settings).public_key()
    rows, total = await anchors.published(db, limit=limit, offset=offset)
    return AnchorsOut(
        algorithm=signing.ALGORITHM,
        key_id=signing.key_id(public),
        public_key=signing.public_pem(public),
        public_key_base64=signing.public_raw_base64(public),
        message=MESSAGE_FORMAT,
        anchors=[AnchorOut(**anchors.anchor_json(a)) for a in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@get(
    "/api/v1/audit/public-key",
    tags=["audit"],
    security=[{}],
    summary="The Ed25519 public key that signs the audit anchors, as PEM (SubjectPublicKeyInfo) (public)",
    media_type="application/x-pem-file",
)
async def public_key(settings: AppSettings) -> Response[str]:
    return Response(signing.public_pem(signing.signing_key(settings).public_key()), media_type="application/x-pem-file")


def routes(settings: Settings) -> list[Any]:
    """The audit trail's API (the composition root mounts it)."""
    return [AuditController, list_anchors, public_key]
