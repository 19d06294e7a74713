"""The public page of the audit chain's anchors (``/audit/anchors``): the signed chain heads and
the public key that checks them, for anyone to save (the finance bureau's audit trail is
``/finance/audit``, in the shell)."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.params import FromQuery
from litestar.response import Template

from market.audit import anchors, signing
from market.settings import Settings
from market.web.deps import AppSettings, DbSession
from market.web.pages import Pager

ANCHORS_PAGE_SIZE = 50


@get("/audit/anchors", include_in_schema=False)
async def anchors_page(db: DbSession, settings: AppSettings, page: FromQuery[str | None] = None) -> Template:
    public = signing.signing_key(settings).public_key()
    pager = Pager.of(page, ANCHORS_PAGE_SIZE)
    rows, total = await anchors.published(db, limit=pager.limit, offset=pager.offset)
    return Template(
        "audit_anchors.html",
        context={
            "anchors": [anchors.anchor_json(a) | {"moment": a.at} for a in rows],
            "public_key_pem": signing.public_pem(public),
            "public_key_base64": signing.public_raw_base64(public),
            "key_id": signing.key_id(public),
            "message": signing.MESSAGE_PREFIX + '{"at":…,"hash":…,"kind":…,"seq":…}',
            **pager.context(total),
        },
    )


def routes(settings: Settings) -> list[Any]:
    """The anchors page (the composition root mounts it)."""
    return [anchors_page]
