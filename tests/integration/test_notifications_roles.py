"""Who in an organisation gets a message: one that asks for an approver's action (sign, select,
pay, confirm a bid) goes to its approvers and administrator, not its clerks; an informational one
to every user. And a request refused after it queued a message leaves nothing in the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from market import clock, notify
from market.identity.models import OrgRole, User
from market.notify.models import Notification
from market.terms import N_
from tests.integration import test_identity_accounts as accounts
from tests.integration.bidding_world import ACCELERATOR, make_world
from tests.integration.helpers import assert_problem, browser, csrf, make_user

KIND = notify.Kind(
    "test.roles", subject=N_("%(n)s days"), body=N_("Or run: market verify-draw %(ref)s"), audience="owner"
)


@pytest.fixture(autouse=True)
def _kind() -> None:
    notify.register_kind(KIND)


@pytest.fixture
def settings(settings):
    return settings.with_(accelerator=ACCELERATOR)


async def _recipients(factory, kind: str) -> list[str]:
    async with factory() as session:
        rows = await session.execute(
            select(col(User.username))
            .join(Notification, col(Notification.user_id) == col(User.id))
            .where(col(Notification.kind) == kind)
        )
        return sorted(rows.scalars())


async def _outbox(factory) -> int:
    async with factory() as session:
        return int(await session.scalar(select(func.count()).select_from(Notification)) or 0)


async def test_to_org_roles_narrows_an_organisations_users(factory):
    head = await make_user(factory, "owner", "云岭县水务局", "sw")
    async with factory() as session:
        for name, role in (("sw-clerk", OrgRole.clerk), ("sw-approver", OrgRole.approver)):
            session.add(User(org_id=head.org_id, username=name, display_name=name, password_hash="x", org_role=role))
        session.add(User(org_id=head.org_id, username="sw-gone", display_name="x", password_hash="x", is_active=False))
        await session.commit()
    async with factory() as session:
        assert await notify.send(session, kind="test.roles", params={"n": 1}, to_org_id=head.org_id) == 3
        await notify.send(
            session, kind="test.roles", params={"n": 2}, to_org_id=head.org_id, to_org_roles=notify.APPROVERS
        )
        await session.commit()
    async with factory() as session:
        rows = await session.execute(
            select(col(User.username), col(Notification.params))
            .join(Notification, col(Notification.user_id) == col(User.id))
            .order_by(col(User.username))
        )
        got = sorted((name, params) for name, params in rows)
    assert [n for n, p in got if '"2"' in p] == ["sw", "sw-approver"]  # no clerk, nobody inactive
    assert [n for n, p in got if '"1"' in p] == ["sw", "sw-approver", "sw-clerk"]
    # a user named is reached whatever its role
    clerk_id = await _user_id(factory, "sw-clerk")
    async with factory() as session:
        sent = await notify.send(
            session, kind="test.roles", params={"n": 3}, to_user_ids=[clerk_id], to_org_roles=notify.APPROVERS
        )
        assert sent == 1


async def _user_id(factory, username: str):
    async with factory() as session:
        return await session.scalar(select(col(User.id)).where(col(User.username) == username))


async def test_bids_ready_and_a_bid_to_confirm_go_to_approvers_only(client, factory, settings):
    w = await make_world(client, factory, settings, providers=3)
    await accounts.invite_and_accept(client, factory, w.owner, "hbj-clerk", "clerk")
    await accounts.invite_and_accept(client, factory, w.providers[0][0], "firm1-clerk", "clerk")
    p = await w.published()
    for who, price in ((0, "41000.00"), (1, "42000.00"), (2, "43000.00")):
        assert (await w.bid(p["id"], who, price)).status_code == 201
    clock.freeze(clock.now() + timedelta(milliseconds=200))
    # a material change: the bidders' approvers are asked to confirm, their clerks are told
    r = await client.post(
        f"/api/v1/purchases/{p['id']}/change-notices",
        headers=w.owner,
        json={"reason": "扩大服务范围至两个乡镇。", "description": "新的服务范围：两个乡镇的环境影响评价。"},
    )
    assert r.status_code == 201, r.text
    assert "firm1-clerk" not in await _recipients(factory, "bidding.change_notice_confirm")
    assert "firm1" in await _recipients(factory, "bidding.change_notice_confirm")
    assert await _recipients(factory, "bidding.change_notice") == ["firm1-clerk"]
    for who in range(3):
        bid_id = (await client.get("/api/v1/bids", headers=w.providers[who][0])).json()["items"][0]["id"]
        r = await client.post(f"/api/v1/bids/{bid_id}/confirm", headers=w.providers[who][0])
        assert r.status_code == 201, r.text
    # the bids are ready: the selection is the approver's
    w.past_deadline((await client.get(f"/api/v1/purchases/{p['id']}")).json())
    await w.tick()
    assert await _recipients(factory, "bidding.bids_ready") == ["hbj"]


@pytest.fixture
def queued() -> Iterator[list[str]]:
    """The kinds of the notifications added to any session while the test runs (the send itself,
    whether or not its transaction commits)."""
    seen: list[str] = []

    def added(session: Session, instance: object) -> None:
        if isinstance(instance, Notification):
            seen.append(instance.kind)

    event.listen(Session, "transient_to_pending", added)
    yield seen
    event.remove(Session, "transient_to_pending", added)


async def test_a_request_refused_after_it_queued_a_message_sends_nothing(client, factory, settings, app, queued):
    w = await make_world(client, factory, settings, providers=3)
    await accounts.invite_and_accept(client, factory, w.providers[2][0], "firm3-clerk", "clerk")
    p = await w.published()
    for who, price in ((0, "41000.00"), (1, "42000.00"), (2, "43000.00")):
        assert (await w.bid(p["id"], who, price)).status_code == 201
    w.past_deadline(p)  # no worker ran: the first request that acts on the purchase opens it
    before = await _outbox(factory)
    queued.clear()
    # a late bid: the request opens the bids (queueing "bids ready" for the owner), then is refused
    late = await w.bid(p["id"], 0, "40000.00")
    assert_problem(late, 422)
    assert "bidding.bids_ready" in queued  # the message was sent in the request ...
    assert await _outbox(factory) == before  # ... and went with its rollback
    # the same through the form: the page answers 422, nothing is left
    page = await browser(app, "firm2")
    queued.clear()
    r = await page.post(
        f"/workspace/purchases/{p['id']}/bid",
        data={"csrf_token": csrf(page), "price": "40000.00", "service_days": "5"},
    )
    await page.aclose()
    assert r.status_code == 422 and "bidding.bids_ready" in queued
    assert await _outbox(factory) == before
    # a request that commits sends it: the worker opens the bids, the owner hears once
    await w.tick()
    assert await _recipients(factory, "bidding.bids_ready") == ["hbj"]
