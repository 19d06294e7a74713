"""The public purchase search uses LIKE instead of ILIKE only for text without any cased character."""

from __future__ import annotations

import pytest

from bidding.queries import caseless


@pytest.mark.parametrize("text", ["项目", "环境影响评价", "2026-000123", "（一）", "评估 2026"])
def test_text_without_case_takes_like(text: str) -> None:
    assert caseless(text)


@pytest.mark.parametrize("text", ["CG-2026", "cg-2026", "ZJ-HP-01", "项目a", "Ä", "ß"])
def test_text_with_letters_keeps_ilike(text: str) -> None:
    assert not caseless(text)
