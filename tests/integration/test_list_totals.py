"""The published list's exact total, kept per audit chain head (issue 12.8): a two-character search
(项目, 评估) counts most of a province on every request otherwise. The cached total must never be
stale: a commit moves the head; a filter that moves with the clock alone is never cached."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bidding import queries
from bidding.models import Purchase
from market import clock
from market.app import wire
from market.audit.models import AuditHead
from oversight import bulk
from tests.integration.bidding_world import make_world
from tests.integration.helpers import login, statements


async def test_a_purchase_published_between_two_searches_changes_the_total(client, factory, engine, settings):
    w = await make_world(client, factory, settings)
    await w.published(title="云岭县第一中学宿舍楼安全评估")
    await w.published(title="云岭县人民医院门诊楼安全评估")
    await w.published(title="云岭县城南污水处理厂环境影响评价")
    queries.TOTALS.clear()
    for path in ("/api/v1/purchases?q=评估&limit=1", "/api/v1/purchases?q=评估&limit=1&offset=1"):
        assert (await client.get(path)).json()["total"] == 2, path  # a full page: counted
    assert len(queries.TOTALS) == 1  # one filter, one head: the second page reused the first's count
    with statements(engine) as seen:
        again = (await client.get("/api/v1/purchases?q=评估&limit=1")).json()
    assert again["total"] == 2
    assert not [s for s in seen if "count(" in s.lower()]  # served from the cache: nothing counted
    third = await w.published(title="云岭县图书馆消防安全评估")
    after = (await client.get("/api/v1/purchases?q=评估&limit=1")).json()
    assert after["total"] == 3 and third["id"] in {
        i["id"] for i in (await client.get("/api/v1/purchases?q=评估")).json()["items"]
    }
    page = await client.get("/purchases?q=评估")
    assert page.status_code == 200


async def test_a_total_that_moves_with_the_clock_is_never_cached(client, factory, settings):
    w = await make_world(client, factory, settings)
    first = await w.published(title="安全评估一")
    clock.freeze(clock.now() + timedelta(minutes=10))
    await w.published(title="安全评估二")
    queries.TOTALS.clear()
    assert (await client.get("/api/v1/purchases?status=open&limit=1")).json()["total"] == 2
    assert (await client.get("/api/v1/purchases?status=closing&limit=1")).json()["total"] == 0
    # the first deadline passes; nothing is committed (reads never write), the head stands still
    clock.freeze(datetime.fromisoformat(first["bid_deadline"]) + timedelta(seconds=1))
    assert (await client.get("/api/v1/purchases?status=open&limit=1")).json()["total"] == 1
    assert (await client.get("/api/v1/purchases?status=closing&limit=1")).json()["total"] == 1
    assert len(queries.TOTALS) == 0


async def test_a_search_text_with_quotes_is_matched_as_text(client, factory, settings):
    """The search pattern is written into the statement (see ``bidding.queries._filtered``): quotes,
    backslashes and semicolons stay text, never SQL (``%`` and ``_`` are LIKE's wildcards, as
    before)."""
    w = await make_world(client, factory, settings)
    await w.published(title="O'Brien 咨询 100% 评估")
    await w.published(title="普通项目")
    for q, total in (
        ("O'Brien", 1),
        ("100%", 1),
        ("'; DROP TABLE purchases; --", 0),
        ("\\", 0),
        ("评估", 1),
    ):
        r = await client.get("/api/v1/purchases", params={"q": q, "limit": 1})
        assert r.status_code == 200 and r.json()["total"] == total, (q, r.text[:200])
    assert (await client.get("/api/v1/purchases")).json()["total"] == 2


async def test_a_deep_page_reads_only_its_own_rows(client, factory, engine, settings):
    """?offset=N finds the page's ids first (an index-only walk in the list's order) and reads
    only their rows: the skipped rows are never read whole (a province page 40,000 deep: 105 ms
    with the whole rows skipped, ~20 ms by ids)."""
    w = await make_world(client, factory, settings)
    for _ in range(4):
        await w.published()
    everything = [p["ref"] for p in (await client.get("/api/v1/purchases?limit=10")).json()["items"]]
    with statements(engine) as seen:
        page = (await client.get("/api/v1/purchases?limit=2&offset=1")).json()
    assert [p["ref"] for p in page["items"]] == everything[1:3] and page["total"] == 4
    listing = [s for s in seen if "FROM purchases" in s and "OFFSET" in s.upper()]
    assert listing and all("AS keys" in s for s in listing), listing


async def test_a_keyset_page_is_an_index_bound(client, factory, engine, settings):
    """?cursor= (the list's links.next) bounds the walk by the position's publication time, so a
    page 40,000 deep costs what the first costs (the OR alone read the list from its start)."""
    w = await make_world(client, factory, settings)
    for _ in range(4):
        await w.published()
    first = await client.get("/api/v1/purchases?limit=2")
    everything = [p["ref"] for p in (await client.get("/api/v1/purchases?limit=10")).json()["items"]]
    following = first.links["next"]["url"]
    assert "cursor=" in following
    with statements(engine) as seen:
        page = (await client.get(following)).json()
    assert [p["ref"] for p in page["items"]] == everything[2:4]
    assert any("published_at <=" in s for s in seen), seen


async def test_a_total_is_kept_through_commits_that_change_no_purchase(client, factory, engine, settings):
    """The totals are keyed on the purchases' greatest change number, not the whole chain head: a
    sign-in or a bid moves the head but changes no purchase, and the next request does not count
    again (a province's 项目: ~40 ms each time); a draft or a publication moves the number, and the
    total is counted again, exact."""
    w = await make_world(client, factory, settings)
    target = await w.published(title="云岭县第一中学宿舍楼安全评估")
    await w.published(title="云岭县人民医院门诊楼安全评估")
    await w.published(title="云岭县城南污水处理厂环境影响评价")
    queries.TOTALS.clear()
    assert (await client.get("/api/v1/purchases?q=评估&limit=1")).json()["total"] == 2

    async def counted(path: str) -> tuple[int, bool]:
        with statements(engine) as seen:
            total = (await client.get(path)).json()["total"]
        return total, any("count(" in s.lower() for s in seen)

    await login(client, "firm2")  # an audited commit that changes no purchase
    assert (await w.bid(target["id"], 0, "9000.00")).status_code == 201  # nor does a sealed bid
    assert await counted("/api/v1/purchases?q=评估&limit=1") == (2, False)
    await w.draft(title="云岭县档案馆安全评估")  # a new purchase (a draft: not in the list)
    assert await counted("/api/v1/purchases?q=评估&limit=1") == (2, True)
    await w.published(title="云岭县图书馆消防安全评估")
    assert await counted("/api/v1/purchases?q=评估&limit=1") == (3, True)
    assert await counted("/api/v1/purchases?q=评估&limit=1") == (3, False)


@pytest.mark.demo
async def test_generated_purchases_carry_the_change_number_of_their_batch(client, factory, settings):
    """The generator's bulk inserts stamp each batch's purchases as bidding.changes stamps a commit
    (its last audit event's number): a server that counted before the load counts again after it,
    and the open data feed sees the generated purchases after what it had seen."""
    wire(settings)
    queries.TOTALS.clear()
    before = (await client.get("/api/v1/purchases?limit=1")).json()["total"]
    await bulk.generate(factory, 30, seed=5)
    async with factory() as session:
        head = await session.scalar(select(AuditHead.seq).where(AuditHead.id == 1))
        assert await session.scalar(select(func.max(Purchase.change_seq))) == head
        assert not await session.scalar(select(func.count()).select_from(Purchase).where(Purchase.change_seq == 0))
    assert (await client.get("/api/v1/purchases?limit=1")).json()["total"] == before + 30


async def test_a_frequent_text_whose_total_is_known_walks_the_list_and_pages_as_the_fenced_search(
    client, factory, engine, settings, backend, monkeypatch
):
    """A trigram search (three characters or more) counts its hits once per change of the
    purchases; while that total is known and the hits are frequent (hits² > (offset + limit) ×
    published), a page walks the list's order instead of reading every hit (a province's
    评估报告: 1.4 ms against 4.5 ms). Its pages and total are the fenced search's."""
    monkeypatch.setattr(queries, "WALK_FLOOR", 1)  # four purchases are frequent enough here
    w = await make_world(client, factory, settings)
    for title in ("宿舍楼安全评估报告", "门诊楼安全评估报告", "污水处理厂环境影响评价", "图书馆安全评估报告"):
        await w.published(title=title)
    path = "/api/v1/purchases?q=安全评估报告&limit=1&offset={}"
    fenced = []
    for offset in range(4):
        queries.TOTALS.clear()
        fenced.append((await client.get(path.format(offset))).json())
    assert [p["total"] for p in fenced] == [3, 3, 3, 3] and [len(p["items"]) for p in fenced] == [1, 1, 1, 0]
    assert (await client.get(path.format(0))).json() == fenced[0]  # counted (fenced), the total kept
    assert (await client.get("/api/v1/purchases?limit=1")).json()["total"] == 4  # all published: counted, kept
    for offset in range(4):
        with statements(engine) as seen:
            walked = (await client.get(path.format(offset))).json()
        assert walked == fenced[offset], offset
        if backend == "postgresql" and offset < 2:  # 3² > (offset + 1) × 4: the walk, nothing counted
            assert not [s for s in seen if "MATERIALIZED" in s or "count(" in s.lower()], seen
            assert any("AS keys" in s for s in seen), seen  # the page's ids in the list's order (_rows)
