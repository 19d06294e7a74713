"""The bounds of what the invoices services accept, enforced by the services themselves whatever
the caller (the JSON API, a page form, the demo, a script): amounts within NUMERIC(14,2) and above
zero, day counts, the length of texts and no control characters in them.

The request schemas (:mod:`invoices.schemas`) state the same limits with these constants, so a
page, its API twin and a direct service call refuse the same input with the same field name
and, wherever the schema is the first to see it, the same message.
"""

from __future__ import annotations

from decimal import Decimal

from market.errors import InvalidInput
from market.i18n import gettext as _
from market.money import MoneyError, parse_money
from market.schemas import check_text

MAX_EXTRA_DAYS = 365  # working days a supplementary agreement may add to the time limit
AGREEMENT_TEXT = (5, 4000)  # the change, in words
WITHDRAW_REASON = (2, 2000)
RETURN_REASON = (5, 2000)
VOID_REASON = (10, 2000)  # why the owner voids an award its winner did not sign
CREDIT_REASON = (2, 2000)
PAYMENT_REFERENCE = (1, 100)
DELIVERY_NOTE = 2000
RATING_COMMENT = 1000
TAX_INVOICE_NO = 20


def text(field: str, value: str | None, *, most: int, least: int = 0, too_short: str | None = None) -> str:
    """``value`` trimmed, refused when it holds control characters (NUL…) or is shorter than
    ``least`` (with the message ``too_short``) or longer than ``most`` characters."""
    trimmed = (value or "").strip()
    try:
        check_text(trimmed)
    except ValueError as exc:
        raise InvalidInput.field(field, str(exc)) from None
    if len(trimmed) < least:
        raise InvalidInput.field(field, too_short or _("At least %(n)s characters.", n=least))
    if len(trimmed) > most:
        raise InvalidInput.field(field, _("At most %(n)s characters.", n=most))
    return trimmed


def amount(field: str, value: Decimal | int | str) -> Decimal:
    """A positive amount of at most two decimals that NUMERIC(14,2) can hold (the one money parser's
    messages, so that a direct call and a schema say the same)."""
    try:
        parsed = parse_money(value)
    except MoneyError as exc:
        raise InvalidInput.field(field, str(exc)) from None
    if parsed <= 0:
        raise InvalidInput.field(field, _("The amount must be above zero."))
    return parsed


def days(field: str, value: int, *, most: int, least: int = 0) -> int:
    """A whole number of days from ``least`` to ``most``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput.field(field, _("Enter a whole number."))
    if value < least:
        raise InvalidInput.field(field, _("At least %(n)s.", n=least))
    if value > most:
        raise InvalidInput.field(field, _("At most %(n)s.", n=most))
    return value
