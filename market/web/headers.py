"""Security headers on every response: pages, the API, static files, errors and the API docs.

Added by a ``before_send`` hook, which Litestar calls for every message it sends (also for the
404 of an unknown path and for answers built by exception handlers). The Content-Security-Policy
allows no inline script or style anywhere: every script and style is a file under ``/static``.
"""

from __future__ import annotations

from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)

HEADERS: dict[str, str] = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
# production only: browsers then refuse plain HTTP to the site for a year
HSTS = "max-age=31536000; includeSubDomains"


async def security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    message.setdefault("headers", [])
    headers = MutableScopeHeaders.from_message(message)
    for name, value in HEADERS.items():
        headers[name] = value
    app: Any = scope.get("litestar_app") or scope.get("app")
    settings = getattr(getattr(app, "state", None), "settings", None)
    if settings is not None and settings.is_production:
        headers["strict-transport-security"] = HSTS
    # nothing names the software that answers
    del headers["server"]
    del headers["x-powered-by"]
