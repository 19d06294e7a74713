"""PostgreSQL connections default to read-only transactions, keeping the URL's own options."""

from __future__ import annotations

from market.db import _with_read_only_default


def test_the_read_only_default_is_added_to_the_urls_own_options() -> None:
    assert _with_read_only_default("postgresql://u@h/db") == "-c default_transaction_read_only=on"
    assert (
        _with_read_only_default("postgresql://u@h/db?options=-c%20statement_timeout%3D5000")
        == "-c statement_timeout=5000 -c default_transaction_read_only=on"
    )
