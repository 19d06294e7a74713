"""A purchase from registration to payment, each party finding its messages: in its inbox
(API and page) and by e-mail over a real SMTP server, in Chinese, or in English for the firm that
chose it; each e-mail exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from market import clock, worker
from market.clock import LOCAL_TZ
from market.identity.models import Organization
from tests.integration.helpers import account, browser, csrf
from tests.integration.listings_helpers import ITEM, make_uscc, post_provider, registration
from tests.integration.smtp_server import SmtpServer

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fast(settings, smtp):
    return settings.with_(accelerator=86400, smtp_url=smtp.url)


@pytest.fixture
def fast_app(fast, engine):
    from market.app import create_app

    return create_app(fast, engine=engine)


@pytest.fixture
async def fast_client(fast_app):
    transport = httpx.ASGITransport(app=fast_app, client=("203.0.113.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


async def _login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    body = await _ok(
        await client.post("/api/v1/auth/login", json={"username": username, "password": "Secret-2026-pass"})
    )
    client.cookies.clear()
    return {"Authorization": f"Bearer {body['token']}"}


async def _kinds(c: httpx.AsyncClient, headers: dict[str, str]) -> Counter[str]:
    body = await _ok(await c.get("/api/v1/notifications?limit=200", headers=headers))
    return Counter(item["kind"] for item in body["items"])


async def test_each_party_gets_its_messages_by_email_in_its_language(fast_app, fast_client, factory, fast, smtp):
    c = fast_client
    clock.freeze(datetime(2026, 12, 1, 9, 0, tzinfo=LOCAL_TZ))
    admin = await account(c, factory, "admin", "ops")
    async with factory() as session:  # the operator's address
        await session.execute(
            update(Organization).where(Organization.kind == "operator").values(email="ops@gov.example")
        )
        await session.commit()
    await _ok(await c.post("/api/v1/catalog", headers=admin, json={**ITEM, "time_limit_days": 10}), 201)

    owner_reg = {**registration("jtj", name="云岭县交通运输局", uscc=make_uscc("jtj-owner")), "org_type": "government"}
    owner_id = (await _ok(await c.post("/api/v1/owners", json=owner_reg), 201))["id"]
    await _ok(await c.post(f"/api/v1/admin/organizations/{owner_id}/approve", headers=admin))
    owner = await _login(c, "jtj")
    firms = {}
    for n, name in enumerate(("hengxin", "boyuan", "dianzhong")):
        org_id = (await _ok(await post_provider(c, registration(name)), 201))["id"]
        await _ok(await c.post(f"/api/v1/admin/organizations/{org_id}/approve", headers=admin))
        headers = await _login(c, name)
        q = await _ok(
            await c.post(
                f"/api/v1/providers/{org_id}/qualifications",
                headers=headers,
                json={
                    "catalog_codes": [ITEM["code"]],
                    "name": "测绘资质证书",
                    "grade": "乙级",
                    "certificate_no": f"乙测资字{n + 5300}",
                    "issuer": "云南省自然资源厅",
                    "valid_until": "2029-12-31",
                },
            ),
            201,
        )
        await _ok(await c.post(f"/api/v1/admin/qualifications/{q['id']}/approve", headers=admin))
        firms[org_id] = (name, headers)
    # one firm reads English
    boyuan = next(h for name, h in firms.values() if name == "boyuan")
    prefs = await _ok(await c.put("/api/v1/me/notification-preferences", headers=boyuan, json={"lang": "en"}))
    assert prefs["lang"] == "en" and any(k["kind"] == "bidding.won" for k in prefs["kinds"])
    # one turns the new-purchase subscription off
    hengxin = next(h for name, h in firms.values() if name == "hengxin")
    off = {"kinds": [{"kind": "bidding.new_purchase", "enabled": False}]}
    prefs = await _ok(await c.put("/api/v1/me/notification-preferences", headers=hengxin, json=off))
    assert next(k for k in prefs["kinds"] if k["kind"] == "bidding.new_purchase")["enabled"] is False

    deadline = clock.now() + timedelta(seconds=30)
    created = await _ok(
        await c.post(
            "/api/v1/purchases",
            headers=owner,
            json={
                "title": "滨河路建设工程规划放线测量",
                "catalog_code": ITEM["code"],
                "description": "对滨河路新建道路工程进行规划放线测量，提交放线测量成果报告。",
                "budget_cap": "18000",
                "funding": "fiscal",
                "method": "random",
                "bid_deadline": deadline.isoformat(),
                "service_days": 8,
            },
        ),
        201,
    )
    pid = created["id"]
    ref = (await _ok(await c.post(f"/api/v1/purchases/{pid}/publish", headers=owner)))["ref"]
    for i, (_name, headers) in enumerate(firms.values()):
        await _ok(
            await c.post(
                f"/api/v1/purchases/{pid}/bids",
                headers=headers,
                json={"price": f"{16000 + i * 500}", "service_days": 8},
            ),
            201,
        )
    clock.advance(timedelta(seconds=29.5))  # one (accelerated) working day before the deadline
    await worker.run_once(factory, fast)
    await worker.run_once(factory, fast)  # reminded once
    clock.advance(timedelta(seconds=1.5))
    await worker.run_once(factory, fast)
    result = await _ok(await c.post(f"/api/v1/purchases/{pid}/select", headers=owner, json={}))
    winner_org = result["winner_provider_id"]
    winner_name, winner = firms[winner_org]
    clock.advance(timedelta(seconds=4))
    await worker.run_once(factory, fast)
    purchase = await _ok(await c.get(f"/api/v1/purchases/{pid}"))
    contract_url = f"/api/v1/contracts/{purchase['contract_id']}"
    await _ok(await c.post(f"{contract_url}/sign", headers=owner))
    await _ok(await c.post(f"{contract_url}/sign", headers=winner))
    clock.advance(timedelta(seconds=2))
    await _ok(
        await c.post(
            f"{contract_url}/deliveries", headers=winner, files={"files": ("成果报告.pdf", PDF, "application/pdf")}
        ),
        201,
    )
    await _ok(await c.post(f"{contract_url}/accept", headers=owner))
    invoice = await _ok(await c.post(f"{contract_url}/invoices", headers=winner, json={"amount": result["price"]}), 201)
    await _ok(
        await c.post(
            f"/api/v1/invoices/{invoice['id']}/payments",
            headers=owner,
            json={"amount": result["price"], "paid_on": clock.today_local().isoformat(), "reference": "YL-GK-0001"},
        ),
        201,
    )
    while any((await worker.run_once(factory, fast)).values()):
        pass

    # the inboxes
    assert await _kinds(c, admin) == Counter(
        {"listings.registration_to_review": 4, "listings.qualification_to_review": 3}
    )
    assert await _kinds(c, owner) == Counter(
        {
            "listings.registration_approved": 1,
            "bidding.bids_ready": 1,
            "bidding.awarded_owner": 1,
            "contracts.to_sign_owner": 1,
            "contracts.delivery_submitted": 1,
            "invoices.issued": 1,
        }
    )
    for org_id, (name, headers) in firms.items():
        common = {
            "listings.registration_approved": 1,
            "listings.qualification_approved": 1,
            "bidding.deadline_tomorrow": 1,
            "bidding.result_published": 1,  # while it may object
        }
        if name != "hengxin":  # who turned the subscription off
            common["bidding.new_purchase"] = 1
        if org_id == winner_org:
            expected = {
                **common,
                "bidding.won": 1,
                "contracts.to_sign": 1,
                "contracts.delivery_accepted": 1,
                "invoices.payment_recorded": 1,
            }
        else:
            expected = {**common, "bidding.not_won": 1}
        assert await _kinds(c, headers) == Counter(expected), name

    # the e-mails: each once, in the recipient's language, with the link
    ids = [m["X-Market-Notification"] for m in smtp.inbox.messages]
    inboxes = [admin, owner, *(h for _n, h in firms.values())]
    assert len(ids) == len(set(ids)) == sum([sum((await _kinds(c, h)).values()) for h in inboxes])
    assert len(smtp.inbox.to("ops@gov.example")) == 7
    owner_mail = {m["Subject"] for m in smtp.inbox.to("jtj@firm.example")}
    assert f"{ref} 已成交" in owner_mail
    assert any(s.startswith("合同") and s.endswith("待您签署") for s in owner_mail)
    winner_mail = smtp.inbox.to(f"{winner_name}@firm.example")
    if winner_name != "boyuan":
        payment = next(m for m in winner_mail if m["Subject"] == f"发票 {invoice['number']} 已登记付款")
        assert f"{fast.base_url}/workspace/invoices/{invoice['id']}" in payment.get_content()
    english = {m["Subject"] for m in smtp.inbox.to("boyuan@firm.example")}
    assert "Your registration is approved" in english
    assert (f"You won {ref}" in english) == (winner_name == "boyuan")
    assert (f"Result of {ref}: not selected" in english) == (winner_name != "boyuan")
    chinese = {m["Subject"] for m in smtp.inbox.to("hengxin@firm.example")}
    assert "注册已通过审核" in chinese

    # the winner's inbox page and header count; reading there and through the API
    page = await browser(fast_app, winner_name)
    try:
        unread = sum((await _kinds(c, winner)).values())
        html = (await page.get("/notifications")).text
        assert '<span class="badge"' in html and f">{unread}</span>" in html
        items = (await _ok(await c.get("/api/v1/notifications", headers=winner)))["items"]
        first = items[0]["id"]
        read = await page.post(f"/notifications/{first}/read", data={"csrf_token": csrf(page)})
        assert read.status_code == 303 and read.headers["location"] == items[0]["link"]
        # nobody else reads or marks it
        assert (await c.post(f"/api/v1/notifications/{first}/read", headers=owner)).status_code == 404
        marked = await _ok(await c.post("/api/v1/notifications/read-all", headers=winner))
        assert marked["marked"] == len(items) - 1
        html = (await page.get("/notifications")).text
        assert 'class="badge"' not in html.split("</header>")[0]
    finally:
        await page.aclose()
