"""ASGI middleware: the request's language and the signed-in user.

* Language: ``?lang=`` (remembered in a cookie), else the cookie, else Accept-Language,
  else Chinese.
* User: ``Authorization: Bearer`` or the HttpOnly session cookie; the principal is put on
  ``scope["user"]`` (``None`` for the public) before guards run.
* A CSRF cookie is issued to every browser that has none (checked in :mod:`market.web.csrf`).
"""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from market import i18n
from market.db import is_disconnect
from market.errors import InvalidInput
from market.i18n import gettext as _
from market.identity import services as identity
from market.notify import inbox
from market.settings import Settings
from market.web.deps import DISCONNECTED, SAFE_METHODS

SESSION_COOKIE = "market_session"
CSRF_COOKIE = "market_csrf"
CSRF_USED = "csrf_used"  # scope state: the answer's body holds the CSRF token (a form rendered it)
LANG_COOKIE = "market_lang"


def _cookies(scope: Scope) -> dict[str, str]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                return {}
            return {k: m.value for k, m in jar.items()}
    return {}


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return value.decode("latin-1")
    return None


def nul_field(scope: Scope) -> str | None:
    """The query parameter (or ``path``) holding a NUL character: never text a person typed, and
    PostgreSQL cannot even compare with it."""
    if "\x00" in scope.get("path", ""):
        return "path"
    raw: bytes = scope.get("query_string", b"")
    if b"\x00" not in raw and b"%00" not in raw:
        return None
    for key, values in parse_qs(raw.decode("latin-1"), keep_blank_values=True).items():
        if "\x00" in key or any("\x00" in value for value in values):
            return key.replace("\x00", "") or "query"
    return None


def cookie_header(name: str, value: str, *, settings: Settings, http_only: bool, max_age: int | None) -> bytes:
    parts = [f"{name}={value}", "Path=/", "SameSite=Lax"]
    if http_only:
        parts.append("HttpOnly")
    if settings.is_production:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts).encode("latin-1")


class PlatformMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        litestar_app = scope["litestar_app"]
        settings: Settings = litestar_app.state.settings
        cookies = _cookies(scope)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        asked = i18n.normalize(next(iter(query.get("lang", [])), None))
        lang = (
            asked
            or i18n.normalize(cookies.get(LANG_COOKIE))
            or i18n.from_accept_language(_header(scope, b"accept-language"))
            or i18n.DEFAULT_LOCALE
        )
        token = i18n.set_locale(lang)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["lang"] = lang
        csrf = cookies.get(CSRF_COOKIE)
        new_csrf = None
        if not csrf or len(csrf) < 20:
            csrf = new_csrf = secrets.token_urlsafe(24)
        state["csrf_token"] = csrf
        state["csrf_cookie_present"] = new_csrf is None

        bearer = None
        auth_header = _header(scope, b"authorization")
        if auth_header and auth_header[:7].lower() == "bearer ":
            bearer = auth_header[7:].strip()
        session_token = cookies.get(SESSION_COOKIE)
        principal = None
        if bearer or session_token:
            for attempt in (1, 2):
                try:
                    async with litestar_app.state.read_session_factory() as session:  # reads only
                        principal = await identity.principal_for_token(
                            session, bearer or session_token or "", via_cookie=bearer is None
                        )
                        if principal is not None and bearer is None:  # a page: the header shows the unread count
                            state["unread_notifications"] = await inbox.unread_count(session, principal.user_id)
                    break
                except Exception as error:
                    if attempt == 2 or not is_disconnect(error):
                        raise  # a lost connection is tried once more on a new one (the pool replaced it)
        scope["user"] = principal
        scope["auth"] = "bearer" if bearer and principal else ("cookie" if principal else None)

        extra_headers: list[tuple[bytes, bytes]] = []
        if asked:
            extra_headers.append(
                (
                    b"set-cookie",
                    cookie_header(LANG_COOKIE, asked, settings=settings, http_only=False, max_age=365 * 86400),
                )
            )
        if new_csrf:
            extra_headers.append(
                (b"set-cookie", cookie_header(CSRF_COOKIE, new_csrf, settings=settings, http_only=True, max_age=None))
            )

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start" and extra_headers:
                message["headers"] = [*message.get("headers", []), *extra_headers]
            await send(message)

        try:
            refused = nul_field(scope)
            if refused is not None:
                raise InvalidInput.field(refused, _("Control characters are not allowed."))
            if scope.get("method") in SAFE_METHODS:  # a websocket has no method
                await self._read(scope, receive, send_wrapper)
            else:
                await self.app(scope, receive, send_wrapper)
        finally:
            i18n.reset_locale(token)

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A safe request; if its read session lost the database connection (the handler failed
        before anything was sent, :func:`market.web.deps.provide_db` marked it), its error answer is
        dropped and the request runs once more — on a new connection, since SQLAlchemy invalidated
        the pool's older ones. A read changes nothing, so running it twice is harmless. This is what
        lets the pool skip the ping on every checkout."""
        state: dict[str, Any] = scope.setdefault("state", {})
        state.pop(DISCONNECTED, None)
        sent = False

        async def first_send(message: Message) -> None:
            nonlocal sent
            if sent or not state.get(DISCONNECTED):
                sent = True
                await send(message)

        await self.app(scope, receive, first_send)
        if state.pop(DISCONNECTED, False) and not sent:
            await self.app(scope, receive, send)
