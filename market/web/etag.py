"""Cheap repeated reads: an entity tag for public pages and feeds, and the 304 that answers it.

The tag is derived from the audit chain head — every commit that changes state appends to the
chain under its lock, and the purchases' change sequence (``bidding.changes``) is taken from it
— so it changes with any change of what a page can show (purchases, catalog, listings alike).
To it are added what else the answer depends on: the path and query, the language, the day in
China (relative wording such as "closes tomorrow"), the representation (page or JSON) and, for a
visitor who carries cookies or credentials (a signed-in user: the page shows their name and
menu), a hash of them. The check reads two rows by primary key in one statement; a handler that finds the request's
``If-None-Match`` fresh answers 304 without building the page.

    validator = await etag.check(request, db)
    if validator.fresh:
        return validator.not_modified()
    ...
    return Response(..., headers=validator.headers())
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from litestar import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from market import clock
from market.audit.service import ChainHead, chain_head
from market.i18n import get_locale


@dataclass(frozen=True)
class Validator:
    etag: str
    last_modified: datetime | None
    fresh: bool  # the request's If-None-Match names this tag: answer 304
    head: ChainHead  # what the tag was derived from (a list may look its total up by it)

    def headers(self) -> dict[str, str]:
        headers = {"ETag": self.etag, "Cache-Control": "no-cache"}
        if self.last_modified is not None:
            moment = clock.ensure_aware(self.last_modified).astimezone(UTC)
            headers["Last-Modified"] = format_datetime(moment, usegmt=True)
        return headers

    def not_modified(self) -> Response[Any]:
        return Response(content=b"", status_code=304, headers=self.headers())


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    # weak comparison (RFC 9110 13.1.2): W/ prefixes do not matter
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag.removeprefix("W/") in tags


async def check(request: Request[Any, Any, Any], session: AsyncSession, *, kind: str = "page") -> Validator:
    """The validator of this request's answer, and whether the client already has it."""
    head = await chain_head(session)
    identity = (request.headers.get("cookie") or "") + "\x1f" + (request.headers.get("authorization") or "")
    parts = [
        kind,
        str(head.seq),
        request.url.path,
        request.url.query or "",
        get_locale(),
        clock.to_local(clock.now()).date().isoformat(),
        hashlib.sha256(identity.encode("utf-8")).hexdigest() if identity != "\x1f" else "-",
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
    etag = f'W/"{digest}"'
    return Validator(
        etag=etag,
        last_modified=head.occurred_at,
        fresh=_matches(request.headers.get("if-none-match"), etag),
        head=head,
    )
