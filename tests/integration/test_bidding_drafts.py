"""Bid drafts (SPEC "firms likewise: clerk prepares, approver bids and signs"): a firm's clerk
prepares the bid, only its own organisation sees the draft, an approver submits it as the sealed
bid; a clerk still cannot submit. Nothing about a draft shows anywhere else before the opening."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from bidding.models import BidDraft, BidDraftStatus
from tests.integration import test_bidding_sealed as sealed
from tests.integration import test_identity_accounts as accounts
from tests.integration.bidding_world import ACCELERATOR, make_world
from tests.integration.helpers import account, assert_problem, browser, csrf


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


async def test_a_clerk_prepares_only_its_firm_sees_an_approver_submits(client, factory, settings):
    w = await make_world(client, factory, settings, providers=3)
    admin = await account(client, factory, "admin", "ops")
    finance = await account(client, factory, "finance", "czj")
    p = await w.published()
    firm, other_firm = w.providers[0][0], w.providers[1][0]
    clerk = await accounts.invite_and_accept(client, factory, firm, "firm1-clerk", "clerk")
    viewers = {"public": {}, "owner": w.owner, "admin": admin, "finance": finance, "other-firm": other_firm}
    routes = sealed._routes(p, p["ref"])
    before = await sealed._snapshot(client, viewers, routes)

    draft_url = f"/api/v1/purchases/{p['id']}/bid-draft"
    # a clerk's bad input is refused at the field; then it prepares the draft
    assert_problem(
        await client.put(draft_url, headers=clerk, json={"price": "9999999.00", "service_days": 5}), 422, "price"
    )
    assert_problem(await client.put(draft_url, headers=clerk, json={"price": "100.00", "service_days": 999}), 422)
    r = await client.put(draft_url, headers=clerk, json={"price": "41000.00", "service_days": 8, "note": "经办初稿"})
    assert r.status_code == 200, r.text
    draft = r.json()
    assert draft["price"] == "41000.00" and draft["prepared_by_name"] == "firm1-clerk"
    # the firm's other users see it; nobody else: the same 404 as no draft at all
    assert (await client.get(draft_url, headers=firm)).json()["id"] == draft["id"]
    unknown = str(uuid.uuid4())
    for who, headers in viewers.items():
        for method in ("GET", "DELETE", "POST"):
            suffix = "/submit" if method == "POST" else ""
            real = await client.request(method, draft_url + suffix, headers=headers)
            fake = await client.request(method, f"/api/v1/purchases/{unknown}/bid-draft{suffix}", headers=headers)
            assert real.status_code == fake.status_code and real.status_code in (401, 403, 404), (who, real.text)
            assert draft["id"] not in real.text
    assert_problem(await client.get(draft_url, headers=other_firm), 404)
    # nothing changed anywhere for anyone else, and the draft is no bid
    after = await sealed._snapshot(client, viewers, routes)
    assert [k for k in before if before[k] != after[k]] == []
    assert (await client.get("/api/v1/bids", headers=firm)).json()["total"] == 0

    # a clerk still cannot submit, neither the draft nor a bid
    assert_problem(await client.post(f"{draft_url}/submit", headers=clerk), 403)
    assert_problem(
        await client.post(
            f"/api/v1/purchases/{p['id']}/bids", headers=clerk, json={"price": "41000.00", "service_days": 8}
        ),
        403,
    )
    # the approver submits it: the ordinary sealed bid, with digest and receipt
    receipt = await client.post(f"{draft_url}/submit", headers=firm)
    assert receipt.status_code == 201, receipt.text
    bid = (await client.get(f"/api/v1/bids/{receipt.json()['id']}", headers=firm)).json()
    assert bid["price"] == "41000.00" and bid["service_days"] == 8 and bid["note"] == "经办初稿"
    assert bid["digest"] == receipt.json()["digest"]
    assert_problem(await client.get(draft_url, headers=firm), 404)  # the draft became the bid
    # another firm's approver keeps a draft it never submits: it is not counted
    r = await client.put(draft_url, headers=other_firm, json={"price": "30000.00", "service_days": 5})
    assert r.status_code == 200
    async with factory() as session:
        rows = {d.provider_id: d for d in await session.scalars(select(BidDraft))}
        assert rows[w.providers[0][1]].status == BidDraftStatus.submitted
        assert str(rows[w.providers[0][1]].bid_id) == receipt.json()["id"]
    assert await w.bid(p["id"], 2, "40000.00") is not None

    # the opening: the submitted bids count, the draft does not; the drafts enter the audit trail now
    w.past_deadline(p)
    await w.tick()
    detail = (await client.get(f"/api/v1/purchases/{p['id']}")).json()
    assert detail["bid_count"] == 2, detail
    events = (await client.get("/api/v1/audit/events?action=bid_draft.opened", headers=admin)).json()["items"]
    assert len(events) == 2
    clerk_id = (await client.get("/api/v1/me", headers=clerk)).json()["id"]
    prepared = {e["data"]["status"]: e["data"] for e in events}
    assert prepared["submitted"]["prepared_by"] == clerk_id and prepared["draft"]["bid_id"] is None
    assert_problem(await client.put(draft_url, headers=clerk, json={"price": "1.00", "service_days": 1}), 422)


async def test_the_bid_page_lets_a_clerk_save_a_draft_and_an_approver_submit_it(client, factory, settings, app):
    w = await make_world(client, factory, settings, providers=1)
    p = await w.published()
    await accounts.invite_and_accept(client, factory, w.providers[0][0], "firm1-clerk", "clerk")
    page = await browser(app, "firm1-clerk", accounts.STRONG)
    url = f"/workspace/purchases/{p['id']}/bid"
    form = (await page.get(url)).text
    assert f'action="/workspace/purchases/{p["id"]}/bid-draft"' in form and "Submit the sealed bid" not in form
    # bad input: the form again, 422, the error at the field
    r = await page.post(
        f"/workspace/purchases/{p['id']}/bid-draft?lang=en",
        data={"csrf_token": csrf(page), "price": "abc", "service_days": "3"},
    )
    assert r.status_code == 422 and 'id="err-price"' in r.text, r.text[:2000]
    # the clerk's form to submit the sealed bid is refused
    r = await page.post(url, data={"csrf_token": csrf(page), "price": "41000.00", "service_days": "3"})
    assert r.status_code == 403
    r = await page.post(
        f"/workspace/purchases/{p['id']}/bid-draft",
        data={"csrf_token": csrf(page), "price": "41000.00", "service_days": "3", "note": "初稿"},
    )
    assert r.status_code == 303, r.text
    await page.aclose()
    approver = await browser(app, "firm1")
    dashboard = (await approver.get("/workspace?lang=en")).text  # the approver's to-do list names it
    assert "Bid drafts to review and submit" in dashboard and f"/workspace/purchases/{p['id']}/bid" in dashboard
    shown = (await approver.get(f"{url}?lang=en")).text
    assert "Bid draft prepared by firm1-clerk" in shown and 'value="41000.00"' in shown
    r = await approver.post(
        url, data={"csrf_token": csrf(approver), "price": "41000.00", "service_days": "3", "note": "初稿"}
    )
    assert r.status_code == 303 and "/workspace/bids" in r.headers["location"]
    async with factory() as session:
        [d] = list(await session.scalars(select(BidDraft)))
        assert d.status == BidDraftStatus.submitted and d.bid_id is not None
    assert "Bid draft prepared by" not in (await approver.get(f"{url}?lang=en")).text
    await approver.aclose()
    assert uuid.UUID(str(d.bid_id))
