"""The flag list's order by subject: oversight.counts sorts subject ids as UUIDs, the rules sort
flags by the id's text (``Flag.sort_key``); the two orders are one (fixed-width lowercase hex)."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st


@given(st.lists(st.uuids(), max_size=50))
def test_uuid_order_is_the_order_of_their_text(ids: list[uuid.UUID]) -> None:
    assert sorted(ids) == sorted(ids, key=str)
