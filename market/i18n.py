"""Translations (gettext catalogs compiled by ``make``), the request's locale, and formatting.

Message ids are English; the Chinese catalog (``zh``) is the default language of every page.
The locale of the current request lives in a context variable, so services, templates and
error messages all translate without being handed the request.
"""

from __future__ import annotations

import contextvars
import functools
from datetime import date, datetime
from decimal import Decimal
from gettext import NullTranslations
from pathlib import Path

from babel import Locale
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.numbers import format_decimal
from babel.support import Translations

from market.clock import LOCAL_TZ, ensure_aware

LOCALES = ("zh", "en")
DEFAULT_LOCALE = "zh"
BABEL_LOCALE = {"zh": Locale.parse("zh_Hans_CN"), "en": Locale.parse("en_GB")}
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("market_locale", default=DEFAULT_LOCALE)


def normalize(lang: str | None) -> str | None:
    if not lang:
        return None
    lang = lang.strip().lower().replace("_", "-")
    if lang.startswith("zh"):
        return "zh"
    if lang.startswith("en"):
        return "en"
    return None


def from_accept_language(header: str | None) -> str | None:
    if not header:
        return None
    choices: list[tuple[float, str]] = []
    for part in header.split(","):
        piece = part.strip().split(";")
        q = 1.0
        for param in piece[1:]:
            if param.strip().startswith("q="):
                try:
                    q = float(param.strip()[2:])
                except ValueError:
                    q = 0.0
        lang = normalize(piece[0])
        if lang:
            choices.append((q, lang))
    return max(choices)[1] if choices else None


def set_locale(lang: str) -> contextvars.Token[str]:
    return _current.set(lang if lang in LOCALES else DEFAULT_LOCALE)


def reset_locale(token: contextvars.Token[str]) -> None:
    _current.reset(token)


def get_locale() -> str:
    return _current.get()


@functools.cache
def translations(lang: str) -> NullTranslations:
    if lang == "en":
        return NullTranslations()
    mo = TRANSLATIONS_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if mo.exists():
        return Translations.load(str(TRANSLATIONS_DIR), [lang], DOMAIN)
    po = mo.with_suffix(".po")
    if po.exists():  # a checkout where `make` has not compiled the catalog yet
        import io

        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        return Translations(fp=buf, domain=DOMAIN)
    return NullTranslations()


def gettext(message: str, **variables: object) -> str:
    text = translations(get_locale()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(get_locale()).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


def babel_locale() -> Locale:
    return BABEL_LOCALE[get_locale()]


def format_money(amount: Decimal | None, with_symbol: bool = True) -> str:
    if amount is None:
        return ""
    text = format_decimal(amount, format="#,##0.00", locale=babel_locale())
    return f"¥{text}" if with_symbol else text


def format_datetime(moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = ensure_aware(moment).astimezone(LOCAL_TZ)
    return _format_datetime(local, format="yyyy-MM-dd HH:mm", locale=babel_locale(), tzinfo=LOCAL_TZ)


def format_date(day: date | datetime | None) -> str:
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = ensure_aware(day).astimezone(LOCAL_TZ).date()
    return _format_date(day, format="yyyy-MM-dd", locale=babel_locale())
