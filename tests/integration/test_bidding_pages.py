"""The bidding pages, driven through their forms, in Chinese and in English."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from bidding.purchases import earliest_deadline
from market import clock
from tests.integration.bidding_world import ACCELERATOR, CODE, make_world
from tests.integration.helpers import PASSWORD, account


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


def local(moment: datetime) -> str:
    return clock.to_local(moment).strftime("%Y-%m-%dT%H:%M:%S")


async def test_owner_provider_and_operator_work_through_the_pages(client, factory, settings):
    w = await make_world(client, factory, settings)
    admin = await account(client, factory, "admin", "ops")
    # the owner drafts through the form; a bad form comes back with the field named
    form = {
        "title": "云岭县第一中学宿舍楼环境影响评价",
        "catalog_code": CODE,
        "description": "编制环境影响报告表并配合审批。",
        "budget_cap": "45,000.00",
        "price_floor": "",
        "funding": "fiscal",
        "investment_code": "",
        "method": "random",
        "bid_deadline": local(clock.now()),
        "service_days": "12",
        "min_bids": "",
    }
    r = await client.post("/workspace/purchases/new", headers=w.owner, data=form)
    assert r.status_code == 422 and "text/html" in r.headers["content-type"]
    assert 'id="err-bid_deadline"' in r.text and "云岭县第一中学宿舍楼环境影响评价" in r.text
    form["bid_deadline"] = local(earliest_deadline(settings, clock.now()) + timedelta(seconds=30))
    r = await client.post("/workspace/purchases/new", headers=w.owner, data=form)
    assert r.status_code == 303, r.text
    manage = r.headers["location"].split("?")[0]
    pid = manage.rsplit("/", 1)[1]
    page = await client.get(r.headers["location"], headers=w.owner)
    assert page.status_code == 200 and "草稿已保存" in page.text
    r = await client.post(f"/workspace/purchases/{pid}/edit", headers=w.owner, data={**form, "budget_cap": "44000"})
    assert r.status_code == 303
    r = await client.post(f"/workspace/purchases/{pid}/publish", headers=w.owner, data={})
    assert r.status_code == 303
    page = (await client.get(manage, headers=w.owner)).text
    assert "CG-2026-000001" in page and "¥44,000.00" in page
    # providers see it, ask, and bid through the forms
    assert "CG-2026-000001" in (await client.get("/workspace/bidding/open", headers=w.providers[0][0])).text
    assert "CG-2026-000001" not in (await client.get("/workspace/bidding/open", headers=w.outsider)).text
    r = await client.post(f"/purchases/{pid}/questions", headers=w.providers[0][0], data={"question": "需要驻场吗？"})
    assert r.status_code == 303
    question_id = re.search(
        r"/workspace/questions/([0-9a-f-]+)/answer", (await client.get(manage, headers=w.owner)).text
    )[1]
    r = await client.post(f"/workspace/questions/{question_id}/answer", headers=w.owner, data={"answer": "不需要。"})
    assert r.status_code == 303
    assert "不需要。" in (await client.get(f"/purchases/{pid}")).text
    assert (await client.get(f"/workspace/purchases/{pid}/bid", headers=w.providers[0][0])).status_code == 200
    r = await client.post(
        f"/workspace/purchases/{pid}/bid", headers=w.providers[0][0], data={"price": "abc", "service_days": "10"}
    )
    assert r.status_code == 422 and 'id="err-price"' in r.text
    for i, price in enumerate(["40000", "41000", "42000", "43000"]):
        r = await client.post(
            f"/workspace/purchases/{pid}/bid",
            headers=w.providers[i][0],
            data={"price": price, "service_days": "10", "note": ""},
        )
        assert r.status_code == 303 and r.headers["location"].startswith("/workspace/bids?receipt="), r.text
        assert "done=bid-received" in r.headers["location"]
    mine = await client.get("/workspace/bids", headers=w.providers[3][0])
    bid_id = re.search(r'id="bid-([0-9a-f-]+)"', mine.text)[1]
    r = await client.post(f"/workspace/bids/{bid_id}/withdraw", headers=w.providers[3][0], data={})
    assert r.status_code == 303
    assert "已撤回" in (await client.get("/workspace/bids", headers=w.providers[3][0])).text
    # the deadline passes: the owner sees the opened bids and runs the selection
    clock.freeze(earliest_deadline(settings, clock.now()) + timedelta(seconds=40))
    await w.tick()  # the worker opens the bids (reads never apply due transitions)
    page = await client.get(manage, headers=w.owner)
    assert "云南第1环境咨询有限公司" in page.text and "¥40,000.00" in page.text
    assert "云南第1环境咨询有限公司" in (await client.get(manage, headers=admin)).text
    r = await client.post(f"/workspace/purchases/{pid}/select", headers=w.owner, data={})
    assert r.status_code == 303
    public = await client.get(f"/purchases/{pid}")
    assert "data-secret=" in public.text and "抽取证明" in public.text and "服务器核验" in public.text
    english = await client.get(f"/purchases/{pid}?lang=en")
    assert "Draw proof" in english.text and "Selected firm" in english.text
    # a losing bidder is offered the objection form and objects through it; the winner is not
    winner = (await client.get(f"/api/v1/purchases/{pid}/result")).json()["winner_provider_id"]
    bidders = w.providers[:3]  # the fourth withdrew its bid
    for headers, org in bidders:
        page = (await client.get(f"/purchases/{pid}", headers=headers)).text
        assert (f'action="/purchases/{pid}/objections"' in page) == (str(org) != winner)
    loser = next(headers for headers, org in bidders if str(org) != winner)
    r = await client.post(f"/purchases/{pid}/objections", headers=loser, data={"reason": "中选单位资格存疑，请核查。"})
    assert r.status_code == 303 and r.headers["location"] == f"/purchases/{pid}?done=objection-filed#result"
    queue = await client.get("/admin/objections", headers=admin)
    objection_id = re.search(r"/admin/objections/([0-9a-f-]+)/decide", queue.text)[1]
    r = await client.post(
        f"/admin/objections/{objection_id}/decide", headers=admin, data={"upheld": "false", "decision": "短"}
    )
    assert r.status_code == 422 and 'id="err-decision"' in r.text
    r = await client.post(
        f"/admin/objections/{objection_id}/decide",
        headers=admin,
        data={"upheld": "false", "decision": "经核查资格符合要求，驳回质疑。"},
    )
    assert r.status_code == 303
    # the public verification page recomputes the draw on the server
    verify = await client.get("/verify/draw?ref=cg-2026-000001", follow_redirects=True)
    (draw,) = (await client.get("/api/v1/draws/CG-2026-000001/verify")).json()["draws"]
    assert verify.status_code == 200 and all(draw["checks"].values())
    assert verify.text.count('class="badge status-approved"') == len(draw["checks"])
    assert 'class="badge status-failed"' not in verify.text


async def test_public_pages_in_both_languages_and_workspace_tiles(client, factory, settings):
    w = await make_world(client, factory, settings)
    p = await w.published()
    zh = await client.get("/purchases")
    assert zh.status_code == 200 and "采购公告" in zh.text and p["ref"] in zh.text and "开放投标" in zh.text
    en = await client.get("/purchases?lang=en")
    assert "Purchase announcements" in en.text and "Open for bids" in en.text and "采购公告" not in en.text
    await client.get("/purchases?lang=zh")
    assert p["ref"] in (await client.get("/purchases?status=open&method=random&q=CG-2026")).text
    assert p["ref"] not in (await client.get("/purchases?status=awarded")).text
    detail = await client.get(f"/purchases/{p['id']}")
    assert "投标在截止时间前密封" in detail.text and p["draw_commitment"] in detail.text
    assert (await client.get("/purchases/00000000-0000-0000-0000-000000000000")).status_code == 404
    assert (await client.get("/verify/draw/CG-2026-999999")).status_code == 404
    tiles = {
        "provider": (w.providers[0][0], "/workspace/bids"),
        "owner": (w.owner, "/workspace/purchases/new"),
        "admin": (await account(client, factory, "admin", "ops"), "/admin/objections"),
    }
    for role, (headers, link) in tiles.items():
        home = await client.get("/workspace", headers=headers, follow_redirects=True)
        assert link in home.text, role
    # a page that needs a role refuses the others
    assert (await client.get("/workspace/purchases/new", headers=w.providers[0][0])).status_code == 403
    assert (await client.get("/admin/objections", headers=w.owner)).status_code == 403


async def test_forms_need_the_csrf_token_with_a_session_cookie(client, factory, settings):
    w = await make_world(client, factory, settings)
    p = await w.published()
    await client.get("/login")  # the browser gets its CSRF cookie
    r = await client.post(
        "/login", data={"username": "firm1", "password": PASSWORD, "csrf_token": client.cookies["market_csrf"]}
    )
    assert r.status_code == 303
    url = f"/workspace/purchases/{p['id']}/bid"
    assert (await client.post(url, data={"price": "40000", "service_days": "10"})).status_code == 403
    page = await client.get(url)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    r = await client.post(url, data={"price": "40000", "service_days": "10", "csrf_token": token})
    assert r.status_code == 303


async def test_lists_page_through_every_purchase(client, factory, settings):
    """The public announcements and the owner's list show 20 a page, with links to the others
    (a second page was once a 500: the pager macro was imported without the page's context)."""
    w = await make_world(client, factory, settings, providers=0)
    refs = [(await w.published(title=f"分页测试采购项目第{n:02d}号"))["ref"] for n in range(21)]
    first = await client.get("/purchases")
    assert first.status_code == 200 and 'rel="next"' in first.text and "page=2" in first.text
    second = await client.get("/purchases?page=2&status=open")
    assert second.status_code == 200 and 'rel="prev"' in second.text and 'rel="next"' not in second.text
    shown = set(re.findall(r"CG-2026-\d{6}", first.text)) | set(re.findall(r"CG-2026-\d{6}", second.text))
    assert shown == set(refs)
    assert not set(re.findall(r"CG-2026-\d{6}", first.text)) & set(re.findall(r"CG-2026-\d{6}", second.text))
    # a page number that is no number shows the first page
    assert (await client.get("/purchases?page=abc")).text.count("CG-2026-") == first.text.count("CG-2026-")
    mine = await client.get("/workspace/purchases?page=2", headers=w.owner)
    assert mine.status_code == 200 and len(set(re.findall(r"CG-2026-\d{6}", mine.text))) == len(refs) - 20


async def test_a_refused_edit_or_answer_shows_the_form_again(client, factory, settings):
    """A two-character title on the draft's edit page and an empty answer to a clarification come
    back as the form with the error next to the field (422) — both were once a 500."""
    w = await make_world(client, factory, settings, providers=1)
    draft = await w.draft()
    stored = (await client.get(f"/api/v1/purchases/{draft['id']}", headers=w.owner)).json()
    form = {
        "title": "ab",
        "catalog_code": CODE,
        "description": stored["description"],
        "budget_cap": stored["budget_cap"],
        "funding": "fiscal",
        "method": "random",
        "bid_deadline": local(datetime.fromisoformat(stored["bid_deadline"])),
        "service_days": str(stored["service_days"]),
    }
    edit = f"/workspace/purchases/{draft['id']}/edit"
    r = await client.post(edit, headers=w.owner, data=form)
    assert r.status_code == 422 and "text/html" in r.headers["content-type"]
    assert 'id="err-title"' in r.text and 'value="ab"' in r.text
    assert (await client.get(f"/api/v1/purchases/{draft['id']}", headers=w.owner)).json() == stored
    r = await client.post(edit, headers=w.owner, data={**form, "title": "新标题：环境影响评价"})
    assert r.status_code == 303 and r.headers["location"] == f"/workspace/purchases/{draft['id']}?done=draft-saved"
    assert "草稿已保存" in (await client.get(r.headers["location"], headers=w.owner)).text
    # the weight fields count for scored selection only; an emptied optional field clears its term
    weights = {"weights.price": "50", "weights.quality": "40", "weights.credit": "10"}
    scored = {**form, **weights, "title": "新标题：环境影响评价", "method": "scored", "price_floor": "20000"}
    assert (await client.post(edit, headers=w.owner, data=scored)).status_code == 303
    saved = (await client.get(f"/api/v1/purchases/{draft['id']}", headers=w.owner)).json()
    assert saved["weights"] == {"price": 50, "quality": 40, "credit": 10} and saved["price_floor"] == "20000.00"
    assert (
        await client.post(edit, headers=w.owner, data={**scored, "method": "random", "price_floor": ""})
    ).status_code == 303
    saved = (await client.get(f"/api/v1/purchases/{draft['id']}", headers=w.owner)).json()
    assert saved["method"] == "random" and saved["weights"] is None and saved["price_floor"] is None
    p = await w.published(title="答疑页面测试项目")
    asked = await client.post(
        f"/api/v1/purchases/{p['id']}/questions", headers=w.providers[0][0], json={"question": "是否需要驻场？"}
    )
    question = asked.json()["id"]
    answer = f"/workspace/questions/{question}/answer"
    r = await client.post(answer, headers=w.owner, data={"answer": ""})
    assert r.status_code == 422 and 'id="err-answer"' in r.text and f'action="{answer}"' in r.text
    r = await client.post(answer, headers=w.owner, data={"answer": "不需要。"})
    assert r.status_code == 303 and r.headers["location"] == f"/workspace/purchases/{p['id']}?done=answer-published#qa"
    assert "您的答复已发布。" in (await client.get(r.headers["location"], headers=w.owner)).text


async def test_a_firm_pages_through_the_purchases_open_to_it(client, factory, settings):
    """The firm's list of open purchases is filtered by the database and paged (a province has
    thousands open; they were read whole and checked one by one): qualified items only, not on the
    owner's avoid list for it, deadline ahead; 20 a page."""
    from bidding.pages import PAGE

    w = await make_world(client, factory, settings, providers=2)
    firm, firm_id = w.providers[0]
    avoided = await w.published(avoid_provider_ids=[str(firm_id)])
    refs = [(await w.published())["ref"] for _ in range(PAGE + 1)]
    first = (await client.get("/workspace/bidding/open", headers=firm)).text
    second = (await client.get("/workspace/bidding/open?page=2", headers=firm)).text
    assert len([r for r in refs if r in first]) == PAGE and 'rel="next"' in first
    assert [r for r in refs if r in second] == [r for r in refs if r not in first] and 'rel="prev"' in second
    assert avoided["ref"] not in first + second
    # the firm that is not on the avoid list sees that one too; the unqualified firm sees none
    other = w.providers[1][0]  # 22 purchases: two pages, ordered by deadline, then id
    pages = [(await client.get(f"/workspace/bidding/open?page={n}", headers=other)).text for n in (1, 2)]
    assert avoided["ref"] in pages[0] + pages[1]
    outsider = (await client.get("/workspace/bidding/open", headers=w.outsider)).text
    assert not any(r in outsider for r in refs)
    # the purchase page offers the bid where the list does, not to the avoided firm
    assert (
        f"/workspace/purchases/{avoided['id']}/bid"
        not in (await client.get(f"/purchases/{avoided['id']}", headers=firm)).text
    )
    # past the deadline nothing is open to bid on
    w.past_deadline(avoided, seconds=3600)
    page = (await client.get("/workspace/bidding/open", headers=firm)).text
    assert not any(r in page for r in refs)
