"""Jinja set-up shared by the web pages and the PDF documents: translations and the formatting
filters (money, dates, coded values). The web layer adds its request helpers on top
(``market.web.templating``)."""

from __future__ import annotations

from jinja2 import Environment

from market import i18n, terms
from market.clock import now


def configure(env: Environment) -> None:
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message, **kw: i18n.gettext(message, **kw),
        lambda s, p, n, **kw: i18n.ngettext(s, p, n, **kw),
        newstyle=True,
    )
    env.globals.update(current_lang=i18n.get_locale, now=now)
    env.filters.update(
        money=i18n.format_money,
        dt=i18n.format_datetime,
        date=i18n.format_date,
        label=terms.label,
    )
    env.trim_blocks = True
    env.lstrip_blocks = True
