from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from market.money import to_money
from market.schemas import Money


class Priced(BaseModel):
    price: Money


def test_money_accepts_strings_and_numbers_and_writes_two_decimals():
    assert Priced(price="12800").price == Decimal("12800.00")
    assert Priced(price=12800).price == Decimal("12800.00")
    assert Priced(price=99.5).price == Decimal("99.50")
    assert Priced(price="12800.5").model_dump(mode="json") == {"price": "12800.50"}


@pytest.mark.parametrize("bad", ["12.345", "abc", True, "NaN", "1e20"])
def test_money_refuses_bad_amounts(bad):
    with pytest.raises(ValidationError):
        Priced(price=bad)


@given(st.decimals(min_value=0, max_value=Decimal("999999999999.99"), places=2, allow_nan=False))
def test_round_trip(amount):
    assert Priced.model_validate_json(Priced(price=amount).model_dump_json()).price == to_money(amount)
