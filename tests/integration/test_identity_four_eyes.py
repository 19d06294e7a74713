"""Closing the ways round the clerk/approver split: with four eyes (on in production) the user who
drafted or edited a purchase never publishes it — not the administrator alone, not a clerk
promoted to approver; one person gets one account (an invitation to an address the organisation
already uses is refused); role changes are audited and shown to the operator."""

from __future__ import annotations

import pytest

from market.identity.models import Organization
from tests.integration import test_identity_accounts as accounts
from tests.integration.bidding_world import ACCELERATOR, CODE, make_world
from tests.integration.helpers import account, assert_problem, browser, csrf, owner, purchase_body


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR, four_eyes=True)


async def test_the_drafter_never_publishes_its_own_purchase(client, factory, settings, app):
    w = await make_world(client, factory, settings, providers=1)
    clerk = await accounts.invite_and_accept(client, factory, w.owner, "hbj-clerk", "clerk")

    async def draft(headers):
        r = await client.post("/api/v1/purchases", headers=headers, json=purchase_body(CODE, settings=settings))
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def publish(pid, headers):
        return client.post(f"/api/v1/purchases/{pid}/publish", headers=headers)

    # the administrator alone: drafts and cannot publish; the page says why instead of the button
    own = await draft(w.owner)
    refused = assert_problem(await publish(own, w.owner), 403)
    assert "四眼" in refused["title"] or "four eyes" in refused["title"]
    page = await browser(app, "hbj")
    shown = (await page.get(f"/workspace/purchases/{own}?lang=en")).text
    await page.aclose()
    assert f"/workspace/purchases/{own}/publish" not in shown and "four eyes" in shown
    # a clerk drafts, the administrator edits it: the administrator prepared it too
    edited = await draft(clerk)
    r = await client.patch(f"/api/v1/purchases/{edited}", headers=w.owner, json={"service_days": 20})
    assert r.status_code == 200, r.text
    assert_problem(await publish(edited, w.owner), 403)
    # a clerk drafts, the administrator only reviews: it publishes
    reviewed = await draft(clerk)
    assert (await publish(reviewed, w.owner)).status_code == 200
    # the bypass: promote the clerk who drafted to approver and publish alone — refused
    mine = await draft(clerk)
    users = (await client.get("/api/v1/org/users", headers=w.owner)).json()
    clerk_id = next(u["id"] for u in users if u["username"] == "hbj-clerk")
    r = await client.patch(f"/api/v1/org/users/{clerk_id}", headers=w.owner, json={"org_role": "approver"})
    assert r.status_code == 200
    assert_problem(await publish(mine, clerk), 403)
    assert (await publish(mine, w.owner)).status_code == 200  # the other person may
    # an organisation with a single user cannot publish at all: two accounts are needed
    alone, _ = await owner(client, factory, "jtj", "云岭县交通运输局")
    assert_problem(await publish(await draft(alone), alone), 403)

    # the operator sees the users, their roles and every invitation and role change
    ops = await account(client, factory, "admin", "ops")
    assert ops
    admin_page = await browser(app, "ops")
    text = (await admin_page.get(f"/admin/organizations/{w.owner_id}?lang=en")).text
    await admin_page.aclose()
    assert "hbj-clerk" in text and "invited as Clerk" in text and "role changed from Clerk (经办) to Approver" in text


async def test_one_person_one_account(client, factory, settings, app):
    w = await make_world(client, factory, settings, providers=0)
    await accounts.invite_and_accept(client, factory, w.owner, "hbj-clerk", "clerk")
    for address in ("hbj-clerk@example.cn", "HBJ-Clerk@Example.cn"):
        r = await client.post(
            "/api/v1/org/users",
            headers=w.owner,
            json={"username": "hbj-second", "email": address, "org_role": "approver"},
        )
        assert_problem(r, 409, "email")
    # nor the organisation's own address, where its administrator's messages go
    async with factory() as session:
        org = await session.get(Organization, w.owner_id)
        org.email = "office@hbj.example.cn"
        await session.commit()
    r = await client.post(
        "/api/v1/org/users",
        headers=w.owner,
        json={"username": "hbj-second", "email": "Office@hbj.example.cn", "org_role": "clerk"},
    )
    assert_problem(r, 409, "email")
    # the page answers at the field too
    page = await browser(app, "hbj")
    await page.get("/workspace/users")
    form = {"csrf_token": csrf(page), "username": "hbj-second", "email": "office@hbj.example.cn", "org_role": "clerk"}
    r = await page.post("/workspace/users?lang=en", data=form)
    await page.aclose()
    assert r.status_code == 409 and 'id="err-email"' in r.text and "one person, one account" in r.text
    r = await client.post(
        "/api/v1/org/users",
        headers=w.owner,
        json={"username": "hbj-second", "email": "li.ming@hbj.example.cn", "org_role": "approver"},
    )
    assert r.status_code == 201, r.text
