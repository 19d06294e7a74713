"""Jinja set-up shared by the web pages and the PDF documents: translations and the formatting
filters (money, dates, coded values). The web layer adds its request helpers on top
(``market.web.templating``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from market import i18n, terms
from market.clock import now


def at_render_time(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` as a filter that runs when the template is rendered. Jinja evaluates a filter applied to
    a literal (``{{ "owner"|label("party") }}``) once, when it compiles the template, unless the filter
    takes the render context; these filters depend on the request's language (and the clock), so the
    first language to compile a template would otherwise be baked into it for everyone."""

    @pass_context
    def filter_(_context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(value, *args, **kwargs)

    return filter_


def configure(env: Environment) -> None:
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message, **kw: i18n.gettext(message, **kw),
        lambda s, p, n, **kw: i18n.ngettext(s, p, n, **kw),
        newstyle=True,
    )
    env.globals.update(current_lang=i18n.get_locale, now=now)
    env.filters.update(
        money=at_render_time(i18n.format_money),
        dt=at_render_time(i18n.format_datetime),
        date=at_render_time(i18n.format_date),
        label=at_render_time(terms.label),
    )
    env.trim_blocks = True
    env.lstrip_blocks = True
