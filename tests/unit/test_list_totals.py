"""The published list's cache of totals is bounded: the least recently used entry goes first."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bidding.queries import TOTALS, Totals


def test_the_cache_keeps_at_most_its_size_and_drops_the_least_recently_used() -> None:
    totals = Totals(size=2)
    totals.put(("a",), 1)
    totals.put(("b",), 2)
    assert totals.get(("a",)) == 1  # a is now the most recently used
    totals.put(("c",), 3)
    assert len(totals) == 2 and totals.get(("b",)) is None
    assert totals.get(("a",)) == 1 and totals.get(("c",)) == 3
    assert 0 < TOTALS.size <= 10_000


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 10**6)), max_size=300), st.integers(1, 20))
def test_any_sequence_of_totals_stays_within_the_bound(puts: list[tuple[int, int]], size: int) -> None:
    totals = Totals(size=size)
    last: dict[int, int] = {}
    for key, total in puts:
        totals.put((key,), total)
        last[key] = total
        assert len(totals) <= size
    recent = list(dict.fromkeys(key for key, _total in reversed(puts)))[:size]
    for key in recent:  # the most recently stored keys are all still there, with their last value
        assert totals.get((key,)) == last[key]
