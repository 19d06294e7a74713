"""Building blocks for request and response schemas (pydantic; never table models)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from market.db import to_money

T = TypeVar("T")

MAX_AMOUNT = Decimal("999999999999.99")


def _parse_money(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError('an amount must be a number or a string such as "12800.00"')
    if isinstance(value, float):
        return repr(value)
    return value


def _check_money(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("an amount must be a finite number")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("an amount has at most two decimals")
    if abs(value) > MAX_AMOUNT:
        raise ValueError("the amount is too large")
    return to_money(value)


# Input: "12800", "12800.00" or 12800 → Decimal('12800.00'); output: "12800.00"
Money = Annotated[
    Decimal,
    BeforeValidator(_parse_money),
    AfterValidator(_check_money),
    PlainSerializer(lambda d: f"{to_money(d):.2f}", return_type=str, when_used="json"),
]


class Schema(BaseModel):
    """Base for request schemas: unknown fields are refused, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    """Base for response schemas, built from table rows by attribute."""

    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
