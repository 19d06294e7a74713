"""Money: ``Decimal`` with two places, stored as NUMERIC(14,2).

One parser for every amount a person or a program sends (the JSON API, every page form, CSV
imports): :func:`parse_money`. It accepts ``12800``, ``"12800.5"``, ``"12,800.00"`` and
``"¥12800"``; it refuses anything that is not written with ASCII digits (exponents, full-width
digits, underscores, ``NaN``), more than two decimals, and amounts beyond NUMERIC(14,2). It never
raises anything but :class:`MoneyError` (a ``ValueError``), so a bad amount is a field error,
never a server error.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer
from sqlalchemy import BigInteger, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from market.i18n import gettext as _

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")  # the largest value of NUMERIC(14,2)

# digits with optional thousands separators, then at most two decimals; ASCII only
_AMOUNT_RE = re.compile(r"^-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$", re.ASCII)
_LONGEST_INPUT = 40  # "-999,999,999,999.99" is 19 characters; anything far longer is not an amount


class MoneyError(ValueError):
    """An amount that cannot be accepted; ``str(error)`` is a message for people."""


def to_money(value: Decimal | int | str | float) -> Decimal:
    """Two decimals, rounded half up (the way amounts are written in China)."""
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _messages() -> tuple[str, str, str]:
    return (
        _("Enter an amount such as 12800.00."),
        _("An amount has at most two decimals."),
        _("At most %(n)s.", n="999,999,999,999.99"),
    )


def parse_money(value: object) -> Decimal:
    """The amount ``value`` stands for, exactly, as a two-place ``Decimal``.

    ``value`` may be a ``Decimal``, an ``int``, a ``float`` (taken by its shortest repr, so that
    ``99.5`` is 99.50) or a string as people type it. Raises :class:`MoneyError` otherwise.
    """
    wrong, places, too_large = _messages()
    if isinstance(value, bool) or value is None:
        raise MoneyError(wrong)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(wrong)
        text = format(value, "f")
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = repr(value)
    elif isinstance(value, str):
        text = value
    else:
        raise MoneyError(wrong)
    text = text.strip().removeprefix("¥").removeprefix("￥").strip()
    if len(text) > _LONGEST_INPUT or not _AMOUNT_RE.match(text):
        raise MoneyError(wrong)
    whole, _point, fraction = text.replace(",", "").partition(".")
    if len(fraction.rstrip("0")) > 2:
        raise MoneyError(places)
    amount = Decimal(f"{whole}.{fraction[:2] or '0'}")
    if abs(amount) > MAX_AMOUNT:
        raise MoneyError(too_large)
    return amount.quantize(CENT)


def format_plain(amount: Decimal) -> str:
    """``12800.00``: the form in JSON, CSV and form fields."""
    return f"{to_money(amount):.2f}"


# Request and response schemas: input "12800", "12800.00" or 12800 → Decimal('12800.00');
# output (JSON) "12800.00"
Money = Annotated[
    Decimal,
    BeforeValidator(parse_money),
    PlainSerializer(format_plain, return_type=str, when_used="json"),
]


class MoneyType(TypeDecorator[Decimal]):
    """The column type: NUMERIC(14,2) in PostgreSQL, exact integer cents in SQLite (which has no
    decimal type). Both give back the same ``Decimal``; an amount beyond NUMERIC(14,2) is refused
    here too, so SQLite cannot store what PostgreSQL would not."""

    impl = Numeric(14, 2, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(14, 2, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = to_money(value)
        if abs(amount) > MAX_AMOUNT:
            raise MoneyError(_messages()[2])
        if dialect.name == "sqlite":
            return int(amount * 100)
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(CENT)
        return to_money(value)
