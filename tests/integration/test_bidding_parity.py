"""One input path: every bidding page form refuses what its API twin refuses, with the same field
and the same message — 422 with ``errors[].field`` on the API, the form shown again (422) with the
message next to that field on the page — and never a 500, on both databases.

The same text goes to both (what a person types into the form is what a program sends as a JSON
string); amounts also go to the API as JSON numbers, which must be refused on the same field.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from market import clock
from tests.integration.bidding_world import ACCELERATOR, CODE, World, make_world
from tests.integration.helpers import assert_problem, purchase_body

NUL = "\x00"
TOO_MUCH = ["1e15", "1e309", "1000000000000000", "１２８００"]  # exponent, overflow, beyond NUMERIC(14,2), full-width


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


def api_error(r: httpx.Response, field: str) -> str:
    """The message the API gives for ``field`` (and nothing but a 422 problem naming it)."""
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    messages = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert field in messages, r.text
    return messages[field]


def page_error(r: httpx.Response, field: str) -> str:
    """The message the re-rendered page shows next to ``field``: the field points at it
    (``aria-describedby``) and it is the error span right after it."""
    assert r.status_code == 422, r.text[:2000]
    assert r.headers["content-type"].startswith("text/html"), r.headers
    span = re.search(rf'<span class="field-error" id="err-{re.escape(field)}">(.*?)</span>', r.text, re.S)
    assert span is not None, f"no error next to {field}: {r.text[:3000]}"
    return html.unescape(span[1]).strip()


def points_at_error(r: httpx.Response, field: str) -> None:
    # the page may hold other forms with a control of that name (the change notice's reason):
    # one of them is the refused one, marked and pointing at its error
    controls = [m[0] for m in re.finditer(rf'<(input|textarea|select) name="{re.escape(field)}"[^>]*>', r.text)]
    assert controls, f"no control named {field}"
    assert any(f'aria-describedby="err-{field}"' in c and 'aria-invalid="true"' in c for c in controls), controls


async def same_refusal(api: httpx.Response, page: httpx.Response, field: str, control: bool = True) -> str:
    message = api_error(api, field)
    assert page_error(page, field) == message, (field, message)
    if control:
        points_at_error(page, field)
    return message


JSON = {"content-type": "application/json"}
JSON_NUMBERS = ("1e15", "1000000000000000", "1e309")


async def json_number_refused(request: Awaitable[httpx.Response], raw: str, field: str = "budget_cap") -> None:
    """An amount sent as a JSON number is refused on its field; one beyond what JSON decoding can
    hold (1e309) leaves the document unreadable: 400 naming the body — never a 500."""
    r = await request
    if raw == "1e309":
        assert_problem(r, 400, "body")
    else:
        api_error(r, field)


def local(moment: datetime) -> str:
    return clock.to_local(moment).strftime("%Y-%m-%dT%H:%M:%S")


def draft_form(body: dict[str, Any]) -> dict[str, str]:
    """The draft form as a person fills it in, from an API body."""
    form = {k: str(v) for k, v in body.items()}
    form["bid_deadline"] = local(datetime.fromisoformat(body["bid_deadline"]))
    return form


async def test_draft_and_edit_forms_refuse_what_the_api_refuses(client, factory, settings):
    w = await make_world(client, factory, settings, providers=0)
    body = purchase_body(CODE)
    draft = await w.draft()
    edit = f"/workspace/purchases/{draft['id']}/edit"
    cases = [("budget_cap", amount) for amount in TOO_MUCH] + [
        ("price_floor", "1e15"),
        ("service_days", "5000"),
        ("service_days", "十"),
        ("title", "ab"),
        ("title", f"环评{NUL}项目名称"),
        ("description", f"编制环境影响报告书{NUL}并配合审查"),
        ("bid_deadline", "明天下午"),
        ("funding", "loan"),
        ("min_bids", "0"),
        ("weights.price", "六十"),
    ]
    for field, value in cases:
        changes: dict[str, Any] = {field: value}
        if field.startswith("weights."):
            changes = {"method": "scored", "weights": {"price": value, "quality": 30, "credit": 10}}
        form = draft_form(body) | {field: value}
        if field.startswith("weights."):
            form |= {"method": "scored", "weights.quality": "30", "weights.credit": "10"}
        # drafting
        api = await client.post("/api/v1/purchases", headers=w.owner, json=purchase_body(CODE, **changes))
        page = await client.post("/workspace/purchases/new", headers=w.owner, data=form)
        await same_refusal(api, page, field, control=field != "method")
        # editing
        api = await client.patch(f"/api/v1/purchases/{draft['id']}", headers=w.owner, json=changes)
        page = await client.post(edit, headers=w.owner, data=form)
        await same_refusal(api, page, field)
        assert 'action="/workspace/purchases/' in page.text  # the edit form itself, shown again
    # what was typed comes back; nothing of a refused attempt is stored
    page = await client.post(edit, headers=w.owner, data=draft_form(body) | {"title": "ab", "budget_cap": "1e15"})
    assert 'value="ab"' in page.text and 'value="1e15"' in page.text
    stored = (await client.get(f"/api/v1/purchases/{draft['id']}", headers=w.owner)).json()
    assert stored["title"] == body["title"] and stored["budget_cap"] == body["budget_cap"]
    # amounts sent as JSON numbers are refused on the same field
    for raw in JSON_NUMBERS:
        text = json.dumps(body).replace('"budget_cap": "50000.00"', f'"budget_cap": {raw}')
        assert raw in text
        await json_number_refused(client.post("/api/v1/purchases", headers=w.owner | JSON, content=text), raw)
        text = '{"budget_cap": ' + raw + "}"
        await json_number_refused(
            client.patch(f"/api/v1/purchases/{draft['id']}", headers=w.owner | JSON, content=text), raw
        )
    # a term every purchase has may be changed, not cleared
    for field in ("title", "budget_cap", "service_days", "bid_deadline"):
        api = await client.patch(f"/api/v1/purchases/{draft['id']}", headers=w.owner, json={field: None})
        page = await client.post(edit, headers=w.owner, data=draft_form(body) | {field: ""})
        api_error(api, field)
        page_error(page, field)


async def open_purchase(w: World) -> dict[str, Any]:
    return await w.published(title="云岭县城南污水处理厂扩建工程环境影响评价（对照测试）")


async def test_bid_question_answer_and_cancel_forms_refuse_what_the_api_refuses(client, factory, settings):
    w = await make_world(client, factory, settings, providers=1)
    p = await open_purchase(w)
    firm = w.providers[0][0]
    bid_api, bid_page = f"/api/v1/purchases/{p['id']}/bids", f"/workspace/purchases/{p['id']}/bid"
    good_bid = {"price": "40000.00", "service_days": "10", "note": ""}
    for field, value in [("price", a) for a in TOO_MUCH] + [
        ("price", "0"),
        ("service_days", "5000"),
        ("service_days", "0"),
        ("note", f"含专家评审{NUL}费用"),
        ("note", "长" * 2001),
    ]:
        bad = good_bid | {field: value}
        api = await client.post(bid_api, headers=firm, json=bad)
        page = await client.post(bid_page, headers=firm, data=bad)
        await same_refusal(api, page, field)
    for raw in JSON_NUMBERS:
        text = '{"price": ' + raw + ', "service_days": 10}'
        await json_number_refused(client.post(bid_api, headers=firm | JSON, content=text), raw, "price")
    # no bid was stored by any refused attempt
    assert (await client.get("/api/v1/bids", headers=firm)).json()["total"] == 0

    ask_api, ask_page = f"/api/v1/purchases/{p['id']}/questions", f"/purchases/{p['id']}/questions"
    for value in ("", "   ", f"需要驻场{NUL}吗？", "问"):
        api = await client.post(ask_api, headers=firm, json={"question": value})
        page = await client.post(ask_page, headers=firm, data={"question": value})
        await same_refusal(api, page, "question")
    asked = await client.post(ask_api, headers=firm, json={"question": "是否需要驻场服务？"})
    assert asked.status_code == 201, asked.text
    question = asked.json()["id"]

    answer_api, answer_page = f"/api/v1/questions/{question}/answer", f"/workspace/questions/{question}/answer"
    for value in ("", "  ", f"不需要{NUL}。", "否"):
        api = await client.post(answer_api, headers=w.owner, json={"answer": value})
        page = await client.post(answer_page, headers=w.owner, data={"answer": value})
        await same_refusal(api, page, "answer")
    assert (await client.get(ask_api)).json()[0]["answer"] is None

    cancel_api, cancel_page = f"/api/v1/purchases/{p['id']}/cancel", f"/workspace/purchases/{p['id']}/cancel"
    for value in ("", f"项目暂缓{NUL}实施", "不"):
        api = await client.post(cancel_api, headers=w.owner, json={"reason": value})
        page = await client.post(cancel_page, headers=w.owner, data={"reason": value})
        await same_refusal(api, page, "reason")
    assert (await client.get(f"/api/v1/purchases/{p['id']}")).json()["status"] == "open"


async def test_explanation_selection_objection_decision_and_republish_forms(client, factory, settings):
    w = await make_world(client, factory, settings, providers=3)
    admin = await login_admin(client, factory)
    # a purchase whose lowest price is abnormally low, one for a direct selection, one with no bid
    low = await w.published(title="异常低价说明对照测试项目", method="lowest_price")
    direct = await w.published(title="直接选取对照测试项目", method="direct", min_bids=1)
    empty = await w.published(title="无人投标流标对照测试项目")
    bids = {}
    for i, price in enumerate(["10000", "40000", "41000"]):
        r = await w.bid(low["id"], i, price)
        assert r.status_code == 201, r.text
        bids[i] = r.json()["id"]
    for i, price in enumerate(["42000", "43000"]):
        assert (await w.bid(direct["id"], i, price)).status_code == 201
    w.past_deadline(empty)
    await w.tick()
    # the explanation of the abnormally low price
    firm = w.providers[0][0]
    explain_api, explain_page = f"/api/v1/bids/{bids[0]}/explanation", f"/workspace/bids/{bids[0]}/explanation"
    for value in ("", f"本单位具备{NUL}成本优势", "太短的说明"):
        api = await client.post(explain_api, headers=firm, json={"explanation": value})
        page = await client.post(explain_page, headers=firm, data={"explanation": value})
        await same_refusal(api, page, "explanation")
    # the direct selection: a bid id that is none, a reason with a NUL
    opened = (await client.get(f"/api/v1/purchases/{direct['id']}/bids", headers=w.owner)).json()["items"]
    chosen = opened[0]["id"]
    select_api, select_page = f"/api/v1/purchases/{direct['id']}/select", f"/workspace/purchases/{direct['id']}/select"
    for field, value in (("bid_id", "第一家"), ("reason", f"工期最短{NUL}且经验丰富的单位")):
        bad = {"bid_id": chosen, "reason": "该单位承诺工期最短且具备本县同类项目经验。", field: value}
        api = await client.post(select_api, headers=w.owner, json=bad)
        page = await client.post(select_page, headers=w.owner, data=bad)
        await same_refusal(api, page, field)
    r = await client.post(
        select_api, headers=w.owner, json={"bid_id": chosen, "reason": "该单位承诺工期最短且具备本县同类项目经验。"}
    )
    assert r.status_code == 200, r.text
    winner = r.json()["winner_provider_id"]
    loser = next(headers for headers, org in w.providers[:2] if str(org) != winner)
    # the objection of the losing bidder
    object_api, object_page = f"/api/v1/purchases/{direct['id']}/objections", f"/purchases/{direct['id']}/objections"
    for value in ("", f"中选单位资格{NUL}存疑", "存疑"):
        api = await client.post(object_api, headers=loser, json={"reason": value})
        page = await client.post(object_page, headers=loser, data={"reason": value})
        await same_refusal(api, page, "reason")
    filed = await client.post(object_api, headers=loser, json={"reason": "中选单位资格存疑，请核查其业绩证明。"})
    assert filed.status_code == 201, filed.text
    # the operator's decision
    decide_api = f"/api/v1/objections/{filed.json()['id']}/decide"
    decide_page = f"/admin/objections/{filed.json()['id']}/decide"
    for field, value in (("decision", ""), ("decision", f"经核查{NUL}驳回质疑"), ("upheld", "也许")):
        bad = {"upheld": "false", "decision": "经核查资格符合要求，驳回质疑。", field: value}
        api = await client.post(decide_api, headers=admin, json=bad)
        page = await client.post(decide_page, headers=admin, data=bad)
        await same_refusal(api, page, field, control=field != "upheld")
    page = await client.post(decide_page, headers=admin, data={"decision": "经核查资格符合要求，驳回质疑。"})
    api = await client.post(decide_api, headers=admin, json={"decision": "经核查资格符合要求，驳回质疑。"})
    await same_refusal(api, page, "upheld", control=False)
    # republishing the failed purchase with a deadline that is no date
    assert (await client.get(f"/api/v1/purchases/{empty['id']}")).json()["status"] == "failed"
    republish_api = f"/api/v1/purchases/{empty['id']}/republish"
    republish_page = f"/workspace/purchases/{empty['id']}/republish"
    for value in ("下周一", "2026-13-40T10:00"):
        api = await client.post(republish_api, headers=w.owner, json={"bid_deadline": value})
        page = await client.post(republish_page, headers=w.owner, data={"bid_deadline": value})
        await same_refusal(api, page, "bid_deadline")
    too_soon = local(clock.now() + timedelta(seconds=1))
    api = await client.post(republish_api, headers=w.owner, json={"bid_deadline": too_soon})
    page = await client.post(republish_page, headers=w.owner, data={"bid_deadline": too_soon})
    await same_refusal(api, page, "bid_deadline")


async def login_admin(client: httpx.AsyncClient, factory: Any) -> dict[str, str]:
    from tests.integration.helpers import account

    return await account(client, factory, "admin", "ops")
