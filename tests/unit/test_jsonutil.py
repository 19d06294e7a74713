from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.jsonutil import canonical


def test_canonical_is_sorted_compact_and_keeps_chinese():
    value = {"b": Decimal("12800.00"), "a": "环评", "id": uuid.UUID(int=1), "at": datetime(2026, 1, 2, tzinfo=UTC)}
    assert canonical(value) == (
        '{"a":"环评","at":"2026-01-02T00:00:00.000000+00:00","b":"12800.00",'
        '"id":"00000000-0000-0000-0000-000000000001"}'
    )


def test_floats_are_refused():
    with pytest.raises(TypeError):
        canonical({"price": 1.5})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values)
def test_canonical_is_stable_under_key_order(value):
    import json

    assert canonical(json.loads(canonical(value))) == canonical(value)
