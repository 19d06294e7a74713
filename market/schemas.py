"""Base classes of request and response schemas (pydantic; never table models).

The same request schema is the one input path of a capability: the JSON API validates its body
with it, and the page form that mirrors the API route parses its fields into it
(:func:`market.web.forms.parse`). Services take the validated schema or its values and still
enforce every domain rule themselves.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, field_validator

from market.i18n import gettext as _
from market.money import Money

T = TypeVar("T")

# C0 control characters except tab, line feed and carriage return, and DEL: never text a person
# typed (PostgreSQL cannot even store NUL)
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# Invisible and direction-changing characters: every format character (Unicode category Cf:
# the bidirectional embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069, the marks
# U+200E/U+200F/U+061C, zero-width U+200B–U+200D, U+2060–U+2064, the byte-order mark U+FEFF, the
# soft hyphen …), the line and paragraph separators, and blanks that are letters in name only.
# A name holding U+202E prints its rest reversed on a contract; one holding U+200B looks like
# another name. Listed explicitly too, so that no Unicode version can make them pass.
INVISIBLE = frozenset(
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063"
    "\u2064\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d\u206e\u206f\ufeff\u00ad\u180e"
    "\u034f\u115f\u1160\u3164\uffa0\u2028\u2029\ufff9\ufffa\ufffb"
)


def invisible_character(text: str) -> str | None:
    """The first invisible or direction-changing character of ``text``, if any."""
    for ch in text:
        if ch in INVISIBLE or (ch > "\x7f" and unicodedata.category(ch) == "Cf"):
            return ch
    return None


def invisible_message(ch: str) -> str:
    return _("Invisible or text-direction characters are not allowed (found U+%(code)s).", code=f"{ord(ch):04X}")


# the largest whole number a request may carry: every integer column is 64 bits at most
MAX_INTEGER = 2**63 - 1


def check_integer(value: Any) -> Any:
    """Refuse a whole number beyond 64 bits (it could reach the database and fail there)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
        raise ValueError(_("This number is too large."))
    return value


# the years a date may name: far enough either way for any deadline or period, and near enough that
# converting it between time zones cannot leave the calendar (0001-01-01 in China time has no UTC)
FIRST_YEAR, LAST_YEAR = 1900, 9998


def check_date(value: Any) -> Any:
    """Refuse a date or moment outside :data:`FIRST_YEAR`..:data:`LAST_YEAR`."""
    if isinstance(value, date) and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(_("Enter a date between %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR))
    return value


def check_text(value: Any) -> Any:
    """Refuse control, invisible and text-direction characters in a string (other values pass
    through)."""
    if isinstance(value, str):
        if CONTROL_RE.search(value):
            raise ValueError(_("Control characters are not allowed."))
        found = invisible_character(value)
        if found is not None:
            raise ValueError(invisible_message(found))
    return value


class Schema(BaseModel):
    """Base for request schemas: unknown fields are refused, strings are trimmed and may not hold
    control, invisible or text-direction characters; whole numbers fit in 64 bits, dates lie between
    1900 and 9998."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        if isinstance(value, list):
            for item in value:
                check_text(item)
            return value
        return check_text(value)

    @field_validator("*", mode="after")
    @classmethod
    def _bounded_integers(cls, value: Any) -> Any:
        for item in value if isinstance(value, list) else [value]:
            check_date(check_integer(item))
        return value


class Out(BaseModel):
    """Base for response schemas, built from table rows by attribute."""

    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


__all__ = [
    "Money",
    "Out",
    "Page",
    "Schema",
    "check_date",
    "check_integer",
    "check_text",
    "invisible_character",
    "invisible_message",
]
