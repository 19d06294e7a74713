"""The fast path's pure parts: the time engine's epoch, the cache key, the byte budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from market.web.etag import Stamp, _Marks, matches
from market.web.fastpath import Entry, ResponseCache, _key, _without_csrf_cookie
from market.web.templating import csrf_field

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
moments = st.lists(st.integers(min_value=1, max_value=10_000), max_size=20, unique=True).map(
    lambda xs: sorted(T0 + timedelta(seconds=x) for x in xs)
)


@given(moments, st.integers(min_value=0, max_value=10_500), st.integers(min_value=0, max_value=10_500))
def test_two_moments_share_an_epoch_exactly_when_no_due_moment_lies_between_them(due, a, b):
    marks = _Marks(fetched_at=T0, past=None, ahead=due, complete=True)
    x, y = sorted((T0 + timedelta(seconds=a), T0 + timedelta(seconds=b)))
    between = any(x < m <= y for m in due)
    assert (marks.epoch(x) == marks.epoch(y)) is (not between)


@given(moments, st.integers(min_value=0, max_value=10_500))
def test_past_the_moments_read_ahead_the_epoch_is_unknown_unless_they_were_all(due, a):
    now = T0 + timedelta(seconds=a)
    partial = _Marks(fetched_at=T0, past=None, ahead=due, complete=False)
    beyond = not due or now >= due[-1]
    assert (partial.epoch(now) is None) is beyond
    assert _Marks(fetched_at=T0, past=None, ahead=due, complete=True).epoch(now) is not None


def test_a_clock_set_back_before_the_marks_were_read_asks_again():
    marks = _Marks(fetched_at=T0, past=T0 - timedelta(hours=1), ahead=[], complete=True)
    assert marks.epoch(T0) == (T0 - timedelta(hours=1)).isoformat()
    assert marks.epoch(T0 - timedelta(seconds=1)) is None


def _scope(headers: list[tuple[bytes, bytes]], path: str = "/api/v1/purchases", query: bytes = b"") -> dict:
    return {"type": "http", "method": "GET", "path": path, "query_string": query, "headers": headers}


def test_the_key_ignores_what_no_answer_depends_on_and_keeps_the_rest():
    plain = _key(_scope([(b"host", b"a"), (b"user-agent", b"wrk"), (b"if-none-match", b'W/"x"')]))
    assert plain == _key(_scope([(b"host", b"b")]))
    assert _key(_scope([(b"accept-language", b"en")])) != plain
    assert _key(_scope([(b"hx-request", b"true")])) != plain
    assert _key(_scope([], query=b"q=%E8%AF%84")) != plain
    assert _key(_scope([], path="/api/v1/ocds/releases")) != plain


def test_cookies_credentials_and_no_cache_are_never_answered_from_memory():
    for header in (
        (b"cookie", b"market_lang=en"),
        (b"authorization", b"Bearer x"),
        (b"cache-control", b"no-cache"),
        (b"cache-control", b"max-age=0, No-Store"),
        (b"pragma", b"no-cache"),
    ):
        assert _key(_scope([header])) is None, header
    assert _key(_scope([(b"cache-control", b"max-age=60")])) is not None


def _entry(size: int, seq: int = 1) -> Entry:
    return Entry(Stamp("db", seq, "2026-03-02", "-", f'W/"{seq}"'), [(b"content-type", b"x")], b"x" * size)


def test_the_cache_keeps_to_its_budget_least_recently_used_first():
    cache = ResponseCache(budget=3_000, max_body=2_000)
    keys = [_key(_scope([], query=f"p={i}".encode())) for i in range(4)]
    assert all(k is not None for k in keys)
    for k in keys[:2]:
        cache.put(k, _entry(1_000))  # type: ignore[arg-type]
    cache.get(keys[0])  # type: ignore[arg-type]
    cache.put(keys[2], _entry(1_000))  # type: ignore[arg-type]
    assert cache.get(keys[1]) is None and cache.get(keys[0]) is not None  # type: ignore[arg-type]
    cache.put(keys[3], _entry(5_000))  # type: ignore[arg-type]
    assert cache.get(keys[3]) is None  # larger than any body kept  # type: ignore[arg-type]
    assert len(cache) == 2


def test_if_none_match_is_compared_weakly_and_star_matches():
    assert matches('W/"a", "b"', 'W/"b"') and matches("*", 'W/"a"') and not matches('"c"', 'W/"a"')
    assert not matches(None, 'W/"a"')


def test_the_new_visitors_csrf_cookie_is_not_kept_unless_the_body_holds_the_token():
    headers = [(b"etag", b'W/"a"'), (b"set-cookie", b"market_csrf=abc; Path=/"), (b"set-cookie", b"other=1")]
    assert _without_csrf_cookie({}, headers) == ([(b"etag", b'W/"a"'), (b"set-cookie", b"other=1")], True)
    assert _without_csrf_cookie({"csrf_used": True}, headers) == (headers, False)
    assert _without_csrf_cookie({}, headers[:1]) == (headers[:1], False)


def test_a_rendered_csrf_field_marks_the_answer_as_the_visitors_own():
    class Request:
        scope: dict = {"state": {"csrf_token": "tok"}}

    field = csrf_field.__wrapped__ if hasattr(csrf_field, "__wrapped__") else csrf_field
    html = field({"request": Request()})
    assert "tok" in html and Request.scope["state"]["csrf_used"] is True
