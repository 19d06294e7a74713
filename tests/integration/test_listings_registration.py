"""Registration of providers and owners, the operator's review, and the rule that an organisation
that is not approved can do nothing beyond its own profile."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from litestar import get
from sqlalchemy import func, select

from market import clock
from market.audit.models import AuditEvent
from market.identity.guards import requires_role
from market.identity.models import Organization, User
from market.worker import run_once
from tests.integration.helpers import account, assert_problem, login
from tests.integration.listings_helpers import (
    make_uscc,
    post_provider,
    register_provider,
    registration,
    wrong_check_digit,
)


async def _counts(factory) -> tuple[int, int, int]:
    async with factory() as session:
        return (
            await session.scalar(select(func.count()).select_from(Organization)),
            await session.scalar(select(func.count()).select_from(User)),
            await session.scalar(select(func.count()).select_from(AuditEvent)),
        )


async def _actions(factory, org_id: str) -> list[str]:
    async with factory() as session:
        rows = await session.scalars(
            select(AuditEvent.action).where(AuditEvent.entity_id == org_id).order_by(AuditEvent.seq)
        )
        return list(rows)


async def test_provider_registers_pending_with_first_user_and_commitment(client, factory):
    r = await post_provider(client, registration("lvyuan"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "pending" and body["id"] and body["user_id"]
    headers = await login(client, "lvyuan")
    me = (await client.get("/api/v1/me/organization", headers=headers)).json()
    assert me["status"] == "pending" and me["kind"] == "provider" and me["commitment_accepted_at"]
    actions = await _actions(factory, body["id"])
    assert "organization.created" in actions and "organization.registered" in actions
    async with factory() as session:
        event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "organization.registered"))
        assert '"commitment_version"' in event.data


async def test_wrong_check_digit_is_422_naming_uscc_and_leaves_nothing(client, factory):
    before = await _counts(factory)
    bad = wrong_check_digit(make_uscc("shanshui"))
    body = assert_problem(await post_provider(client, registration("shanshui", uscc=bad)), 422, "uscc")
    assert body["type"].endswith("invalid-input")
    assert await _counts(factory) == before


async def test_duplicate_uscc_is_409(client, factory):
    uscc = make_uscc("dup")
    assert (await post_provider(client, registration("first", uscc=uscc))).status_code == 201
    before = await _counts(factory)
    assert_problem(await post_provider(client, registration("second", uscc=uscc)), 409, "uscc")
    # an owner with that code conflicts too
    owner = registration("owner-x", uscc=uscc, org_type="government")
    assert_problem(await client.post("/api/v1/owners", json=owner), 409, "uscc")
    assert await _counts(factory) == before


@pytest.mark.postgres_only
async def test_duplicate_uscc_registered_at_the_same_moment_gives_one_201_and_one_409(client, backend):
    uscc = make_uscc("race")
    responses = await asyncio.gather(
        *(post_provider(client, registration(f"race{i}", uscc=uscc)) for i in range(4))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 409, 409, 409], [r.text for r in responses]


async def test_commitment_must_be_accepted_and_owner_needs_its_kind(client):
    assert_problem(
        await post_provider(client, registration("nocommit", commitment_accepted=False)),
        422,
        "commitment_accepted",
    )
    assert_problem(await client.post("/api/v1/owners", json=registration("jtj")), 422, "org_type")
    r = await client.post("/api/v1/owners", json=registration("jtj", org_type="government", name="云岭县交通运输局"))
    assert r.status_code == 201 and r.json()["status"] == "pending"
    assert_problem(await post_provider(client, registration("weak", password="short")), 422, "password")
    assert_problem(await post_provider(client, registration("bad mail", email="x")), 422, "email")


async def test_review_decisions_are_audited_and_guarded(client, factory):
    org_id, _provider = await register_provider(client, "review1")
    admin = await account(client, factory, "admin", "ops")
    owner = await account(client, factory, "owner", "jtj")
    assert_problem(await client.post(f"/api/v1/admin/organizations/{org_id}/approve", headers=owner), 403)
    assert_problem(await client.post(f"/api/v1/admin/organizations/{org_id}/approve"), 401)
    # suspending a pending registration is not a decision that applies
    until = (clock.today_local() + timedelta(days=10)).isoformat()
    assert_problem(
        await client.post(
            f"/api/v1/admin/organizations/{org_id}/suspend", headers=admin, json={"reason": "x", "until": until}
        ),
        422,
    )
    r = await client.post(f"/api/v1/admin/organizations/{org_id}/approve", headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert_problem(await client.post(f"/api/v1/admin/organizations/{org_id}/approve", headers=admin), 422)
    r = await client.post(
        f"/api/v1/admin/organizations/{org_id}/suspend",
        headers=admin,
        json={"reason": "逾期未提交成果，暂停 10 日", "until": until},
    )
    assert r.json() == {
        "id": org_id,
        "status": "suspended",
        "status_reason": "逾期未提交成果，暂停 10 日",
        "suspended_until": until,
    }
    yesterday = (clock.today_local() - timedelta(days=1)).isoformat()
    assert_problem(
        await client.post(
            f"/api/v1/admin/organizations/{org_id}/suspend", headers=admin, json={"reason": "x", "until": yesterday}
        ),
        422,
        "until",
    )
    r = await client.post(f"/api/v1/admin/organizations/{org_id}/reinstate", headers=admin, json={"reason": "已整改"})
    assert r.json()["status"] == "approved" and r.json()["suspended_until"] is None
    r = await client.post(f"/api/v1/admin/organizations/{org_id}/blacklist", headers=admin, json={"reason": "串通投标"})
    assert r.json()["status"] == "blacklisted"
    assert_problem(
        await client.post(f"/api/v1/admin/organizations/{org_id}/blacklist", headers=admin, json={"reason": "again"}),
        422,
    )
    assert_problem(
        await client.post(f"/api/v1/admin/organizations/{org_id}/reject", headers=admin, json={}), 422, "reason"
    )
    actions = await _actions(factory, org_id)
    for action in ("approved", "suspended", "reinstated", "blacklisted"):
        assert f"organization.{action}" in actions
    async with factory() as session:
        events = list(await session.scalars(select(AuditEvent).where(AuditEvent.action == "organization.suspended")))
        assert len(events) == 1 and "逾期未提交成果" in events[0].data and events[0].actor_role == "admin"


async def test_rejected_registrant_sees_the_reason_corrects_and_resubmits(client, factory):
    org_id, me = await register_provider(client, "tongda", name="云岭县通达测量服务部")
    admin = await account(client, factory, "admin", "ops")
    reason = "营业执照经营范围不含测绘服务，请补充资质证明。"
    r = await client.post(f"/api/v1/admin/organizations/{org_id}/reject", headers=admin, json={"reason": reason})
    assert r.json()["status"] == "rejected"
    profile = (await client.get("/api/v1/me/organization", headers=me)).json()
    assert profile["status"] == "rejected" and profile["status_reason"] == reason
    # before approval even the name and the credit code may be corrected
    new_uscc = make_uscc("tongda-2")
    r = await client.patch(
        "/api/v1/me/organization", headers=me, json={"name": "云岭县通达测绘有限公司", "uscc": new_uscc}
    )
    assert r.status_code == 200 and r.json()["name"] == "云岭县通达测绘有限公司" and r.json()["uscc"] == new_uscc
    assert_problem(
        await client.patch("/api/v1/me/organization", headers=me, json={"uscc": wrong_check_digit(new_uscc)}),
        422,
        "uscc",
    )
    r = await client.post("/api/v1/me/organization/resubmit", headers=me)
    assert r.status_code == 200 and r.json()["status"] == "pending" and r.json()["status_reason"] is None
    assert_problem(await client.post("/api/v1/me/organization/resubmit", headers=me), 422)
    assert (await client.post(f"/api/v1/admin/organizations/{org_id}/approve", headers=admin)).json()[
        "status"
    ] == "approved"
    # after approval the name and the code are the operator's to change
    assert_problem(
        await client.patch("/api/v1/me/organization", headers=me, json={"name": "别的名字有限公司"}), 422, "name"
    )
    r = await client.patch("/api/v1/me/organization", headers=me, json={"phone": "0877-8219999"})
    assert r.status_code == 200 and r.json()["phone"] == "0877-8219999"
    actions = await _actions(factory, org_id)
    assert (
        actions.index("organization.rejected")
        < actions.index("organization.resubmitted")
        < actions.index("organization.approved")
    )


@get("/api/v1/test/act", guards=[requires_role("provider", "owner")], include_in_schema=False)
async def _an_action() -> dict[str, bool]:
    return {"acted": True}


async def test_an_organisation_that_is_not_approved_cannot_act_beyond_its_own_profile(app, client, factory):
    app.register(_an_action)  # stands for every action beyond the profile (bidding, publishing…)
    admin = await account(client, factory, "admin", "ops")
    until = (clock.today_local() + timedelta(days=5)).isoformat()
    cases = {
        "pending": [],
        "rejected": [("reject", {"reason": "资料不全"})],
        "suspended": [("approve", None), ("suspend", {"reason": "违规", "until": until})],
        "blacklisted": [("approve", None), ("blacklist", {"reason": "串通投标"})],
    }
    for status, decisions in cases.items():
        org_id, me = await register_provider(client, f"firm-{status}")
        for action, body in decisions:
            r = await client.post(f"/api/v1/admin/organizations/{org_id}/{action}", headers=admin, json=body)
            assert r.status_code == 200, r.text
        # its own profile stays open: read, correct, keep qualifications and practitioners
        profile = await client.get("/api/v1/me/organization", headers=me)
        assert profile.status_code == 200 and profile.json()["status"] == status
        assert (
            await client.patch("/api/v1/me/organization", headers=me, json={"phone": "0877-8234567"})
        ).status_code == 200
        assert (await client.get(f"/api/v1/providers/{org_id}/qualifications", headers=me)).status_code == 200
        # everything else is refused, naming the status
        refused = assert_problem(await client.get("/api/v1/test/act", headers={**me, "accept-language": "en"}), 403)
        assert refused["detail"] == f"Its status is {status}. Open your profile to see why."
        # and it is not in the public directory
        assert_problem(await client.get(f"/api/v1/providers/{org_id}"), 404)
    approved_id, approved = await register_provider(client, "firm-approved")
    await client.post(f"/api/v1/admin/organizations/{approved_id}/approve", headers=admin)
    assert (await client.get("/api/v1/test/act", headers=approved)).json() == {"acted": True}


async def test_the_worker_ends_suspensions_after_their_last_day(client, factory, settings):
    org_id, me = await register_provider(client, "suspendme")
    admin = await account(client, factory, "admin", "ops")
    await client.post(f"/api/v1/admin/organizations/{org_id}/approve", headers=admin)
    start = clock.now()
    clock.freeze(start)
    until = clock.today_local() + timedelta(days=2)
    await client.post(
        f"/api/v1/admin/organizations/{org_id}/suspend",
        headers=admin,
        json={"reason": "暂停", "until": until.isoformat()},
    )
    clock.advance(timedelta(days=2))  # the last day of the suspension
    assert (await run_once(factory, settings))["listings.suspensions"] == 0
    me = await login(client, "suspendme")  # sessions last hours, not days
    assert (await client.get("/api/v1/me/organization", headers=me)).json()["status"] == "suspended"
    clock.advance(timedelta(days=1))
    assert (await run_once(factory, settings))["listings.suspensions"] == 1
    me = await login(client, "suspendme")
    profile = (await client.get("/api/v1/me/organization", headers=me)).json()
    assert profile["status"] == "approved" and profile["suspended_until"] is None
    assert "organization.suspension_ended" in await _actions(factory, org_id)
    assert (await run_once(factory, settings))["listings.suspensions"] == 0


@pytest.mark.postgres_only
async def test_concurrent_decisions_on_one_registration_let_one_win(client, factory, backend):
    org_id, _me = await register_provider(client, "contested")
    admin = await account(client, factory, "admin", "ops")
    responses = await asyncio.gather(
        client.post(f"/api/v1/admin/organizations/{org_id}/approve", headers=admin),
        client.post(f"/api/v1/admin/organizations/{org_id}/reject", headers=admin, json={"reason": "资料不全"}),
        client.post(f"/api/v1/admin/organizations/{org_id}/approve", headers=admin),
    )
    # the decisions wait for the row lock in turn: the first decides, the others find it decided
    assert sorted(r.status_code for r in responses) == [200, 422, 422], [r.text for r in responses]
    decided = [a for a in await _actions(factory, org_id) if a in ("organization.approved", "organization.rejected")]
    assert len(decided) == 1
