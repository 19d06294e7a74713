"""The whole lifecycle through the public API, as black-box clients see it (SPEC §4: with
MARKET_ACCELERATOR=86400 a working day lasts one second), the worker applying the time
transitions: registration and review, catalog, purchase, sealed bids, the deadline, the draw
(recomputed here with hashlib only), publicity, award, contract, signatures, delivery,
acceptance, rating, invoice, payment, the document check and the audit chain."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import httpx
import pytest

from market import clock, worker
from market.clock import LOCAL_TZ
from tests.integration.helpers import account
from tests.integration.listings_helpers import ITEM, make_uscc, post_provider, registration

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"


@pytest.fixture
async def fast_client(settings, engine):
    from market.app import create_app

    fast = settings.with_(accelerator=86400)
    app = create_app(fast, engine=engine)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
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


async def test_a_purchase_from_registration_to_payment(fast_client, factory, settings):
    c = fast_client
    clock.freeze(datetime(2026, 12, 1, 9, 0, tzinfo=LOCAL_TZ))
    admin = await account(c, factory, "admin", "ops")
    finance = await account(c, factory, "finance", "auditor")

    # the operator keeps the catalog
    await _ok(await c.post("/api/v1/catalog", headers=admin, json={**ITEM, "time_limit_days": 10}), 201)

    # an owner and three firms register, the operator approves them and the firms' qualifications
    owner_reg = {**registration("jtj", name="云岭县交通运输局", uscc=make_uscc("jtj-owner")), "org_type": "government"}
    owner_id = (await _ok(await c.post("/api/v1/owners", json=owner_reg), 201))["id"]
    await _ok(await c.post(f"/api/v1/admin/organizations/{owner_id}/approve", headers=admin))
    owner = await _login(c, "jtj")
    firms = []
    for name in ("hengxin", "boyuan", "dianzhong"):
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
                    "certificate_no": f"乙测资字{len(firms) + 5300}",
                    "issuer": "云南省自然资源厅",
                    "valid_until": "2029-12-31",
                },
            ),
            201,
        )
        await _ok(await c.post(f"/api/v1/admin/qualifications/{q['id']}/approve", headers=admin))
        firms.append((org_id, headers))

    # the owner publishes a purchase decided by a random draw
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
    published = await _ok(await c.post(f"/api/v1/purchases/{pid}/publish", headers=owner))
    commitment = published["draw_commitment"]

    # sealed bids: receipts, and nothing to count for anyone else
    receipts = []
    for i, (_org, headers) in enumerate(firms):
        receipts.append(
            await _ok(
                await c.post(
                    f"/api/v1/purchases/{pid}/bids",
                    headers=headers,
                    json={"price": f"{16000 + i * 500}", "service_days": 8},
                ),
                201,
            )
        )
    assert (await c.get(f"/api/v1/purchases/{pid}/bids", headers=owner)).status_code in (403, 404, 409, 422)

    # the deadline passes; the worker closes the purchase; a late bid is refused
    clock.advance(timedelta(seconds=31))
    late = await c.post(
        f"/api/v1/purchases/{pid}/bids", headers=firms[0][1], json={"price": "15000", "service_days": 8}
    )
    assert late.status_code in (409, 422)
    await worker.run_once(factory, settings)
    assert (await _ok(await c.get(f"/api/v1/purchases/{pid}")))["status"] == "evaluating"
    opened = await _ok(await c.get(f"/api/v1/purchases/{pid}/bids", headers=finance))
    assert sorted(b["digest"] for b in opened["items"]) == sorted(r["digest"] for r in receipts)

    # the draw, recomputed from the published result with hashlib only
    result = await _ok(await c.post(f"/api/v1/purchases/{pid}/select", headers=owner, json={}))
    draw = result["draw"]
    assert draw["commitment"] == commitment == hashlib.sha256(bytes.fromhex(draw["secret"])).hexdigest()
    ref = published["ref"]
    seed = hashlib.sha256(f"{draw['secret']}:{ref}:{','.join(draw['candidates'])}".encode()).hexdigest()
    assert draw["seed"] == seed and draw["index"] == int(seed, 16) % len(draw["candidates"])
    assert draw["candidates"] == sorted(r["digest"] for r in receipts)
    winner_digest = draw["candidates"][draw["index"]]
    winner_org, winner = next(
        (org, h) for (org, h), r in zip(firms, receipts, strict=True) if r["digest"] == winner_digest
    )
    assert result["winner_provider_id"] == winner_org

    # publicity ends; the award drafts the contract
    clock.advance(timedelta(seconds=4))
    await worker.run_once(factory, settings)
    purchase = await _ok(await c.get(f"/api/v1/purchases/{pid}"))
    assert purchase["status"] == "awarded" and purchase["contract_id"]
    contract_url = f"/api/v1/contracts/{purchase['contract_id']}"
    contract = await _ok(await c.get(contract_url, headers=owner))
    assert contract["amount"] == result["price"] and contract["purchase_ref"] == ref

    # both sign: the purchase is contracted, the contract frozen
    await _ok(await c.post(f"{contract_url}/sign", headers=owner))
    signed = await _ok(await c.post(f"{contract_url}/sign", headers=winner))
    assert signed["status"] == "signed"
    assert (await _ok(await c.get(f"/api/v1/purchases/{pid}")))["status"] == "contracted"

    # delivery, acceptance, rating
    clock.advance(timedelta(seconds=2))
    await _ok(
        await c.post(
            f"{contract_url}/deliveries",
            headers=winner,
            files={"files": ("放线测量成果报告.pdf", PDF, "application/pdf")},
        ),
        201,
    )
    await _ok(await c.post(f"{contract_url}/accept", headers=owner))
    await _ok(
        await c.post(
            f"{contract_url}/ratings", headers=owner, json={"quality": 5, "timeliness": 4, "attitude": 5, "price": 4}
        ),
        201,
    )

    # the invoice for the whole amount, and its payment
    invoice = await _ok(await c.post(f"{contract_url}/invoices", headers=winner, json={"amount": result["price"]}), 201)
    await _ok(
        await c.post(
            f"/api/v1/invoices/{invoice['id']}/payments",
            headers=owner,
            json={"amount": result["price"], "paid_on": clock.today_local().isoformat(), "reference": "YL-GK-0001"},
        ),
        201,
    )
    done = await _ok(await c.get(contract_url, headers=finance))
    assert done["status"] == "accepted" and done["paid_total"] == result["price"]

    # the contract's PDF: the same bytes every time, and anyone can check its hash
    first = await c.get(f"{contract_url}/pdf", headers=owner)
    second = await c.get(f"{contract_url}/pdf", headers=winner)
    assert first.status_code == 200 and first.content == second.content and first.content.startswith(b"%PDF")
    sha = hashlib.sha256(first.content).hexdigest()
    public = await _ok(await c.get(f"/api/v1/documents/{sha}"))
    assert (public["kind"], public["number"], public["sha256"]) == ("contract", contract["number"], sha)

    # the firm's public page shows its rating; the audit chain holds
    card = await _ok(await c.get(f"/api/v1/providers/{winner_org}"))
    assert card["rating"]["count"] == 1
    chain = await _ok(await c.get("/api/v1/audit/verify", headers=finance))
    assert chain["ok"] is True and chain["events"] > 30
