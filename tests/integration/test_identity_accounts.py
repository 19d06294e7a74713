"""Several users per organisation (issue 11.5) and passwords (issue 11.6): invitations, roles
enforced in the services, deactivation, change, reset by a single-use link."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from market import clock
from market.errors import PermissionDenied
from market.notify.models import Notification
from tests.integration.bidding_world import make_world
from tests.integration.helpers import (
    actor_of,
    assert_problem,
    browser,
    csrf,
    draft_contract,
    login,
    make_parties,
)

STRONG = "Quiet-River-2026"


async def mails_to(factory, address: str) -> list[Notification]:
    async with factory() as session:
        rows = await session.scalars(
            select(Notification).where(col(Notification.to_address) == address).order_by(col(Notification.created_at))
        )
        return list(rows)


def link_in(mail: Notification, path: str) -> str:
    found = re.search(re.escape(path) + r"([A-Za-z0-9_-]{20,})", mail.body or "")
    assert found, mail.body
    return found.group(1)


async def invite_and_accept(client, factory, admin_headers, username: str, org_role: str) -> dict[str, str]:
    address = f"{username}@example.cn"
    r = await client.post(
        "/api/v1/org/users", headers=admin_headers, json={"username": username, "email": address, "org_role": org_role}
    )
    assert r.status_code == 201, r.text
    assert r.json()["invited"] is True and r.json()["org_role"] == org_role and r.json()["is_active"] is False
    token = link_in((await mails_to(factory, address))[-1], "/invitations/")
    assert (await client.post(f"/api/v1/invitations/{token}/accept", json={"password": STRONG})).status_code == 204
    return await login(client, username, STRONG)


async def test_invite_accept_login_and_the_password_policy(client, factory, settings):
    w = await make_world(client, factory, settings, providers=1)
    r = await client.post(
        "/api/v1/org/users",
        headers=w.owner,
        json={"username": "hbj-clerk", "email": "Clerk@HBJ.example.cn", "org_role": "clerk"},
    )
    assert r.status_code == 201, r.text
    [mail] = await mails_to(factory, "clerk@hbj.example.cn")
    token = link_in(mail, "/invitations/")
    async with factory() as session:  # only the hash of the token is stored
        from market.identity.models import AccountLink

        stored = list(await session.scalars(select(col(AccountLink.token_hash))))
        assert token not in stored and all(len(h) == 64 for h in stored)
    # not yet a working account
    assert_problem(await client.post("/api/v1/auth/login", json={"username": "hbj-clerk", "password": STRONG}), 401)
    # the one policy: length, common passwords, the username
    for weak in ("Short-1", "qwertyuiop", "password123", "my-hbj-clerk-pass"):
        assert_problem(
            await client.post(f"/api/v1/invitations/{token}/accept", json={"password": weak}), 422, "password"
        )
    assert (await client.post(f"/api/v1/invitations/{token}/accept", json={"password": STRONG})).status_code == 204
    assert_problem(await client.post(f"/api/v1/invitations/{token}/accept", json={"password": STRONG}), 404)
    clerk = await login(client, "hbj-clerk", STRONG)
    me = (await client.get("/api/v1/me", headers=clerk)).json()
    assert me["org_role"] == "clerk" and me["org_id"] == str(w.owner_id)
    users = (await client.get("/api/v1/org/users", headers=w.owner)).json()
    assert [(u["username"], u["org_role"], u["is_active"]) for u in users] == [
        ("hbj", "admin", True),
        ("hbj-clerk", "clerk", True),
    ]
    # a clerk manages nobody; the username is taken; the role must be clerk or approver
    assert_problem(
        await client.post(
            "/api/v1/org/users", headers=clerk, json={"username": "x2", "email": "x@y.cn", "org_role": "clerk"}
        ),
        403,
    )
    assert_problem(
        await client.post(
            "/api/v1/org/users", headers=w.owner, json={"username": "hbj-clerk", "email": "x@y.cn", "org_role": "clerk"}
        ),
        409,
        "username",
    )
    assert_problem(
        await client.post(
            "/api/v1/org/users", headers=w.owner, json={"username": "x3", "email": "x@y.cn", "org_role": "admin"}
        ),
        422,
        "org_role",
    )
    assert_problem(
        await client.post(
            "/api/v1/org/users", headers=w.owner, json={"username": "x4", "email": "nope", "org_role": "clerk"}
        ),
        422,
        "email",
    )


async def test_a_clerk_drafts_only_an_approver_publishes_and_bids(client, factory, settings, app):
    w = await make_world(client, factory, settings, providers=1)
    clerk = await invite_and_accept(client, factory, w.owner, "hbj-clerk", "clerk")
    r = await client.post("/api/v1/purchases", headers=clerk, json=_purchase(w))
    assert r.status_code == 201, r.text  # a clerk drafts
    draft = r.json()
    refused = assert_problem(await client.post(f"/api/v1/purchases/{draft['id']}/publish", headers=clerk), 403)
    assert "负责人" in refused["title"]  # only an approver
    page = await browser(app, "hbj-clerk", STRONG)
    try:
        manage = await page.get(f"/workspace/purchases/{draft['id']}")
        assert manage.status_code == 200 and f"/workspace/purchases/{draft['id']}/publish" not in manage.text
    finally:
        await page.aclose()
    # an approver publishes (the administrator is one; so is a user given the role)
    approver = await invite_and_accept(client, factory, w.owner, "hbj-boss", "approver")
    published = await client.post(f"/api/v1/purchases/{draft['id']}/publish", headers=approver)
    assert published.status_code == 200, published.text
    # firms: a clerk only views, an approver submits the bid
    firm_clerk = await invite_and_accept(client, factory, w.providers[0][0], "firm1-clerk", "clerk")
    assert (await client.get(f"/api/v1/purchases/{draft['id']}", headers=firm_clerk)).status_code == 200
    bid = {"price": "40000.00", "service_days": 10}
    assert_problem(await client.post(f"/api/v1/purchases/{draft['id']}/bids", headers=firm_clerk, json=bid), 403)
    assert (await w.bid(draft["id"], 0, "40000.00")).status_code in (200, 201)
    # the administrator changes the clerk into an approver: it may publish now
    users = (await client.get("/api/v1/org/users", headers=w.owner)).json()
    clerk_id = next(u["id"] for u in users if u["username"] == "hbj-clerk")
    r = await client.patch(f"/api/v1/org/users/{clerk_id}", headers=w.owner, json={"org_role": "approver"})
    assert r.status_code == 200 and r.json()["org_role"] == "approver"
    other = await client.post("/api/v1/purchases", headers=clerk, json=_purchase(w))
    assert (await client.post(f"/api/v1/purchases/{other.json()['id']}/publish", headers=clerk)).status_code == 200


def _purchase(w):
    from tests.integration.bidding_world import CODE
    from tests.integration.helpers import purchase_body

    return purchase_body(CODE, settings=w.settings)


async def test_a_clerk_may_not_sign_a_contract(factory, settings):
    owner_user, provider_user = await make_parties(factory)
    contract = await draft_contract(factory, settings, owner_user, provider_user)
    from invoices.contracts import sign_contract

    async with factory() as session:
        for user, role in ((owner_user, "owner"), (provider_user, "provider")):
            clerk = dataclasses.replace(actor_of(user, role), org_role="clerk")
            with pytest.raises(PermissionDenied):
                await sign_contract(session, clerk, settings, contract.id)
        signed = await sign_contract(
            session, dataclasses.replace(actor_of(owner_user, "owner"), org_role="approver"), settings, contract.id
        )
        assert signed.owner_signed_at is not None


async def test_a_deactivated_users_token_stops_at_once(client, factory, settings):
    w = await make_world(client, factory, settings, providers=0)
    headers = await invite_and_accept(client, factory, w.owner, "hbj-two", "approver")
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    users = (await client.get("/api/v1/org/users", headers=w.owner)).json()
    admin_id = next(u["id"] for u in users if u["username"] == "hbj")
    two_id = next(u["id"] for u in users if u["username"] == "hbj-two")
    assert_problem(await client.patch(f"/api/v1/org/users/{two_id}", headers=headers, json={"is_active": False}), 403)
    assert_problem(await client.patch(f"/api/v1/org/users/{admin_id}", headers=w.owner, json={"is_active": False}), 403)
    r = await client.patch(f"/api/v1/org/users/{two_id}", headers=w.owner, json={"is_active": False})
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert_problem(await client.get("/api/v1/me", headers=headers), 401)
    assert_problem(await client.post("/api/v1/auth/login", json={"username": "hbj-two", "password": STRONG}), 401)
    # another organisation's administrator cannot touch it
    firm, _ = await _other_admin(client, factory)
    assert_problem(await client.patch(f"/api/v1/org/users/{two_id}", headers=firm, json={"is_active": True}), 404)


async def _other_admin(client, factory):
    from tests.integration.helpers import owner

    return await owner(client, factory, "jtj")


async def test_change_password_ends_the_other_sessions(client, factory, settings):
    w = await make_world(client, factory, settings, providers=0)
    first = await invite_and_accept(client, factory, w.owner, "hbj-pw", "clerk")
    second = await login(client, "hbj-pw", STRONG)
    assert_problem(
        await client.post(
            "/api/v1/auth/password",
            headers=first,
            json={"current_password": "wrong-one-2026", "new_password": "Calm-Lake-2027"},
        ),
        422,
        "current_password",
    )
    assert_problem(
        await client.post(
            "/api/v1/auth/password", headers=first, json={"current_password": STRONG, "new_password": "qwertyuiop"}
        ),
        422,
        "new_password",
    )
    r = await client.post(
        "/api/v1/auth/password", headers=first, json={"current_password": STRONG, "new_password": "Calm-Lake-2027"}
    )
    assert r.status_code == 204, r.text
    assert (await client.get("/api/v1/me", headers=first)).status_code == 200
    assert_problem(await client.get("/api/v1/me", headers=second), 401)
    await login(client, "hbj-pw", "Calm-Lake-2027")


async def test_reset_link_works_once_expires_and_answers_alike(client, factory, settings):
    w = await make_world(client, factory, settings, providers=0)
    await invite_and_accept(client, factory, w.owner, "hbj-reset", "clerk")
    address = "hbj-reset@example.cn"
    known = await client.post("/api/v1/password/forgot", json={"email": address.upper()})
    unknown = await client.post("/api/v1/password/forgot", json={"email": "nobody@example.cn"})
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert await mails_to(factory, "nobody@example.cn") == []
    mails = await mails_to(factory, address)
    token = link_in(mails[-1], "/password/reset/")
    assert "/password/reset/" in mails[-1].body
    assert_problem(
        await client.post(f"/api/v1/password/reset/{token}", json={"password": "iloveyou123"}), 422, "password"
    )
    assert (
        await client.post(f"/api/v1/password/reset/{token}", json={"password": "Bright-Hill-2028"})
    ).status_code == 204
    assert_problem(await client.post(f"/api/v1/password/reset/{token}", json={"password": "Other-Hill-2029"}), 404)
    await login(client, "hbj-reset", "Bright-Hill-2028")
    # a link lives 30 minutes
    await client.post("/api/v1/password/forgot", json={"email": address})
    late = link_in((await mails_to(factory, address))[-1], "/password/reset/")
    clock.advance(timedelta(minutes=29))
    assert (await client.get(f"/password/reset/{late}")).status_code == 200
    clock.advance(timedelta(minutes=2))
    assert (await client.get(f"/password/reset/{late}")).status_code == 404
    assert_problem(await client.post(f"/api/v1/password/reset/{late}", json={"password": "Later-Hill-2030"}), 404)


async def test_forgot_is_throttled_per_address_alike_for_known_and_unknown(client, factory, settings):
    w = await make_world(client, factory, settings, providers=0)
    await invite_and_accept(client, factory, w.owner, "hbj-many", "clerk")
    answers = {}
    for address in ("hbj-many@example.cn", "ghost@example.cn"):
        for _ in range(5):
            assert (await client.post("/api/v1/password/forgot", json={"email": address})).status_code == 202
        answers[address] = await client.post("/api/v1/password/forgot", json={"email": address})
    statuses = {a: r.status_code for a, r in answers.items()}
    assert statuses == {"hbj-many@example.cn": 429, "ghost@example.cn": 429}
    assert answers["hbj-many@example.cn"].json()["title"] == answers["ghost@example.cn"].json()["title"]
    assert_problem(await client.post("/api/v1/password/forgot", json={"email": "not-an-address"}), 422, "email")


async def test_account_pages(client, factory, settings, app):
    await make_world(client, factory, settings, providers=0)
    admin = await browser(app, "hbj")
    try:
        users = await admin.get("/workspace/users")
        assert users.status_code == 200 and 'action="/workspace/users"' in users.text
        bad = await admin.post(
            "/workspace/users",
            data={"username": "pg-clerk", "email": "bad", "org_role": "clerk", "csrf_token": csrf(admin)},
        )
        assert bad.status_code == 422 and 'id="err-email"' in bad.text
        r = await admin.post(
            "/workspace/users",
            data={"username": "pg-clerk", "email": "pg@example.cn", "org_role": "clerk", "csrf_token": csrf(admin)},
        )
        assert r.status_code == 303, r.text
    finally:
        await admin.aclose()
    token = link_in((await mails_to(factory, "pg@example.cn"))[-1], "/invitations/")
    assert (await client.get(f"/invitations/{token}")).status_code == 200
    await client.get("/login")
    r = await client.post(
        f"/invitations/{token}", data={"password": STRONG, "password2": STRONG, "csrf_token": csrf(client)}
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    clerk = await browser(app, "pg-clerk", STRONG)
    try:
        page = await clerk.get("/workspace/users")
        assert page.status_code == 200 and "pg-clerk" in page.text and 'action="/workspace/users"' not in page.text
        wrong = await clerk.post(
            "/account/password",
            data={
                "current_password": "nope-nope-1",
                "new_password": "Calm-Lake-2027",
                "new_password2": "Calm-Lake-2027",
                "csrf_token": csrf(clerk),
            },
        )
        assert wrong.status_code == 422 and 'id="err-current_password"' in wrong.text
        ok = await clerk.post(
            "/account/password",
            data={
                "current_password": STRONG,
                "new_password": "Calm-Lake-2027",
                "new_password2": "Calm-Lake-2027",
                "csrf_token": csrf(clerk),
            },
        )
        assert ok.status_code == 303
    finally:
        await clerk.aclose()
    forgot = [
        await client.post("/password/forgot", data={"email": e, "csrf_token": csrf(client)})
        for e in ("pg@example.cn", "none@example.cn")
    ]
    assert forgot[0].status_code == forgot[1].status_code == 200 and forgot[0].text == forgot[1].text
