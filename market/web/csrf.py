"""CSRF protection for browsers (double-submit token).

A request must carry the token from the ``market_csrf`` cookie, in the ``X-CSRF-Token`` header
(a script calling the API with the session cookie sends it) or the ``csrf_token`` form field,
when it changes state and the browser could have been tricked into sending it: it is
authenticated by the session cookie, or it is a form post. API clients that authenticate with a
bearer token, and JSON posts without a session cookie (which a foreign page cannot send without
CORS, and we allow none), need no token.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request

from market.errors import PermissionDenied
from market.i18n import gettext as _

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


async def check_csrf(request: Request[Any, Any, Any]) -> None:
    if request.method in SAFE_METHODS or request.scope.get("auth") == "bearer":
        return
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    is_form = content_type in FORM_TYPES
    if request.scope.get("auth") != "cookie" and not is_form:
        return
    expected = request.scope["state"].get("csrf_token", "")
    supplied = request.headers.get("x-csrf-token")
    if not supplied and is_form and content_type != "text/plain":
        form = await request.form()
        value = form.get("csrf_token")
        supplied = value if isinstance(value, str) else None
    if (
        not request.scope["state"].get("csrf_cookie_present")
        or not supplied
        or not hmac.compare_digest(supplied, expected)
    ):
        raise PermissionDenied(
            _("The form has expired or did not come from this site."),
            _("Reload the page and try again."),
        )
