"""Jinja set-up of every package's pages: the shared translations and filters
(:mod:`market.jinja`) plus the request helpers: CSRF field, language and paging links, the flash
message."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, pass_context
from markupsafe import Markup, escape

from market import jinja
from market.web import pages
from market.web.middleware import CSRF_USED


@pass_context
def csrf_field(ctx: Any) -> Markup:
    request = ctx.get("request")
    token = request.scope.get("state", {}).get("csrf_token", "") if request is not None else ""
    if request is not None:  # this page holds the visitor's token: it is theirs alone (market.web.fastpath)
        request.scope.setdefault("state", {})[CSRF_USED] = True
    return Markup(f'<input type="hidden" name="csrf_token" value="{escape(token)}">')  # noqa: S704


@pass_context
def lang_url(ctx: Any, lang: str) -> str:
    """The current page in another language (the choice is remembered in a cookie)."""
    request = ctx.get("request")
    if request is None:
        return f"/?lang={lang}"
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    params.append(("lang", lang))
    return f"{request.url.path}?{urlencode(params)}"


@pass_context
def page_url(ctx: Any, **changes: Any) -> str:
    """The current page with some query parameters changed (for pagination and filters)."""
    request = ctx["request"]
    params = {k: v for k, v in request.query_params.items() if k != "lang"}
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    return f"{request.url.path}?{urlencode(params)}" if params else request.url.path


@pass_context
def flash_message(ctx: Any) -> str | None:
    """What the page says after a successful form (``?done=KEY``; see :mod:`market.web.pages`)."""
    request = ctx.get("request")
    if request is None:
        return None
    notices = getattr(request.app.state, "notices", {})
    return pages.flash_message(notices, request.query_params.get(pages.FLASH_KEY))


def configure(env: Environment) -> None:
    jinja.configure(env)
    env.globals.update(
        csrf_field=csrf_field,
        lang_url=lang_url,
        page_url=page_url,
        flash_message=flash_message,
    )
