"""Winners who walk away (issue 13.4): a winner that does not sign within the signing period, the
owner voids the award with a published reason, the purchase reruns verifiably among the other
valid bids (or fails), the contract stays void and frozen, both parties are told. The clock is
accelerated (a working day lasts a second) and moved by hand."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from invoices.models import Contract
from listings import credit
from market import clock
from tests.integration.bidding_world import ACCELERATOR, make_world
from tests.integration.helpers import account, assert_problem, browser, csrf

REASON = "中选人在签约期内未签订合同，经电话催告仍未签约。"


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


async def awarded(w, prices: list[str], **terms) -> tuple[dict, dict, dict]:
    """A purchase selected, through publicity and awarded: (purchase, first result, drafted contract)."""
    p = await w.published(**terms)
    for i, price in enumerate(prices):
        assert (await w.bid(p["id"], i, price)).status_code == 201
    w.past_deadline(p)
    await w.tick()
    first = await w.client.post(f"/api/v1/purchases/{p['id']}/select", headers=w.owner, json={})
    assert first.status_code == 200, first.text
    clock.advance(timedelta(seconds=10))  # past publicity (3 working days)
    await w.tick()
    contracts = (await w.client.get(f"/api/v1/contracts?purchase_id={p['id']}", headers=w.owner)).json()["items"]
    assert [c["status"] for c in contracts] == ["draft"]
    return p, first.json(), contracts[0]


def winner_headers(w, contract: dict) -> dict[str, str]:
    return next(h for h, org in w.providers if str(org) == contract["provider"]["id"])


async def test_a_winner_that_does_not_sign_is_voided_and_the_rerun_draws_among_the_rest(client, factory, settings):
    w = await make_world(client, factory, settings)
    admin = await account(client, factory, "admin", "ops")
    p, first, contract = await awarded(w, ["40000", "41000", "42000", "43000"], method="random")
    void_url = f"/api/v1/contracts/{contract['id']}/void"
    # within the signing period: refused, saying until when
    early = assert_problem(await client.post(void_url, headers=w.owner, json={"reason": REASON}), 409)
    assert "签约期至" in early["title"] + early["detail"]  # "the signing period runs until …"
    # the firm may not void, nor may anyone but the owner
    firm = winner_headers(w, contract)
    assert (await client.post(void_url, headers=firm, json={"reason": REASON})).status_code == 403
    assert (await client.post(void_url, headers=admin, json={"reason": REASON})).status_code == 403
    clock.advance(timedelta(seconds=6))  # past the signing period (5 working days)
    assert (
        "signing_overdue" in (await client.get(f"/api/v1/contracts/{contract['id']}", headers=w.owner)).json()["flags"]
    )
    assert_problem(await client.post(void_url, headers=w.owner, json={"reason": "太短"}), 422, "reason")
    r = await client.post(void_url, headers=w.owner, json={"reason": REASON})
    assert r.status_code == 200, r.text
    voided = r.json()
    assert (voided["status"], voided["void_reason"], voided["flags"]) == ("void", REASON, [])
    assert_problem(await client.post(void_url, headers=w.owner, json={"reason": REASON}), 409)
    assert_problem(await client.post(f"/api/v1/contracts/{contract['id']}/sign", headers=firm), 409)

    # the rerun: a new round in publicity, drawn with the commitment published with round 1
    result = (await client.get(f"/api/v1/purchases/{p['id']}/result")).json()
    assert result["status"] == "publicity" and result["round"] == 2
    r1, r2 = result["rounds"]
    assert (r1["status"], r1["void_reason"], r1["winner_digest"]) == ("voided", REASON, first["winner_digest"])
    assert r2["status"] == "current" and r2["draw"]["commitment"] == first["next_draw_commitment"]
    assert first["winner_digest"] not in r2["draw"]["candidates"] and len(r2["draw"]["candidates"]) == 3
    walked = next(b for b in result["bids"] if b["digest"] == first["winner_digest"])
    assert walked["excluded"] is True and walked["winner"] is False
    verify = (await client.get(f"/api/v1/draws/{p['ref']}/verify")).json()
    assert verify["ok"] is True and [d["round"] for d in verify["draws"]] == [1, 2]
    page = (await client.get(f"/purchases/{p['id']}")).text
    assert 'id="round-1"' in page and 'id="round-2"' in page and REASON in page

    # both parties were told; the audit trail has the facts
    told = (await client.get("/api/v1/notifications", headers=firm)).json()["items"]
    assert any(n["kind"] == "contracts.award_voided" and REASON in n["body"] for n in told)
    told = (await client.get("/api/v1/notifications", headers=w.owner)).json()["items"]
    assert any(n["kind"] == "contracts.award_voided_owner" for n in told)
    actions = {
        e["action"]
        for e in (await client.get("/api/v1/audit/events", params={"limit": 500}, headers=admin)).json()["items"]
    }
    assert {"contract.voided", "purchase.award_voided", "purchase.winner_excluded", "purchase.reselected"} <= actions

    # the firm's credit record shows the refusal, linked to the published result, and it moved the score
    async with factory() as session:
        record = await credit.standing(session, uuid.UUID(contract["provider"]["id"]), clock.now())
    refusals = [line for line in record.lines if line.kind == credit.CreditFactKind.refused_to_sign]
    assert len(refusals) == 1 and refusals[0].effect is not None and refusals[0].effect < 0
    assert refusals[0].link == f"/purchases/{p['id']}#result" and contract["number"] in refusals[0].note
    assert REASON in refusals[0].note

    # the void contract never changes again, in the database too
    async with factory() as session:
        with pytest.raises(IntegrityError, match="a voided contract never changes"):
            await session.execute(
                update(Contract).where(col(Contract.id) == uuid.UUID(voided["id"])).values(void_reason="x")
            )
        await session.rollback()

    # the new round's award drafts a second contract, with another firm; the void one stays listed
    clock.advance(timedelta(seconds=10))
    await w.tick()
    rows = (await client.get(f"/api/v1/contracts?purchase_id={p['id']}", headers=w.owner)).json()["items"]
    assert sorted(c["status"] for c in rows) == ["draft", "void"]
    new = next(c for c in rows if c["status"] == "draft")
    assert new["provider"]["id"] != contract["provider"]["id"] and new["number"] != contract["number"]
    assert (await client.get(f"/api/v1/purchases/{p['id']}")).json()["contract_id"] == new["id"]
    # the open data: round 1's award and its contract are cancelled, round 2's award is active
    feed = (await client.get("/api/v1/ocds/releases", params={"limit": 100})).json()
    release = next(x for x in feed["releases"] if x["ocid"].endswith(p["ref"]))
    assert [(a["id"].rsplit("-", 1)[1], a["status"]) for a in release["awards"]] == [
        ("1", "cancelled"),
        ("2", "active"),
    ]
    statuses = {c["id"]: (c["status"], c["awardID"].rsplit("-", 1)[1]) for c in release["contracts"]}
    assert statuses == {contract["number"]: ("cancelled", "1"), new["number"]: ("pending", "2")}


async def test_a_firm_that_signed_cannot_be_voided_and_too_few_left_fails(app, client, factory, settings):
    w = await make_world(client, factory, settings, providers=3)
    p, _first, contract = await awarded(w, ["40000", "41000", "42000"], method="lowest_price")
    firm = winner_headers(w, contract)
    clock.advance(timedelta(seconds=6))
    # signing late is flagged, not forbidden: once the firm has signed, no voiding
    assert (await client.post(f"/api/v1/contracts/{contract['id']}/sign", headers=firm)).status_code == 200
    body = assert_problem(
        await client.post(f"/api/v1/contracts/{contract['id']}/void", headers=w.owner, json={"reason": REASON}), 409
    )
    assert "中介机构已签订该合同" in body["title"] + body["detail"]  # "the firm has signed this contract"

    # another purchase, whose winner walks away: two valid bids remain below the minimum of three
    p2, _first2, contract2 = await awarded(w, ["30000", "31000", "32000"], method="lowest_price")
    clock.advance(timedelta(seconds=6))
    owner_page = await browser(app, "hbj")
    page = (await owner_page.get(f"/workspace/contracts/{contract2['id']}?lang=en")).text
    # the confirm step says what will happen: the purchase fails (2 valid bids left, minimum 3)
    assert f"/workspace/contracts/{contract2['id']}/void" in page
    assert "fewer than the minimum of 3 valid bids remain (2 left" in page
    # the page refuses a missing reason at the field, then voids
    refused = await owner_page.post(
        f"/workspace/contracts/{contract2['id']}/void", data={"reason": "", "csrf_token": csrf(owner_page)}
    )
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text
    done = await owner_page.post(
        f"/workspace/contracts/{contract2['id']}/void", data={"reason": REASON, "csrf_token": csrf(owner_page)}
    )
    assert done.status_code == 303, done.text
    after = (await client.get(f"/api/v1/purchases/{p2['id']}")).json()
    assert after["status"] == "failed"
    result = (await client.get(f"/api/v1/purchases/{p2['id']}/result")).json()
    assert [r["status"] for r in result["rounds"]] == ["voided"] and result["winner_bid_id"] is None
    assert (await client.get(f"/api/v1/purchases/{p['id']}")).json()["status"] == "awarded"  # signed by one side
    await owner_page.aclose()
