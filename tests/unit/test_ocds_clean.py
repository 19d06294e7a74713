"""The OCDS release cleaner drops exactly what the former one dropped (it was rewritten for speed)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from oversight.ocds import _clean


def _reference(data: Any) -> Any:  # the former implementation, the specification of the new one
    if isinstance(data, dict):
        cleaned = {}
        for k, v in data.items():
            if isinstance(v, dict | list):
                v = _reference(v)
            if v is not None and v != "" and v != [] and v != {}:
                cleaned[k] = v
        return cleaned
    if isinstance(data, list):
        return [_reference(v) if isinstance(v, dict | list) else v for v in data]
    return data


scalars = st.one_of(st.none(), st.just(""), st.text(max_size=3), st.integers(-2, 2), st.floats(), st.booleans())
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=2), inner, max_size=4)
)


@given(values)
def test_clean_drops_what_the_former_cleaner_dropped(data: Any) -> None:
    assert repr(_clean(data)) == repr(_reference(data))
