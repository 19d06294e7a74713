"""The fast path (issue 12.8): repeated anonymous reads answered from memory while the audit chain
head, the day and the time engine's epoch stand — and never once one of them has moved.

PostgreSQL: the head is heard through LISTEN/NOTIFY (``market.audit.headwatch``). SQLite has no
notifications: there the fast path answers nothing itself (tested too)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from market.audit.headwatch import HeadWatch
from market.web.fastpath import FastPath
from tests.integration.bidding_world import make_world
from tests.integration.helpers import statements

LIST = "/api/v1/purchases?limit=50"


class Fast:
    def __init__(self, app: Any, path: FastPath, watch: HeadWatch | None) -> None:
        self.app = app
        self.path = path
        self.watch = watch
        transport = httpx.ASGITransport(app=path, client=("203.0.113.9", 50001))
        self.client = httpx.AsyncClient(transport=transport, base_url="http://testserver")  # reads, anonymous
        self.writer = httpx.AsyncClient(transport=transport, base_url="http://testserver")  # signs in, writes

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """An anonymous read by a client that keeps no cookies (a harvester; the answers give it
        the CSRF cookie every new visitor is given, which it never sends back)."""
        answer = await self.client.get(path, **kwargs)
        self.client.cookies.clear()
        return answer


@pytest.fixture
async def fast(app: Any, settings: Any) -> AsyncIterator[Fast]:
    watch = None
    if settings.database_url.startswith("postgresql"):
        watch = HeadWatch(settings.database_url, recheck_seconds=0.2)
        await watch.start()
        assert watch.seq is not None
    app.state.head_watch = watch
    f = Fast(app, FastPath(app), watch)
    try:
        yield f
    finally:
        await f.client.aclose()
        await f.writer.aclose()
        if watch is not None:
            await watch.stop()
        app.state.head_watch = None


async def _until(condition: Any, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within the time allowed")


@pytest.mark.postgres_only
async def test_a_repeated_read_is_answered_from_memory_without_the_database(fast, factory, settings, engine):
    w = await make_world(fast.writer, factory, settings)
    await w.published(title="云岭县第一中学宿舍楼安全评估")
    first = await fast.get(LIST)
    assert first.status_code == 200 and first.json()["total"] == 1
    with statements(engine) as seen:
        again = await fast.get(LIST)
        conditional = await fast.get(LIST, headers={"If-None-Match": first.headers["etag"]})
    assert seen == []  # neither read asked the database anything
    assert fast.path.hits == 2
    assert again.status_code == 200 and again.content == first.content
    same = {k: v for k, v in first.headers.items() if k != "set-cookie"}
    assert {k: v for k, v in again.headers.items() if k != "set-cookie"} == same
    assert conditional.status_code == 304 and conditional.content == b""
    assert conditional.headers["etag"] == first.headers["etag"]
    # the same 304 as the application's own (the bare app answers the same tag by itself)
    bare = httpx.AsyncClient(transport=httpx.ASGITransport(app=fast.app), base_url="http://testserver")
    async with bare:
        own = await bare.get(LIST, headers={"If-None-Match": first.headers["etag"]})
    assert own.status_code == 304
    assert "market_csrf=" in conditional.headers["set-cookie"] and "market_csrf=" in own.headers["set-cookie"]
    assert {k: v for k, v in conditional.headers.items() if k != "set-cookie"} == {
        k: v for k, v in own.headers.items() if k != "set-cookie"
    }


@pytest.mark.postgres_only
async def test_a_change_made_through_this_process_is_seen_by_the_next_read(fast, factory, settings):
    w = await make_world(fast.writer, factory, settings)
    await w.published(title="安全评估一")
    assert (await fast.get(LIST)).json()["total"] == 1
    assert (await fast.get(LIST)).json()["total"] == 1
    hits = fast.path.hits
    await w.published(title="安全评估二")  # through the fast path: the head is read before the answer leaves
    assert (await fast.get(LIST)).json()["total"] == 2  # at once, no waiting for the notification
    assert fast.path.hits == hits


@pytest.mark.postgres_only
async def test_a_change_made_by_another_process_is_heard(fast, app, factory, settings):
    w = await make_world(fast.writer, factory, settings)
    await w.published(title="安全评估一")
    etag = (await fast.get(LIST)).headers["etag"]
    assert (await fast.get(LIST, headers={"If-None-Match": etag})).status_code == 304
    assert fast.watch is not None
    before = fast.watch.seq
    # another process: the bare application (no fast path, no catching up), as a second server would be
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    async with other:
        w.client = other
        await w.published(title="安全评估二")
    await _until(lambda: fast.watch is not None and (fast.watch.seq or 0) > (before or 0))
    answer = await fast.get(LIST, headers={"If-None-Match": etag})
    assert answer.status_code == 200 and answer.json()["total"] == 2
    assert answer.headers["etag"] != etag


@pytest.mark.postgres_only
async def test_a_deadline_passing_changes_the_answer_without_any_commit(fast, factory, settings):
    w = await make_world(fast.writer, factory, settings)
    p = await w.published(title="安全评估")
    first = await fast.get(LIST)
    assert first.json()["items"][0]["status"] == "open"
    assert (await fast.get(LIST)).status_code == 200
    hits = fast.path.hits
    seq = fast.watch.seq if fast.watch else None
    w.past_deadline(p)  # nothing is written: reads show the state as of now
    after = await fast.get(LIST, headers={"If-None-Match": first.headers["etag"]})
    assert fast.watch is not None and fast.watch.seq == seq  # the head did not move
    assert after.status_code == 200 and after.json()["items"][0]["status"] == "closing"
    assert after.headers["etag"] != first.headers["etag"]
    assert fast.path.hits == hits
    # and the application's own tag moved too: a client holding the old one is not told 304
    bare = httpx.AsyncClient(transport=httpx.ASGITransport(app=fast.app), base_url="http://testserver")
    async with bare:
        own = await bare.get(LIST, headers={"If-None-Match": first.headers["etag"]})
    assert own.status_code == 200 and own.json()["items"][0]["status"] == "closing"


@pytest.mark.postgres_only
async def test_visitors_with_cookies_or_credentials_and_no_cache_requests_are_built_afresh(fast, factory, settings):
    w = await make_world(fast.writer, factory, settings)
    await w.published(title="安全评估")
    assert (await fast.get(LIST)).status_code == 200
    hits = fast.path.hits
    for headers in (
        {"Cookie": "market_lang=en"},
        {"Authorization": w.owner["Authorization"]},
        {"Cache-Control": "no-cache"},
        {"Pragma": "no-cache"},
    ):
        answer = await fast.get(LIST, headers=headers)
        assert answer.status_code == 200, headers
        assert fast.path.hits == hits, headers
    # a different language is a different answer, never the cached one
    english = await fast.get(LIST, headers={"Accept-Language": "en"})
    assert english.status_code == 200 and fast.path.hits == hits


@pytest.mark.postgres_only
async def test_the_watch_recovers_from_a_lost_connection_and_nothing_is_served_meanwhile(fast, factory, settings):
    w = await make_world(fast.writer, factory, settings)
    await w.published(title="安全评估")
    assert fast.watch is not None
    assert (await fast.get(LIST)).status_code == 200
    async with factory() as session:
        killed = (
            await session.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = 'market-head-watch'"
                )
            )
        ).all()
    assert killed == [(True,)]
    await _until(lambda: fast.watch is not None and fast.watch.seq is None)
    hits = fast.path.hits
    assert (await fast.get(LIST)).status_code == 200  # built by the application meanwhile
    assert fast.path.hits == hits
    await _until(lambda: fast.watch is not None and fast.watch.seq is not None, 10)
    await fast.get(LIST)
    assert (await fast.get(LIST)).status_code == 200
    assert fast.path.hits == hits + 2  # listening again: from memory again (the answer kept before still stands)


async def test_without_a_watch_every_read_goes_to_the_application(fast, factory, settings):
    """SQLite (and a server started with MARKET_FAST_READS=0): nothing is answered from memory."""
    if fast.watch is not None:
        await fast.watch.stop()
        fast.app.state.head_watch = None
    w = await make_world(fast.writer, factory, settings)
    await w.published(title="安全评估")
    for _ in range(3):
        assert (await fast.get(LIST)).json()["total"] == 1
    assert fast.path.hits == 0 and fast.path.stored == 0


@pytest.mark.postgres_only
async def test_each_answer_from_memory_gives_a_new_visitor_a_csrf_token_of_its_own(fast, factory, settings):
    """The middleware gives every visitor without cookies a CSRF cookie (an API registrant takes its
    token from any earlier answer); an answer from memory must too, and never a token it gave before."""
    w = await make_world(fast.writer, factory, settings)
    await w.published(title="安全评估")
    tokens = []
    for _ in range(3):
        answer = await fast.get(LIST)
        assert answer.status_code == 200
        tokens.append(answer.cookies["market_csrf"])
    assert fast.path.hits == 2 and len(set(tokens)) == 3
    etag = answer.headers["etag"]
    not_modified = await fast.get(LIST, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.cookies["market_csrf"] not in tokens
    # a list page without forms is kept like an API answer, each visitor given a token of its own
    pages = [await fast.get("/purchases") for _ in range(2)]
    assert pages[0].content == pages[1].content and fast.path.hits == 4
    assert pages[0].cookies["market_csrf"] != pages[1].cookies["market_csrf"]


@pytest.mark.postgres_only
async def test_the_feed_and_a_purchase_are_kept_too_and_change_with_the_head(fast, factory, settings):
    w = await make_world(fast.writer, factory, settings)
    p = await w.published(title="安全评估")
    for path in ("/api/v1/ocds/releases", "/purchases?q=评估"):
        await fast.get(path)
    feed = await fast.get("/api/v1/ocds/releases")
    assert feed.status_code == 200
    hits = fast.path.hits
    assert (await fast.get("/api/v1/ocds/releases")).content == feed.content
    assert fast.path.hits == hits + 1
    reason = {"reason": "预算调整，取消本次采购"}
    r = await w.client.post(f"/api/v1/purchases/{p['id']}/cancel", headers=w.owner, json=reason)
    assert r.status_code == 200, r.text
    changed = await fast.get("/api/v1/ocds/releases")
    assert changed.content != feed.content


@pytest.mark.postgres_only
async def test_when_the_head_moves_many_readers_at_once_cause_one_build(fast, factory, settings):
    w = await make_world(fast.writer, factory, settings)
    await w.published(title="安全评估一")
    assert (await fast.get(LIST)).json()["total"] == 1
    await w.published(title="安全评估二")  # the kept answer is stale now
    stored, hits = fast.path.stored, fast.path.hits
    answers = await asyncio.gather(*(fast.client.get(LIST) for _ in range(8)))
    assert {a.json()["total"] for a in answers} == {2}
    assert fast.path.stored == stored + 1  # one build; the seven others waited for it
    assert fast.path.hits == hits + 7
