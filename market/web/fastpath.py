"""The fast path: repeated anonymous reads answered from memory, before the framework.

Harvesters and API clients ask for the same public pages and feeds again and again, most of the
time with nothing changed. Every answer that carries an entity tag (:mod:`market.web.etag`) was
derived from the audit chain head, the day in China and the time engine's epoch (the last due
moment passed), and the request's scope keeps those (:class:`market.web.etag.Stamp`). This ASGI
layer, wrapped around the whole application by ``market serve``, keeps such answers in a small
in-process cache and serves one again — a 200 with its body, or a 304 when the client's
``If-None-Match`` names its tag — while all three still hold: the head by the
:class:`market.audit.headwatch.HeadWatch` (PostgreSQL ``LISTEN/NOTIFY``), the day and the epoch
by the clock. A cache hit reads nothing from the database and runs no framework code.

What it keeps, and for whom, is deliberately narrow:

* only ``GET`` requests without ``Cookie`` and ``Authorization`` (a visitor with cookies may see
  their name, menu or a form token; such requests always go to the application);
* only answers the application stamped, with status 200 and no ``Set-Cookie`` — but for the CSRF
  cookie every cookieless visitor is given (:mod:`market.web.middleware`) when the body does not
  hold the token (no form rendered it: an API answer, a list page without forms): that cookie is
  not kept, and every answer from memory is given a fresh one, as the application would (no two
  visitors ever share a token; a page with a form is never kept);
* a request saying ``Cache-Control: no-cache`` (or ``Pragma: no-cache``) is built afresh;
* nothing at all while the head is not known (SQLite; the watch's connection lost), and nothing
  older than the head: a request of this process that changed something reads the head before its
  answer leaves, so the same client's next read sees its change; another process's change is
  heard when it commits (milliseconds; the watch also reads the head every second).

The cache key is the path, the query and the request headers an answer may depend on (all but
those named in :data:`_IGNORED`), so two representations never share an entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from market import clock
from market.web.etag import STAMP, Stamp, database_key, known_epoch, local_day, matches
from market.web.middleware import CSRF_COOKIE, CSRF_USED, cookie_header

log = logging.getLogger(__name__)

SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
BUILD_WAIT_SECONDS = 10.0  # a request waits this long for another's build of the same answer, then builds
# request headers no stamped answer depends on (the rest are part of the key)
_IGNORED = frozenset(
    {
        b"host",
        b"connection",
        b"keep-alive",
        b"user-agent",
        b"accept-encoding",
        b"te",
        b"referer",
        b"if-none-match",
        b"if-modified-since",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"forwarded",
        b"x-real-ip",
        b"x-request-id",
        b"traceparent",
        b"tracestate",
    }
)
# headers a 304 does not carry (RFC 9110 15.4.5: it is the 200's metadata without a body)
_NOT_IN_304 = frozenset({b"content-length", b"content-type", b"content-encoding", b"transfer-encoding"})

Key = tuple[str, bytes, tuple[tuple[bytes, bytes], ...]]
# ASGI as plain mappings: this layer also sees the lifespan scope, which the framework's types leave out
Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class Entry:
    stamp: Stamp
    headers: list[tuple[bytes, bytes]]
    body: bytes
    csrf: bool = False  # the answer gave a new visitor a CSRF cookie: each answer gives a fresh one

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 200


class ResponseCache:
    """Least recently used answers within a byte budget."""

    def __init__(self, budget: int, max_body: int) -> None:
        self.budget = budget
        self.max_body = max_body
        self._entries: OrderedDict[Key, Entry] = OrderedDict()
        self._bytes = 0

    def get(self, key: Key) -> Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: Key, entry: Entry) -> None:
        if len(entry.body) > self.max_body:
            return
        self.drop(key)
        self._entries[key] = entry
        self._bytes += entry.size
        while self._bytes > self.budget and self._entries:
            _, old = self._entries.popitem(last=False)
            self._bytes -= old.size

    def drop(self, key: Key) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.size

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries


def _key(scope: Scope) -> Key | None:
    """The cache key of a request the fast path may answer (``None``: the application answers)."""
    kept = []
    for name, value in scope.get("headers", []):
        if name in (b"cookie", b"authorization"):
            return None
        if name in (b"cache-control", b"pragma") and (b"no-cache" in value.lower() or b"no-store" in value.lower()):
            return None
        if name not in _IGNORED:
            kept.append((name, value))
    return (scope.get("path", ""), scope.get("query_string", b""), tuple(sorted(kept)))


def _without_csrf_cookie(
    state: dict[str, Any], headers: list[tuple[bytes, bytes]]
) -> tuple[list[tuple[bytes, bytes]], bool]:
    """An answer's headers without the CSRF cookie the middleware gave a new visitor, and whether
    there was one — unless its body holds the token (then as they are: it is not kept)."""
    if state.get(CSRF_USED):
        return headers, False
    prefix = CSRF_COOKIE.encode() + b"="
    kept = [(k, v) for k, v in headers if not (k.lower() == b"set-cookie" and v.startswith(prefix))]
    return kept, len(kept) != len(headers)


class FastPath:
    """Wraps the Litestar application (``market serve`` serves ``FastPath(create_app(...))``)."""

    def __init__(self, app: Any, *, budget: int = 32 * 1024 * 1024, max_body: int = 2 * 1024 * 1024) -> None:
        self.app: Any = app
        self.cache = ResponseCache(budget, max_body)
        self.hits = 0  # answered from memory (200 or 304)
        self.stored = 0  # answers kept
        # one build per key at a time: requests arriving meanwhile wait for it (else every open
        # connection rebuilds the same answer at once each time the head moves)
        self._building: dict[Key, asyncio.Future[None]] = {}

    def _state(self) -> Any:
        return getattr(self.app, "state", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = self._state()
        watch = getattr(state, "head_watch", None) if state is not None else None
        if watch is None:
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET")
        if method not in SAFE:
            await self.app(scope, receive, self._catching_up(watch, send))
            return
        seq = watch.seq
        key = _key(scope) if method == "GET" and seq is not None else None
        if key is None:
            await self.app(scope, receive, send)
            return
        database = database_key(state.engine)
        entry = self._current(key, database, seq)
        if entry is None and key in self._building and key in self.cache:  # kept before: it will be again
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._building[key]), BUILD_WAIT_SECONDS)
            entry = self._current(key, database, watch.seq)
        if entry is not None:
            self.hits += 1
            await self._answer(scope, send, entry)
            return
        leader = key not in self._building
        if leader:
            self._building[key] = asyncio.get_running_loop().create_future()
        try:
            await self._build(scope, receive, send, key, seq)
        finally:
            if leader:
                done = self._building.pop(key)
                done.set_result(None)

    def _current(self, key: Key, database: str, seq: int | None) -> Entry | None:
        """The kept answer of ``key`` if it is still current (head, day and epoch)."""
        entry = self.cache.get(key)
        if entry is None or seq is None:
            return None
        now = clock.now()
        if (
            entry.stamp.seq == seq
            and entry.stamp.database == database
            and entry.stamp.day == local_day(now)
            and known_epoch(database, seq, now) == entry.stamp.epoch
        ):
            return entry
        return None

    def _catching_up(self, watch: Any, send: Send) -> Send:
        """A request that may change something: the head is read before its answer leaves."""
        engine = self._state().engine

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                try:
                    await watch.catch_up(engine)
                except Exception as error:  # the answer still goes out; the notification follows
                    log.warning("fast path: could not read the audit head after a change: %s", error)
            await send(message)

        return wrapped

    async def _answer(self, scope: Scope, send: Send, entry: Entry) -> None:
        inm = None
        for name, value in scope.get("headers", []):
            if name == b"if-none-match":
                inm = value.decode("latin-1")
        extra = [(b"set-cookie", self._csrf_cookie())] if entry.csrf else []
        if matches(inm, entry.stamp.etag):
            headers = [(k, v) for k, v in entry.headers if k not in _NOT_IN_304]
            await send({"type": "http.response.start", "status": 304, "headers": [*headers, *extra]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": [*entry.headers, *extra]})
        await send({"type": "http.response.body", "body": entry.body})

    def _csrf_cookie(self) -> bytes:
        token = secrets.token_urlsafe(24)
        return cookie_header(CSRF_COOKIE, token, settings=self._state().settings, http_only=True, max_age=None)

    async def _build(self, scope: Scope, receive: Receive, send: Send, key: Key, seq: int) -> None:
        """The application builds the whole answer (a client's ``If-None-Match`` is held back, so
        there is a body to keep); it is kept if stamped, a 200 and cookie-free, then answered."""
        inner: dict[str, Any] = dict(scope)
        inner["headers"] = [
            (k, v) for k, v in scope.get("headers", []) if k not in (b"if-none-match", b"if-modified-since")
        ]
        inner["state"] = dict(scope.get("state") or {})
        start: Message | None = None
        chunks: list[bytes] = []
        passed = False  # not kept: forwarded as it comes
        csrf_given = False

        async def capture(message: Message) -> None:
            nonlocal start, passed, csrf_given
            if passed:
                await send(message)
                return
            if message["type"] == "http.response.start":
                stamp = inner["state"].get(STAMP)
                headers, csrf = _without_csrf_cookie(inner["state"], message.get("headers", []))
                if (
                    message["status"] != 200
                    or not isinstance(stamp, Stamp)
                    or any(k.lower() == b"set-cookie" for k, _ in headers)
                ):
                    passed = True
                    await send(message)
                    return
                start = {**message, "headers": headers}
                csrf_given = csrf
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and start is not None:
                    stamp = inner["state"][STAMP]
                    entry = Entry(stamp, list(start.get("headers", [])), b"".join(chunks), csrf=csrf_given)
                    if stamp.seq >= seq:  # built from the head the watch knows, or a newer one
                        self.cache.put(key, entry)
                        self.stored += 1
                    await self._answer(scope, send, entry)
                return
            await send(message)

        await self.app(inner, receive, capture)
