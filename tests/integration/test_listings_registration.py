"""Registration of providers and owners, the operator's review, and the rule that an organisation
that is not approved can do nothing beyond its own profile."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import pytest
from litestar import get
from sqlalchemy import func, select

from listings.models import BusinessLicence
from market import clock
from market.app import create_app
from market.audit.models import AuditEvent
from market.identity.guards import requires_role
from market.identity.models import Organization, User
from market.worker import run_once
from tests.integration.helpers import PASSWORD, account, assert_problem, login
from tests.integration.listings_helpers import (
    as_form,
    browser,
    csrf_token,
    make_uscc,
    new_client,
    pdf_bytes,
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
    responses = await asyncio.gather(*(post_provider(client, registration(f"race{i}", uscc=uscc)) for i in range(4)))
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


@pytest.mark.own_app
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


# --- every problem at once, phone numbers, the business licence ----------------------------------


async def test_a_registration_names_every_problem_at_once_on_the_api(client, factory):
    await register_provider(client, "taken")
    before = await _counts(factory)
    body = registration(
        "taken",  # the username is taken
        uscc=wrong_check_digit(make_uscc("x")),
        phone="6512345",  # no area code
        password="short",
        email="not-an-address",
        commitment_accepted=False,
    )
    refused = assert_problem(await post_provider(client, body, licence=False), 422)
    fields = {e["field"] for e in refused["errors"]}
    assert fields == {
        "uscc",
        "phone",
        "password",
        "email",
        "commitment_accepted",
        "username",
        "business_licence",
    }, refused
    # a JSON registration is read too: every field is named, and the licence it cannot carry
    json_body = {**body, "username": "fresh", "password": "Secret-2026-pass", "email": "a@b.example"}
    refused = assert_problem(await client.post("/api/v1/providers", json=json_body), 422)
    assert {e["field"] for e in refused["errors"]} == {"uscc", "phone", "commitment_accepted", "business_licence"}
    assert await _counts(factory) == before


async def test_only_duplicates_are_a_409_naming_both(client):
    await register_provider(client, "first", uscc=make_uscc("dup2"))
    refused = assert_problem(await post_provider(client, registration("first", uscc=make_uscc("dup2"))), 409)
    assert {e["field"] for e in refused["errors"]} == {"uscc", "username"}


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0871-6512 3456", "0871-65123456"),
        ("(0871) 65123456", "0871-65123456"),
        ("010-62345678 转 8012", "010-62345678-8012"),
    ],
)
async def test_phone_numbers_are_checked_and_kept_in_one_form(client, typed, kept):
    _org_id, me = await register_provider(client, "phoned", phone=typed)
    assert (await client.get("/api/v1/me/organization", headers=me)).json()["phone"] == kept


@pytest.mark.parametrize("typed", ["65123456", "12345678901", "0871-0123456", "138 1234 567", "—", "call us"])
async def test_phone_numbers_that_are_neither_mobile_nor_landline_with_area_code_are_refused(client, typed):
    refused = assert_problem(await post_provider(client, registration("badphone", phone=typed)), 422, "phone")
    if len(typed) >= 5:  # shorter ones are refused for their length first
        assert any("0871-65123456" in e["message"] for e in refused["errors"] if e["field"] == "phone")


async def test_a_provider_registers_with_its_business_licence_which_the_operator_reads(client, factory):
    body = registration("licensed")
    refused = await post_provider(client, body, licence=False)
    assert_problem(refused, 422, "business_licence")
    html = b"<html>not a licence</html>"
    files = {"business_licence": ("营业执照.pdf", html, "application/pdf")}
    headers = {"X-CSRF-Token": await csrf_token(client)}
    assert_problem(
        await client.post("/api/v1/providers", data=as_form(body), files=files, headers=headers),
        415,
        "business_licence",
    )
    content = pdf_bytes(b"licence of licensed")
    files = {"business_licence": ("营业执照.pdf", content, "application/pdf")}
    r = await client.post("/api/v1/providers", data=as_form(body), files=files, headers=headers)
    assert r.status_code == 201, r.text
    me = await login(client, "licensed")
    digest = hashlib.sha256(content).hexdigest()
    assert (await client.get("/api/v1/me/organization", headers=me)).json()["business_licence_sha256"] == digest
    admin = await account(client, factory, "admin", "ops")
    assert (await client.get(f"/api/v1/files/{digest}", headers=admin)).content == content
    async with factory() as session:
        licence = await session.scalar(select(BusinessLicence).where(BusinessLicence.sha256 == digest))
        assert licence is not None and str(licence.org_id) == r.json()["id"]
        event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "organization.registered"))
        assert digest in event.data


async def test_a_rejected_provider_replaces_its_licence_and_resubmits(client, factory):
    org_id, me = await register_provider(client, "relicensed")
    admin = await account(client, factory, "admin", "ops")
    await client.post(f"/api/v1/admin/organizations/{org_id}/reject", headers=admin, json={"reason": "执照不清晰"})
    content = pdf_bytes(b"a clearer scan")
    uploaded = await client.post(
        "/api/v1/files", headers=me, files={"file": ("营业执照.pdf", content, "application/pdf")}
    )
    digest = uploaded.json()["sha256"]
    r = await client.patch("/api/v1/me/organization", headers=me, json={"business_licence_sha256": digest})
    assert r.status_code == 200 and r.json()["business_licence_sha256"] == digest
    # another firm's file is not its own to refer to
    assert_problem(
        await client.patch("/api/v1/me/organization", headers=me, json={"business_licence_sha256": "a" * 64}),
        422,
        "business_licence_sha256",
    )
    assert (await client.post("/api/v1/me/organization/resubmit", headers=me)).json()["status"] == "pending"
    await client.post(f"/api/v1/admin/organizations/{org_id}/approve", headers=admin)
    assert_problem(  # after approval only the operator changes it
        await client.patch("/api/v1/me/organization", headers=me, json={"business_licence_sha256": digest}),
        422,
        "business_licence_sha256",
    )


# --- registrations per address ---------------------------------------------------------------


async def test_registrations_are_rate_limited_per_address(settings, engine, factory):
    limited = settings.with_(registrations_per_hour=2)
    app = create_app(limited, engine=engine)
    async with new_client(app, ip="198.51.100.20") as client:
        # refused registrations do not count
        assert_problem(await post_provider(client, registration("one", phone="123")), 422, "phone")
        await register_provider(client, "one")
        r = await client.post("/api/v1/owners", json=registration("two", org_type="government", name="云岭县水务局"))
        assert r.status_code == 201, r.text
        before = await _counts(factory)
        third = assert_problem(await post_provider(client, registration("three")), 429)
        wait = int((await post_provider(client, registration("three"))).headers["retry-after"])
        assert 0 < wait <= 3600 and third["type"].endswith("too-many-requests")
        # the page says so too, keeping what was typed
        csrf = await csrf_token(client)
        page = await client.post(
            "/register/owner",
            data={**as_form(registration("four", org_type="government")), "password2": PASSWORD, "csrf_token": csrf},
        )
        assert page.status_code == 429 and 0 < int(page.headers["retry-after"]) <= 3600
        assert 'value="four"' in page.text and PASSWORD not in page.text
        assert await _counts(factory) == before
        # an hour later the address may register again
        with clock.frozen(clock.now() + timedelta(hours=1, minutes=1)):
            await register_provider(client, "three")
    async with new_client(app, ip="198.51.100.21") as other:  # another address is not affected
        await register_provider(other, "elsewhere")


@pytest.mark.postgres_only
async def test_parallel_registrations_from_one_address_cannot_pass_the_limit_together(settings, engine, factory):
    app = create_app(settings.with_(registrations_per_hour=2), engine=engine)
    async with new_client(app, ip="198.51.100.30") as client:
        await csrf_token(client)
        responses = await asyncio.gather(*(post_provider(client, registration(f"flood{i}")) for i in range(6)))
    assert sorted(r.status_code for r in responses) == [201, 201, 429, 429, 429, 429], [r.text for r in responses]


# --- sanctions apply to market participants only ---------------------------------------------


async def test_an_admin_cannot_suspend_finance_nor_blacklist_or_reject_its_own_organisation(app, client, factory):
    admin = await account(client, factory, "admin", "ops")
    finance = await account(client, factory, "finance", "fin")
    own_id = (await client.get("/api/v1/me", headers=admin)).json()["org_id"]
    finance_id = (await client.get("/api/v1/me", headers=finance)).json()["org_id"]
    until = (clock.today_local() + timedelta(days=10)).isoformat()
    refused = assert_problem(
        await client.post(
            f"/api/v1/admin/organizations/{finance_id}/suspend",
            headers={**admin, "accept-language": "en"},
            json={"reason": "审计过严", "until": until},
        ),
        409,
    )
    assert refused["title"] == "Only intermediary firms and project owners can be rejected, suspended or blacklisted."
    for org_id in (finance_id, own_id):
        for action, body in (("blacklist", {"reason": "x"}), ("reject", {"reason": "x"})):
            assert_problem(
                await client.post(f"/api/v1/admin/organizations/{org_id}/{action}", headers=admin, json=body), 409
            )
    # nothing changed: finance still audits, the operator still operates
    assert (await client.get("/api/v1/finance/flags", headers=finance)).status_code == 200
    assert (await client.get("/api/v1/admin/qualifications", headers=admin)).status_code == 200
    assert "organization.suspended" not in await _actions(factory, finance_id)
    # the page refuses it too, with the problem, and offers no sanction of these organisations
    async with new_client(app) as page:
        csrf = await browser(page, "ops")
        shown = await page.get(f"/admin/organizations/{finance_id}")
        assert f"/admin/organizations/{finance_id}/suspend" not in shown.text
        assert f"/admin/organizations/{own_id}/blacklist" not in (await page.get(f"/admin/organizations/{own_id}")).text
        r = await page.post(
            f"/admin/organizations/{finance_id}/suspend",
            data={"reason": "x", "until": until, "csrf_token": csrf},
        )
        assert r.status_code == 409 and "只有中介机构和项目业主" in r.text


async def test_an_admin_still_sanctions_providers_and_owners(client, factory):
    org_id, _me = await register_provider(client, "sanctioned")
    admin = await account(client, factory, "admin", "ops")
    await client.post(f"/api/v1/admin/organizations/{org_id}/approve", headers=admin)
    r = await client.post(f"/api/v1/admin/organizations/{org_id}/blacklist", headers=admin, json={"reason": "串标"})
    assert r.status_code == 200 and r.json()["status"] == "blacklisted"
