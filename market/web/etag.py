"""Cheap repeated reads: an entity tag for public pages and feeds, and the 304 that answers it.

The tag is derived from the audit chain head — every commit that changes state appends to the
chain under its lock, and the purchases' change sequence (``bidding.changes``) is taken from it
— so it changes with any change of what a page can show (purchases, catalog, listings alike).
To it are added what else the answer depends on: the path and query, the language, the day in
China (relative wording such as "closes tomorrow"), the representation (page or JSON) and, for a
visitor who carries cookies or credentials (a signed-in user: the page shows their name and
menu), a hash of them. The check reads two rows by primary key in one statement; a handler that finds the request's
``If-None-Match`` fresh answers 304 without building the page.

Reads show the state *as of now* without writing: a purchase whose bid deadline has passed reads
as closing before the worker has recorded anything. So a page can change with no commit at all,
when the clock passes a due moment of the time engine (the purchases' ``next_check_at``). The tag
therefore also carries the last due moment passed (its *epoch*): registered sources
(:data:`due_sources`, filled by the composition root) give, once per chain head, the latest due
moment before now and the next ones; the epoch is then found in memory per request.

The request's scope keeps what the tag was made of (:data:`STAMP`), so the fast path
(:mod:`market.web.fastpath`) can keep the answer and know when it stops being current.

    validator = await etag.check(request, db)
    if validator.fresh:
        return validator.not_modified()
    ...
    return Response(..., headers=validator.headers())
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from litestar import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from market import clock
from market.audit.service import ChainHead, chain_head
from market.i18n import get_locale
from market.registry import Registry

# (session, now, how many) -> (the latest due moment at or before now, the next ones after it, earliest first)
DueSource = Callable[[AsyncSession, datetime, int], Awaitable[tuple[datetime | None, list[datetime]]]]
due_sources: Registry[str, DueSource] = Registry("etag.due_sources")
STAMP = "market.etag"  # scope state: the Stamp of the answer being built
_AHEAD = 64  # due moments read ahead per source


@dataclass(frozen=True)
class Stamp:
    """What an answer's tag was derived from: the answer stays current while all of them hold."""

    database: str
    seq: int
    day: str
    epoch: str
    etag: str


@dataclass(frozen=True)
class _Marks:
    fetched_at: datetime
    past: datetime | None
    ahead: list[datetime]
    complete: bool  # no due moment after the last of ``ahead`` (fewer than asked for came)

    def epoch(self, now: datetime) -> str | None:
        """The last due moment passed at ``now`` (``None``: beyond what was read; read again)."""
        if now < self.fetched_at:
            return None
        i = bisect_right(self.ahead, now)
        if i == len(self.ahead) and not self.complete:
            return None
        last = self.ahead[i - 1] if i else self.past
        return last.isoformat() if last is not None else "-"


# (database, chain head) -> each source's marks; only the latest few heads are kept
_MARKS: dict[tuple[str, int], list[_Marks]] = {}


def database_key(bind: Any) -> str:
    """Which database an engine (or a session's bind) reads: the marks and the stamps are per database."""
    return str(bind.url) if bind is not None else "-"


def known_epoch(database: str, seq: int, now: datetime) -> str | None:
    """The epoch at ``now`` if the marks of this head are in memory (else ``None``)."""
    marks = _MARKS.get((database, seq))
    if marks is None:
        return None
    epochs = [m.epoch(now) for m in marks]
    if any(e is None for e in epochs):
        return None
    return "|".join(e for e in epochs if e is not None)


async def due_epoch(session: AsyncSession, seq: int, now: datetime) -> str:
    """The epoch at ``now`` of the state at chain head ``seq`` (read once per head, then in memory)."""
    database = database_key(session.bind)
    epoch = known_epoch(database, seq, now)
    if epoch is not None:
        return epoch
    marks = []
    for source in due_sources.values():
        past, ahead = await source(session, now, _AHEAD)
        marks.append(_Marks(fetched_at=now, past=past, ahead=sorted(ahead), complete=len(ahead) < _AHEAD))
    while len(_MARKS) >= 8:
        _MARKS.pop(next(iter(_MARKS)))
    _MARKS[(database, seq)] = marks
    return known_epoch(database, seq, now) or "-"


def local_day(now: datetime) -> str:
    return clock.to_local(now).date().isoformat()


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


def matches(header: str | None, etag: str) -> bool:
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
    now = clock.now()
    day = local_day(now)
    epoch = await due_epoch(session, head.seq, now)
    identity = (request.headers.get("cookie") or "") + "\x1f" + (request.headers.get("authorization") or "")
    parts = [
        kind,
        str(head.seq),
        request.url.path,
        request.url.query or "",
        get_locale(),
        day,
        epoch,
        hashlib.sha256(identity.encode("utf-8")).hexdigest() if identity != "\x1f" else "-",
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
    etag = f'W/"{digest}"'
    request.scope.setdefault("state", {})[STAMP] = Stamp(database_key(session.bind), head.seq, day, epoch, etag)
    return Validator(
        etag=etag,
        last_modified=head.occurred_at,
        fresh=matches(request.headers.get("if-none-match"), etag),
        head=head,
    )
