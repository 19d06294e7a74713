"""No cancelling after looking (issue 9.3): before the deadline the owner cancels; after it the
owner asks the operator, who approves or refuses in writing; both are published; the finance
bureau sees the red flag ``cancelled_after_opening`` on the purchase and on its next round. The
API and the pages, on both databases, with the database's own guarantees."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bidding.models import CancellationRequest
from market import clock
from market.audit.models import AuditEvent
from tests.integration.bidding_world import ACCELERATOR, make_world
from tests.integration.helpers import account, assert_problem, owner

REASON = "上级主管部门调整建设计划，本项目暂停实施。"


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


async def opened_purchase(w, bids: int = 3) -> dict:
    p = await w.published()
    for i in range(bids):
        assert (await w.bid(p["id"], i, f"{40000 + 1000 * i}")).status_code == 201
    w.past_deadline(p)
    await w.tick()
    assert (await w.client.get(f"/api/v1/purchases/{p['id']}")).json()["status"] == "evaluating"
    return p


async def flags(client, finance, **params) -> list[dict]:
    r = await client.get("/api/v1/finance/flags", headers=finance, params={"code": "cancelled_after_opening", **params})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_after_the_deadline_cancelling_is_a_request_the_operator_decides(client, factory, settings):
    w = await make_world(client, factory, settings)
    admin = await account(client, factory, "admin", "ops")
    finance = await account(client, factory, "finance", "czj")
    p = await opened_purchase(w)
    pid = p["id"]
    # the owner has seen the bids: cancelling alone is refused, and nothing changes
    refused = assert_problem(
        await client.post(f"/api/v1/purchases/{pid}/cancel", headers=w.owner, json={"reason": REASON}), 422
    )
    assert "cancellation-requests" in refused["detail"]
    assert (await client.get(f"/api/v1/purchases/{pid}")).json()["status"] == "evaluating"
    # the request: a written reason, by the purchase's owner only
    url = f"/api/v1/purchases/{pid}/cancellation-requests"
    assert_problem(await client.post(url, headers=w.owner, json={"reason": "不要"}), 422, "reason")
    assert_problem(await client.post(url, headers=w.owner, json={}), 422, "reason")
    other, _ = await owner(client, factory, "jtj")
    assert_problem(await client.post(url, headers=other, json={"reason": REASON}), 404)
    assert_problem(await client.post(url, headers=w.providers[0][0], json={"reason": REASON}), 403)
    r = await client.post(url, headers=w.owner, json={"reason": REASON})
    assert r.status_code == 201, r.text
    req = r.json()
    assert req["status"] == "pending" and req["reason"] == REASON and req["decision"] is None
    assert req["purchase_ref"] == p["ref"]
    # one pending request per purchase
    assert_problem(await client.post(url, headers=w.owner, json={"reason": REASON + "（补充）"}), 409)
    # the selection waits for the decision
    assert_problem(await client.post(f"/api/v1/purchases/{pid}/select", headers=w.owner, json={}), 422)
    # the request is public: anyone reads it with the purchase
    public = (await client.get(f"/api/v1/purchases/{pid}")).json()
    assert [(c["id"], c["status"], c["reason"]) for c in public["cancellation_requests"]] == [
        (req["id"], "pending", REASON)
    ]
    # the operator's queue (finance reads it too; owners their own; bidders nothing)
    queue = (await client.get("/api/v1/cancellation-requests?status=pending", headers=admin)).json()
    assert [i["id"] for i in queue["items"]] == [req["id"]] and queue["total"] == 1
    assert (await client.get("/api/v1/cancellation-requests", headers=finance)).json()["total"] == 1
    assert (await client.get("/api/v1/cancellation-requests", headers=w.owner)).json()["total"] == 1
    assert (await client.get("/api/v1/cancellation-requests", headers=other)).json()["total"] == 0
    assert_problem(await client.get("/api/v1/cancellation-requests", headers=w.providers[0][0]), 403)
    assert_problem(await client.get(f"/api/v1/cancellation-requests/{req['id']}", headers=other), 404)
    assert_problem(await client.get("/api/v1/cancellation-requests?status=maybe", headers=admin), 422, "status")
    # only the operator decides, in writing
    decide = f"/api/v1/cancellation-requests/{req['id']}/decide"
    assert_problem(await client.post(decide, headers=w.owner, json={"approved": True, "decision": "同意取消。"}), 403)
    assert_problem(await client.post(decide, headers=finance, json={"approved": True, "decision": "同意取消。"}), 403)
    assert_problem(
        await client.post(decide, headers=admin, json={"approved": True, "decision": "同意"}), 422, "decision"
    )
    assert_problem(await client.post(decide, headers=admin, json={"decision": "同意取消。"}), 422, "approved")
    assert_problem(
        await client.post(
            f"/api/v1/cancellation-requests/{uuid.uuid4()}/decide",
            headers=admin,
            json={"approved": True, "decision": "同意取消本项目。"},
        ),
        404,
    )
    r = await client.post(
        decide, headers=admin, json={"approved": True, "decision": "经核实，建设计划确已调整，同意取消。"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["decided_at"]
    assert_problem(await client.post(decide, headers=admin, json={"approved": False, "decision": "再改一次决定"}), 422)
    final = (await client.get(f"/api/v1/purchases/{pid}")).json()
    assert final["status"] == "cancelled" and final["cancel_reason"] == REASON
    assert final["cancellation_requests"][0]["decision"] == "经核实，建设计划确已调整，同意取消。"
    # published on the announcement page
    page = (await client.get(f"/purchases/{pid}")).text
    assert REASON in page and "经核实，建设计划确已调整，同意取消。" in page and "运营方已批准" in page
    # every step is in the audit trail
    async with factory() as session:
        actions = list(
            await session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == pid).order_by(AuditEvent.seq))
        )
    assert actions[-3:] == ["purchase.cancellation_requested", "purchase.cancellation_approved", "purchase.cancelled"]
    # the finance bureau's red flag, on the API and the page
    found = await flags(client, finance)
    assert [(f["subject"]["id"], f["severity"]) for f in found] == [(pid, "high")]
    assert REASON in found[0]["explanation"]
    flags_page = await client.get("/finance/flags?code=cancelled_after_opening", headers=finance)
    assert flags_page.status_code == 200 and "开标后取消" in flags_page.text and p["ref"] in flags_page.text
    # the purchase is republished as a new round: the flag follows it
    r = await client.post(f"/api/v1/purchases/{pid}/republish", headers=w.owner, json={})
    assert r.status_code == 201, r.text
    round2 = r.json()["id"]
    assert (await client.post(f"/api/v1/purchases/{round2}/publish", headers=w.owner)).status_code == 200
    found = await flags(client, finance)
    assert {f["subject"]["id"] for f in found} == {pid, round2}
    later = next(f for f in found if f["subject"]["id"] == round2)
    assert p["ref"] in later["explanation"] and any(link["url"].endswith(pid) for link in later["links"])


async def test_a_refused_request_lets_the_procedure_go_on_without_a_flag(client, factory, settings):
    w = await make_world(client, factory, settings)
    admin = await account(client, factory, "admin", "ops")
    finance = await account(client, factory, "finance", "czj")
    p = await opened_purchase(w)
    r = await client.post(
        f"/api/v1/purchases/{p['id']}/cancellation-requests", headers=w.owner, json={"reason": REASON}
    )
    req = r.json()
    r = await client.post(
        f"/api/v1/cancellation-requests/{req['id']}/decide",
        headers=admin,
        json={"approved": False, "decision": "理由不足：建设计划未见调整文件，请继续评审。"},
    )
    assert r.status_code == 200 and r.json()["status"] == "refused"
    assert (await client.get(f"/api/v1/purchases/{p['id']}")).json()["status"] == "evaluating"
    # the selection runs now
    r = await client.post(f"/api/v1/purchases/{p['id']}/select", headers=w.owner, json={})
    assert r.status_code == 200, r.text
    public = (await client.get(f"/api/v1/purchases/{p['id']}")).json()
    assert public["cancellation_requests"][0]["status"] == "refused"
    assert "理由不足" in (await client.get(f"/purchases/{p['id']}")).text
    assert await flags(client, finance) == []
    # a purchase in publicity cannot be cancelled at all
    assert_problem(
        await client.post(
            f"/api/v1/purchases/{p['id']}/cancellation-requests", headers=w.owner, json={"reason": REASON}
        ),
        422,
    )


async def test_before_the_deadline_the_owner_still_cancels_alone(client, factory, settings):
    w = await make_world(client, factory, settings)
    finance = await account(client, factory, "finance", "czj")
    p = await w.published()
    assert (await w.bid(p["id"], 0, "40000")).status_code == 201
    # no request before the deadline
    assert_problem(
        await client.post(
            f"/api/v1/purchases/{p['id']}/cancellation-requests", headers=w.owner, json={"reason": REASON}
        ),
        422,
    )
    r = await client.post(f"/api/v1/purchases/{p['id']}/cancel", headers=w.owner, json={"reason": REASON})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert await flags(client, finance) == []


async def test_the_database_keeps_one_pending_request_and_decisions_in_writing(client, factory, settings, backend):
    w = await make_world(client, factory, settings)
    p = await opened_purchase(w)
    r = await client.post(
        f"/api/v1/purchases/{p['id']}/cancellation-requests", headers=w.owner, json={"reason": REASON}
    )
    assert r.status_code == 201
    pid = uuid.UUID(p["id"])
    async with factory() as session:
        session.add(CancellationRequest(purchase_id=pid, reason=REASON, requested_at=clock.now()))
        with pytest.raises(IntegrityError):
            await session.commit()
    async with factory() as session:  # a decision needs its text and time
        session.add(CancellationRequest(purchase_id=pid, reason=REASON, requested_at=clock.now(), status="approved"))
        with pytest.raises(IntegrityError):
            await session.commit()
    async with factory() as session:  # a reason of at least 5 characters
        session.add(
            CancellationRequest(
                purchase_id=pid,
                reason="不",
                requested_at=clock.now(),
                status="refused",
                decision="驳回",
                decided_at=clock.now(),
            )
        )
        with pytest.raises(IntegrityError):
            await session.commit()
    async with factory() as session:  # decided requests may be many
        for _ in range(2):
            session.add(
                CancellationRequest(
                    purchase_id=pid,
                    reason=REASON,
                    requested_at=clock.now() - timedelta(seconds=1),
                    status="refused",
                    decision="驳回，继续评审。",
                    decided_at=clock.now(),
                )
            )
        await session.commit()


async def test_the_pages_ask_first_and_show_the_request_and_the_decision(client, factory, settings):
    w = await make_world(client, factory, settings)
    admin = await account(client, factory, "admin", "ops")
    p = await opened_purchase(w)
    pid = p["id"]
    manage = (await client.get(f"/workspace/purchases/{pid}", headers=w.owner)).text
    # a confirmation step that says what will happen, without JavaScript
    assert f'action="/workspace/purchases/{pid}/cancellation-request"' in manage
    assert '<details class="confirm"' in manage and "平台运营方将书面决定您的申请" in manage
    assert f'action="/workspace/purchases/{pid}/cancel"' not in manage
    # the old form refuses after the deadline, on the page too
    r = await client.post(f"/workspace/purchases/{pid}/cancel", headers=w.owner, data={"reason": REASON})
    assert r.status_code == 422 and "text/html" in r.headers["content-type"]
    r = await client.post(f"/workspace/purchases/{pid}/cancellation-request", headers=w.owner, data={"reason": "不"})
    assert r.status_code == 422 and 'id="err-reason"' in r.text
    r = await client.post(f"/workspace/purchases/{pid}/cancellation-request", headers=w.owner, data={"reason": REASON})
    assert r.status_code == 303, r.text
    page = await client.get(r.headers["location"], headers=w.owner)
    assert "您的取消申请已提交" in page.text and "您的取消申请正在等待运营方决定" in page.text
    # the operator's queue, linked from the dashboard
    assert "/admin/cancellations" in (await client.get("/admin", headers=admin)).text
    queue = await client.get("/admin/cancellations", headers=admin)
    assert queue.status_code == 200 and REASON in queue.text and p["ref"] in queue.text
    assert queue.text.count('<details class="confirm"') == 2 and "采购项目将以业主的理由终止" in queue.text
    req = (await client.get("/api/v1/cancellation-requests", headers=admin)).json()["items"][0]
    r = await client.post(
        f"/admin/cancellations/{req['id']}/decide", headers=admin, data={"approved": "true", "decision": ""}
    )
    assert r.status_code == 422 and 'id="err-decision"' in r.text
    r = await client.post(
        f"/admin/cancellations/{req['id']}/decide",
        headers=admin,
        data={"approved": "true", "decision": "经核实同意取消。"},
    )
    assert r.status_code == 303, r.text
    assert "取消申请的决定已记录并公开" in (await client.get(r.headers["location"], headers=admin)).text
    assert REASON not in (await client.get("/admin/cancellations", headers=admin)).text  # no longer pending
    assert "经核实同意取消。" in (await client.get("/admin/cancellations?status=approved", headers=admin)).text
    announcement = (await client.get(f"/purchases/{pid}")).text
    assert "截止后取消" in announcement and "经核实同意取消。" in announcement
    # the owner may republish the cancelled purchase as a new round
    assert (
        f'action="/workspace/purchases/{pid}/republish"'
        in (await client.get(f"/workspace/purchases/{pid}", headers=w.owner)).text
    )
