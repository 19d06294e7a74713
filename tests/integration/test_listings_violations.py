"""Violation points with appeal and sanctions by published thresholds (issue 13.2), the public
red and black lists (13.6): through the API and the services, on both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import col

from listings import credit, sanctions
from listings.credit import CreditFact
from listings.credit_rules import CreditFactKind
from listings.models import Violation
from listings.violation_rules import APPEAL_WORKING_DAYS, SUSPENSION_DAYS
from market import clock, workdays
from market.audit.models import AuditEvent
from market.identity.models import Organization, OrgStatus
from market.notify.models import Notification
from tests.integration.helpers import account, assert_problem, browser, csrf, login, provider
from tests.integration.listings_helpers import pdf_bytes

# a Monday in China, far from holidays
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


async def _world(client, factory):
    admin = await account(client, factory, "admin", "op-admin", "云岭县政务服务管理局")
    firm, firm_id = await provider(client, factory, "firm-a")
    return admin, firm, firm_id


async def _again(client):
    """Sign both in again after the clock moved past a session's life."""
    return await login(client, "op-admin"), await login(client, "firm-a")


async def _record(client, admin, firm_id, **body):
    r = await client.post(
        f"/api/v1/admin/providers/{firm_id}/violations",
        json={"category": "poor_quality", "reason": "报告质量不合格，经专家复核不达标。"} | body,
        headers=admin,
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _actions(factory, entity_id) -> list[str]:
    async with factory() as session:
        rows = await session.scalars(
            select(col(AuditEvent.action))
            .where(col(AuditEvent.entity_id) == str(entity_id))
            .order_by(col(AuditEvent.seq))
        )
        return list(rows)


async def test_an_upheld_appeal_removes_the_points(client, factory, settings):
    clock.freeze(START)
    admin, firm, firm_id = await _world(client, factory)
    # the evidence: a file the operator uploaded
    up = await client.post(
        "/api/v1/files", files={"file": ("证据.pdf", pdf_bytes(b"evidence"), "application/pdf")}, headers=admin
    )
    assert up.status_code == 201, up.text
    v = await _record(client, admin, firm_id, points=5, evidence_sha256=up.json()["sha256"])
    assert v["points"] == 5 and v["status"] == "appealable" and v["counts"] is False
    # the firm sees it at once, with its evidence, and was notified
    mine = (await client.get(f"/api/v1/providers/{firm_id}/violations", headers=firm)).json()
    assert [x["id"] for x in mine["items"]] == [v["id"]] and mine["counting_points"] == 0
    assert mine["items"][0]["evidence_url"]
    assert (await client.get(mine["items"][0]["evidence_url"], headers=firm)).content == pdf_bytes(b"evidence")
    async with factory() as session:
        kinds = list(
            await session.scalars(
                select(col(Notification.kind)).where(col(Notification.kind).like("listings.violation%"))
            )
        )
        assert "listings.violation_recorded" in kinds
        fact = await session.scalar(select(CreditFact).where(col(CreditFact.source_id) == uuid.UUID(v["id"])))
        assert fact is not None and fact.counts is False and fact.value == 5
    # the public sees nothing while it may be appealed: neither in the list nor in the credit record
    public = (await client.get(f"/api/v1/providers/{firm_id}/violations")).json()
    assert public["items"] == []
    record = (await client.get(f"/api/v1/providers/{firm_id}/credit")).json()
    assert [f for f in record["facts"] if f["kind"] == "violation"] == []

    clock.advance(timedelta(days=3))
    admin, firm = await _again(client)
    r = await client.post(
        f"/api/v1/violations/{v['id']}/appeal", json={"text": "报告已按规范编制，复核意见有误。"}, headers=firm
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "under_appeal"
    r = await client.post(
        f"/api/v1/violations/{v['id']}/appeal/decide",
        json={"upheld": True, "decision": "经复核，报告符合规范，撤销该记分。"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "upheld" and r.json()["appeal"]["upheld"] is True
    # long after the window, the points still do not count anywhere
    clock.advance(timedelta(days=30))
    async with factory() as session:
        assert await sanctions.finalize_due(session, clock.now()) == 0
        assert await sanctions.points_of(session, firm_id, clock.now()) == 0
        fact = await session.scalar(select(CreditFact).where(col(CreditFact.source_id) == uuid.UUID(v["id"])))
        assert fact is not None and fact.counts is False
        await session.commit()
    assert (await client.get(f"/api/v1/providers/{firm_id}/violations")).json()["counting_points"] == 0
    record = (await client.get(f"/api/v1/providers/{firm_id}/credit")).json()
    assert [f for f in record["facts"] if f["kind"] == "violation"] == []  # cleared: not shown as a fact
    assert await _actions(factory, v["id"]) == ["violation.recorded", "violation.appealed", "violation.appeal_decided"]


async def test_a_decided_appeal_cannot_be_appealed_again(client, factory, settings):
    clock.freeze(START)
    admin, firm, firm_id = await _world(client, factory)
    v = await _record(client, admin, firm_id, category="fee_violation")
    assert v["points"] == 6  # the category's published default
    appeal = {"text": "收费符合标准，附收费依据。"}
    assert (await client.post(f"/api/v1/violations/{v['id']}/appeal", json=appeal, headers=firm)).status_code == 201
    # once only: a second appeal while the first waits is a conflict
    assert_problem(await client.post(f"/api/v1/violations/{v['id']}/appeal", json=appeal, headers=firm), 409)
    r = await client.post(
        f"/api/v1/violations/{v['id']}/appeal/decide",
        json={"upheld": False, "decision": "收费超过指导价上限，维持记分。"},
        headers=admin,
    )
    assert r.status_code == 200 and r.json()["status"] == "dismissed" and r.json()["counts"] is True
    assert_problem(await client.post(f"/api/v1/violations/{v['id']}/appeal", json=appeal, headers=firm), 409)
    again = {"upheld": True, "decision": "改变主意，撤销记分。"}
    assert_problem(await client.post(f"/api/v1/violations/{v['id']}/appeal/decide", json=again, headers=admin), 409)
    # dismissed: the points count, publicly and in the credit record
    public = (await client.get(f"/api/v1/providers/{firm_id}/violations")).json()
    assert public["counting_points"] == 6 and [x["id"] for x in public["items"]] == [v["id"]]
    assert public["items"][0]["evidence_url"] is None
    record = (await client.get(f"/api/v1/providers/{firm_id}/credit")).json()
    assert [(f["kind"], f["effect"]) for f in record["facts"] if f["kind"] == "violation"] == [("violation", "-6.00")]
    async with factory() as session:
        fact = await session.scalar(select(CreditFact).where(col(CreditFact.source_id) == uuid.UUID(v["id"])))
        assert fact is not None and fact.counts is True


async def test_an_appeal_after_ten_working_days_is_refused(client, factory, settings):
    clock.freeze(START)
    admin, firm, firm_id = await _world(client, factory)
    first = await _record(client, admin, firm_id)
    second = await _record(client, admin, firm_id)
    due = workdays.add_period(START, APPEAL_WORKING_DAYS, settings.accelerator)
    assert due == datetime(2026, 3, 16, 2, 0, tzinfo=UTC)  # two weeks of working days later
    text = {"text": "不服该记分，请求复核。"}
    clock.freeze(due - timedelta(minutes=1))
    admin, firm = await _again(client)
    assert (await client.post(f"/api/v1/violations/{first['id']}/appeal", json=text, headers=firm)).status_code == 201
    clock.freeze(due)
    body = assert_problem(await client.post(f"/api/v1/violations/{second['id']}/appeal", json=text, headers=firm), 422)
    assert "10" in body["detail"]
    # another firm cannot appeal it, nor see that it exists
    other, _other_id = await provider(client, factory, "firm-b")
    assert_problem(await client.post(f"/api/v1/violations/{second['id']}/appeal", json=text, headers=other), 404)
    # the window closed: the worker makes the unappealed one final; its points count
    async with factory() as session:
        assert await sanctions.finalize_due(session, clock.now()) == 1
        await session.commit()
    async with factory() as session:
        assert (await session.get(Violation, uuid.UUID(second["id"]))).status == "final"
        assert await sanctions.points_of(session, firm_id, clock.now()) == 4


async def test_thresholds_trigger_the_sanctions(client, factory, settings):
    clock.freeze(START)
    admin, firm, firm_id = await _world(client, factory)
    await _record(client, admin, firm_id, category="false_materials")  # 8 points
    # not yet counting: no sanction while it may be appealed
    async with factory() as session:
        assert (await session.get(Organization, firm_id)).status == OrgStatus.approved
    clock.advance(timedelta(days=15))  # the window has closed
    admin, firm = await _again(client)
    async with factory() as session:
        assert await sanctions.finalize_due(session, clock.now()) == 1
        await session.commit()
    async with factory() as session:
        org = await session.get(Organization, firm_id)
        assert org.status == OrgStatus.suspended
        assert org.suspended_until == clock.today_local() + timedelta(days=SUSPENSION_DAYS - 1)
    assert "violation.threshold_reached" in await _actions(factory, firm_id)
    async with factory() as session:
        sent = await session.scalars(
            select(col(Notification.kind)).where(col(Notification.kind) == "listings.sanction_applied")
        )
        assert len(list(sent)) == 1  # the firm is told
    # on its public page and the black list, with its period and reason
    page = await client.get(f"/providers/{firm_id}?lang=en")
    assert page.status_code == 200 and "Suspended" in page.text and "threshold" in page.text
    lists = (await client.get("/api/v1/credit/lists")).json()
    black = {x["provider_id"]: x for x in lists["black"]}
    assert black[str(firm_id)]["period"]["kind"] == "suspended"
    assert black[str(firm_id)]["period"]["automatic"] is True
    assert black[str(firm_id)]["points"] == 8
    assert lists["black_definition"] and lists["rules"]["suspension_points"] == 6
    # a suspended firm may still appeal what is recorded later; dismissed, 8 + 4 = 12 blacklists it
    v = await _record(client, admin, firm_id)
    r = await client.post(f"/api/v1/violations/{v['id']}/appeal", json={"text": "请求复核本次记分。"}, headers=firm)
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/api/v1/violations/{v['id']}/appeal/decide",
        json={"upheld": False, "decision": "证据确凿，维持记分。"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    async with factory() as session:
        org = await session.get(Organization, firm_id)
        assert org.status == OrgStatus.blacklisted
    lists = (await client.get("/api/v1/credit/lists")).json()
    assert {x["provider_id"]: x for x in lists["black"]}[str(firm_id)]["period"]["kind"] == "blacklisted"
    # the firm's record: the suspension ended when the blacklisting began, both with their periods
    record = (await client.get(f"/api/v1/providers/{firm_id}/violations")).json()
    assert record["status"] == "blacklisted" and record["counting_points"] == 12
    assert [(p["kind"], p["ended_at"] is None) for p in record["sanctions"]] == [
        ("blacklisted", True),
        ("suspended", False),
    ]
    for lang in ("zh", "en"):
        page = await client.get(f"/credit?lang={lang}")
        assert page.status_code == 200 and "firm-a" in page.text


async def test_the_pages_record_appeal_and_decide_in_both_languages(app, client, factory, settings):
    """The operator's form (with the evidence uploaded in it), the firm's appeal form and the
    operator's decision form do what their API twins do; a refused form names the field as the
    API does; the lists and the pages read in Chinese and English."""
    clock.freeze(START)
    admin, _firm, firm_id = await _world(client, factory)
    # the same bad input: a reason too short, refused naming `reason` on the API and the page
    bad = {"category": "poor_quality", "reason": "差"}
    assert_problem(
        await client.post(f"/api/v1/admin/providers/{firm_id}/violations", json=bad, headers=admin), 422, "reason"
    )
    operator = await browser(app, "op-admin")
    firm = await browser(app, "firm-a")
    try:
        url = f"/admin/providers/{firm_id}/violations"
        assert (await operator.get(url)).status_code == 200
        r = await operator.post(url, data=bad | {"csrf_token": csrf(operator)})
        assert r.status_code == 422 and 'id="err-reason"' in r.text
        async with factory() as session:
            assert await session.scalar(select(func.count()).select_from(Violation)) == 0
        r = await operator.post(
            url,
            data={
                "category": "overdue_service",
                "points": "",
                "reason": "超过服务时限 5 个工作日。",
                "csrf_token": csrf(operator),
            },
            files={"evidence": ("逾期证明.pdf", pdf_bytes(b"late"), "application/pdf")},
        )
        assert r.status_code == 303, r.text
        detail = r.headers["location"].split("?")[0]
        violation_id = detail.rsplit("/", 1)[1]
        async with factory() as session:
            v = await session.get(Violation, uuid.UUID(violation_id))
            assert v is not None and v.points == 2 and v.evidence_filename == "逾期证明.pdf"
        # the firm sees it at once and appeals with the form
        listing = await firm.get("/workspace/violations")
        assert listing.status_code == 200 and violation_id in listing.text
        page = await firm.get(f"/workspace/violations/{violation_id}?lang=en")
        assert page.status_code == 200 and "File the appeal" in page.text
        assert (await firm.get(f"/api/v1/violations/{violation_id}/evidence")).content == pdf_bytes(b"late")
        r = await firm.post(f"/workspace/violations/{violation_id}/appeal", data={"text": "", "csrf_token": csrf(firm)})
        assert r.status_code == 422 and 'id="err-text"' in r.text
        r = await firm.post(
            f"/workspace/violations/{violation_id}/appeal",
            data={"text": "延期系业主变更需求所致。", "csrf_token": csrf(firm)},
        )
        assert r.status_code == 303, r.text
        queue = await operator.get("/admin/violations")
        assert queue.status_code == 200 and violation_id in queue.text
        r = await operator.post(
            f"/admin/violations/{violation_id}/decide",
            data={"upheld": "true", "decision": "业主确认需求变更，撤销记分。", "csrf_token": csrf(operator)},
        )
        assert r.status_code == 303, r.text
        zh = await firm.get(f"/workspace/violations/{violation_id}?lang=zh")
        assert "成立：记分撤销。" in zh.text and "业主确认需求变更" in zh.text
        for lang, words in (("zh", "红黑名单"), ("en", "Red and black lists")):
            page = await client.get(f"/credit?lang={lang}")
            assert page.status_code == 200 and words in page.text
        public = await client.get(f"/providers/{firm_id}?lang=en")
        assert public.status_code == 200 and "Never suspended or blacklisted." in public.text
        # an upheld appeal leaves no violation on the public list of the firm's violations
        assert f'id="violation-{violation_id}"' not in public.text
        assert (await client.get(f"/api/v1/providers/{firm_id}/violations")).json()["items"] == []
    finally:
        await operator.aclose()
        await firm.aclose()


async def test_the_red_list_follows_its_published_definition(client, factory, settings):
    """Grade A, rated at least 3 times, no counting violation points, not sanctioned."""
    clock.freeze(START)
    admin = await account(client, factory, "admin", "op-admin", "云岭县政务服务管理局")
    firms = {}
    for name in ("red-good", "red-new", "red-points"):
        _headers, firms[name] = await provider(client, factory, name)
    async with factory() as session:
        for name in ("red-good", "red-points"):
            for _ in range(3):
                await credit.record_fact(
                    session,
                    provider_id=firms[name],
                    kind=CreditFactKind.rating,
                    occurred_at=clock.now(),
                    value=5,
                    source_id=uuid.uuid4(),
                    link="/",
                )
        await session.commit()
    v = await _record(client, admin, firms["red-points"], category="overdue_service")  # 2 points
    clock.advance(timedelta(days=15))
    async with factory() as session:
        await sanctions.finalize_due(session, clock.now())
        await session.commit()
    lists = (await client.get("/api/v1/credit/lists")).json()
    red = {x["provider_id"]: x for x in lists["red"]}
    assert str(firms["red-good"]) in red and red[str(firms["red-good"])]["grade"] == "A"
    assert str(firms["red-new"]) not in red  # no track record: grade A by the baseline alone
    assert str(firms["red-points"]) not in red  # counting violation points
    assert lists["red_definition"] and v["points"] == 2


async def test_an_operator_decision_is_shown_with_its_period_and_leaves_the_list_when_lifted(client, factory, settings):
    clock.freeze(START)
    admin, _firm, firm_id = await _world(client, factory)
    until = (clock.today_local() + timedelta(days=29)).isoformat()
    r = await client.post(
        f"/api/v1/admin/organizations/{firm_id}/suspend",
        json={"reason": "未按期整改服务质量问题", "until": until},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    black = {x["provider_id"]: x for x in (await client.get("/api/v1/credit/lists")).json()["black"]}
    period = black[str(firm_id)]["period"]
    assert period["kind"] == "suspended" and period["until"] == until and period["automatic"] is False
    assert period["reason"] == "未按期整改服务质量问题"
    page = await client.get(f"/providers/{firm_id}?lang=zh")
    assert page.status_code == 200 and "未按期整改服务质量问题" in page.text and until in page.text
    r = await client.post(f"/api/v1/admin/organizations/{firm_id}/reinstate", json={"reason": "已整改"}, headers=admin)
    assert r.status_code == 200, r.text
    assert str(firm_id) not in {x["provider_id"] for x in (await client.get("/api/v1/credit/lists")).json()["black"]}
    record = (await client.get(f"/api/v1/providers/{firm_id}/violations")).json()
    assert [(p["kind"], p["ended_at"] is not None) for p in record["sanctions"]] == [("suspended", True)]
