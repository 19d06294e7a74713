"""The inbox and the preferences, as pages (plain POST forms, no JavaScript) and as the API:
each user sees and marks only their own messages; the language and e-mail choices are kept."""

from __future__ import annotations

from sqlalchemy import select

from market import notify
from market.notify.models import EmailStatus, Notification
from tests.integration.helpers import assert_problem, browser, csrf, login, make_user


async def _queue(factory, user, n: int) -> None:
    async with factory() as session:
        for i in range(n):
            await notify.send(
                session,
                kind="listings.registration_approved",
                params={"name": f"机构{i}"},
                link="/workspace/profile",
                to_user_ids=[user.id],
            )
        await session.commit()


async def test_inbox_pages_paging_and_marking(app, client, factory):
    me = await make_user(factory, "provider", "云南恒信工程咨询有限公司", "hengxin")
    other = await make_user(factory, "provider", "云南博远工程咨询有限公司", "boyuan")
    await _queue(factory, me, 23)
    await _queue(factory, other, 1)
    page = await browser(app, "hengxin")
    try:
        html = (await page.get("/workspace")).text
        assert 'href="/notifications">消息 <span class="badge"' in html and ">23</span>" in html
        first = (await page.get("/notifications")).text
        assert first.count("注册已通过审核") == 20 and "第 1 页，共 2 页" in first
        second = (await page.get("/notifications?page=2")).text
        assert second.count("注册已通过审核") == 3
        # another's message: not found, through the page and the API
        async with factory() as session:
            theirs = await session.scalar(select(Notification.id).where(Notification.user_id == other.id))
        refused = await page.post(f"/notifications/{theirs}/read", data={"csrf_token": csrf(page)})
        assert refused.status_code == 404
        api = await login(client, "hengxin")
        assert_problem(await client.post(f"/api/v1/notifications/{theirs}/read", headers=api), 404)
        assert all(i["kind"] for i in (await client.get("/api/v1/notifications", headers=api)).json()["items"])
        assert (await client.get("/api/v1/notifications", headers=api)).json()["total"] == 23
        # mark one (it opens its link), then all
        mine = (await client.get("/api/v1/notifications", headers=api)).json()["items"][0]
        opened = await page.post(f"/notifications/{mine['id']}/read", data={"csrf_token": csrf(page)})
        assert opened.status_code == 303 and opened.headers["location"] == "/workspace/profile"
        unread = (await client.get("/api/v1/notifications?unread=true", headers=api)).json()
        assert unread["total"] == 22
        done = await page.post("/notifications/read-all", data={"csrf_token": csrf(page)})
        assert done.status_code == 303 and done.headers["location"] == "/notifications?done=notifications_all_read"
        html = (await page.get(done.headers["location"])).text
        assert "全部消息已标为已读。" in html and 'class="badge"' not in html.split("</header>")[0]
        assert (await client.get("/api/v1/notifications?unread=true", headers=api)).json()["total"] == 0
    finally:
        await page.aclose()


async def test_preferences_page_and_api(app, client, factory):
    me = await make_user(factory, "provider", "云南恒信工程咨询有限公司", "hengxin")
    page = await browser(app, "hengxin")
    try:
        form = (await page.get("/notifications/preferences")).text
        assert 'value="bidding.new_purchase"' in form and "通知设置" in form
        # a language that does not exist: refused, naming the field
        bad = await page.post("/notifications/preferences", data={"csrf_token": csrf(page), "lang": "fr"})
        assert bad.status_code == 422 and 'id="err-lang"' in bad.text
        # English, e-mail only for the results (an unchecked box is off), the subscription off
        saved = await page.post(
            "/notifications/preferences",
            data={"csrf_token": csrf(page), "lang": "en", "email": ["bidding.won", "bidding.not_won"]},
        )
        assert saved.status_code == 303
    finally:
        await page.aclose()
    api = await login(client, "hengxin")
    prefs = (await client.get("/api/v1/me/notification-preferences", headers=api)).json()
    by_kind = {k["kind"]: k for k in prefs["kinds"]}
    assert prefs["lang"] == "en"
    assert by_kind["bidding.won"]["email"] and not by_kind["listings.registration_approved"]["email"]
    assert by_kind["bidding.new_purchase"]["enabled"] is False
    assert_problem(
        await client.put("/api/v1/me/notification-preferences", headers=api, json={"lang": "de"}), 422, "lang"
    )
    assert_problem(
        await client.put("/api/v1/me/notification-preferences", headers=api, json={"kinds": [{"kind": "nope"}]}),
        422,
        "kinds",
    )
    # what the choices do when something is sent
    await _queue(factory, me, 1)
    async with factory() as session:
        await notify.send(session, kind="bidding.new_purchase", params={"ref": "CG-1"}, to_user_ids=[me.id])
        await session.commit()
        rows = list(await session.scalars(select(Notification).where(Notification.user_id == me.id)))
    assert [(r.kind, r.email_status) for r in rows] == [("listings.registration_approved", EmailStatus.off)]
    item = (await client.get("/api/v1/notifications", headers=api, params={"lang": "en"})).json()["items"][0]
    assert item["subject"] == "Your registration is approved"
