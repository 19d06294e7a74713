"""Qualifications and practitioners, the public directory, and qualified() against a real database."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, text

from listings.models import Practitioner
from listings.rules import id_number_hash
from listings.services import qualified
from market import clock
from market.audit.models import AuditEvent
from tests.integration.helpers import account, assert_problem
from tests.integration.listings_helpers import make_item, qualification, register_provider

ID_NUMBER = "53040219850312000X"


async def _qualified(factory, provider_id: str, code: str, days: int = 0) -> bool:
    async with factory() as session:
        return await qualified(session, uuid.UUID(provider_id), code, clock.today_local() + timedelta(days=days))


async def _directory(client, **params) -> list[str]:
    r = await client.get("/api/v1/providers", params=params)
    assert r.status_code == 200
    return [p["id"] for p in r.json()["items"]]


async def test_pending_provider_is_not_public_until_approved_and_its_qualification_too(client, factory):
    await make_item(factory)
    await make_item(factory, code="YLZJ-006", name="房产测绘")
    org_id, me = await register_provider(client, "hengxin", name="云岭县恒信测绘有限公司")
    admin = await account(client, factory, "admin", "ops")
    # a pending provider may list its qualifications (its own profile)…
    r = await client.post(f"/api/v1/providers/{org_id}/qualifications", headers=me, json=qualification("YLZJ-005"))
    assert r.status_code == 201, r.text
    q = r.json()
    assert q["status"] == "pending" and [i["code"] for i in q["catalog_items"]] == ["YLZJ-005"]
    # …but neither it nor its qualifications are public
    assert org_id not in await _directory(client)
    assert org_id not in await _directory(client, catalog_code="YLZJ-005")
    assert_problem(await client.get(f"/api/v1/providers/{org_id}"), 404)
    assert (await client.get(f"/providers/{org_id}")).status_code == 404
    assert "恒信" not in (await client.get("/providers")).text
    assert_problem(await client.get(f"/api/v1/providers/{org_id}/qualifications"), 401)
    other = await account(client, factory, "provider", "other")
    assert_problem(await client.get(f"/api/v1/providers/{org_id}/qualifications", headers=other), 403)
    assert_problem(await client.get(f"/api/v1/qualifications/{q['id']}", headers=other), 404)
    # even an approved qualification of a pending provider is not public, and does not qualify it
    await client.post(f"/api/v1/admin/qualifications/{q['id']}/approve", headers=admin)
    assert org_id not in await _directory(client, catalog_code="YLZJ-005")
    assert not await _qualified(factory, org_id, "YLZJ-005")
    # after approval it is listed with the qualification and found by its catalog item
    await client.post(f"/api/v1/admin/organizations/{org_id}/approve", headers=admin)
    assert org_id in await _directory(client)
    assert org_id in await _directory(client, catalog_code="YLZJ-005")
    assert org_id not in await _directory(client, catalog_code="YLZJ-006")
    assert org_id in await _directory(client, q="恒信")
    detail = (await client.get(f"/api/v1/providers/{org_id}")).json()
    assert detail["qualifications"][0]["certificate_no"] == "乙测资字5300123"
    assert [i["code"] for i in detail["catalog_items"]] == ["YLZJ-005"] and detail["rating"] is None
    page = await client.get(f"/providers/{org_id}")
    assert page.status_code == 200 and "乙测资字5300123" in page.text and "建设工程规划放线测量" in page.text
    assert await _qualified(factory, org_id, "YLZJ-005")
    assert not await _qualified(factory, org_id, "YLZJ-006")


async def test_rejected_provider_stays_out_of_the_directory(client, factory):
    await make_item(factory)
    org_id, me = await register_provider(client, "rejected1")
    admin = await account(client, factory, "admin", "ops")
    r = await client.post(f"/api/v1/providers/{org_id}/qualifications", headers=me, json=qualification())
    await client.post(f"/api/v1/admin/qualifications/{r.json()['id']}/approve", headers=admin)
    await client.post(f"/api/v1/admin/organizations/{org_id}/reject", headers=admin, json={"reason": "资料不实"})
    assert org_id not in await _directory(client, catalog_code="YLZJ-005")
    assert_problem(await client.get(f"/api/v1/providers/{org_id}"), 404)
    assert not await _qualified(factory, org_id, "YLZJ-005")


async def test_a_changed_qualification_goes_back_to_review(client, factory):
    await make_item(factory)
    await make_item(factory, code="YLZJ-011", name="土地勘测定界")
    org_id, me = await register_provider(client, "boyuan")
    admin = await account(client, factory, "admin", "ops")
    await client.post(f"/api/v1/admin/organizations/{org_id}/approve", headers=admin)
    q = (await client.post(f"/api/v1/providers/{org_id}/qualifications", headers=me, json=qualification())).json()
    pending = (await client.get("/api/v1/admin/qualifications", headers=admin)).json()
    assert [p["id"] for p in pending] == [q["id"]]
    assert_problem(await client.get("/api/v1/admin/qualifications", headers=me), 403)
    approved = (await client.post(f"/api/v1/admin/qualifications/{q['id']}/approve", headers=admin)).json()
    assert approved["status"] == "approved"
    assert await _qualified(factory, org_id, "YLZJ-005")
    r = await client.patch(
        f"/api/v1/qualifications/{q['id']}", headers=me, json=qualification("YLZJ-005", "YLZJ-011", grade="甲级")
    )
    assert r.status_code == 200 and r.json()["status"] == "pending" and r.json()["grade"] == "甲级"
    assert not await _qualified(factory, org_id, "YLZJ-005")
    assert org_id not in await _directory(client, catalog_code="YLZJ-011")
    assert_problem(
        await client.post(f"/api/v1/admin/qualifications/{q['id']}/reject", headers=admin, json={}), 422, "reason"
    )
    rejected = await client.post(
        f"/api/v1/admin/qualifications/{q['id']}/reject", headers=admin, json={"reason": "证书等级与扫描件不符"}
    )
    assert rejected.json()["status"] == "rejected" and rejected.json()["review_reason"] == "证书等级与扫描件不符"
    assert_problem(await client.post(f"/api/v1/admin/qualifications/{q['id']}/approve", headers=admin), 422)
    mine = (await client.get(f"/api/v1/providers/{org_id}/qualifications", headers=me)).json()
    assert mine[0]["review_reason"] == "证书等级与扫描件不符"
    # another provider can neither change nor withdraw it
    other = await account(client, factory, "provider", "other")
    assert_problem(await client.patch(f"/api/v1/qualifications/{q['id']}", headers=other, json=qualification()), 404)
    assert_problem(await client.delete(f"/api/v1/qualifications/{q['id']}", headers=other), 404)
    assert (await client.delete(f"/api/v1/qualifications/{q['id']}", headers=me)).status_code == 204
    assert (await client.get(f"/api/v1/providers/{org_id}/qualifications", headers=me)).json() == []
    async with factory() as session:
        actions = list(
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.entity_id == q["id"]).order_by(AuditEvent.seq)
            )
        )
    assert actions == [
        "qualification.submitted",
        "qualification.approved",
        "qualification.changed",
        "qualification.rejected",
        "qualification.withdrawn",
    ]


async def test_expiry_and_suspension_through_the_one_query(client, factory):
    await make_item(factory)
    org_id, me = await register_provider(client, "expiry")
    admin = await account(client, factory, "admin", "ops")
    await client.post(f"/api/v1/admin/organizations/{org_id}/approve", headers=admin)
    last_day = clock.today_local() + timedelta(days=30)
    q = await client.post(
        f"/api/v1/providers/{org_id}/qualifications", headers=me, json=qualification(valid_until=last_day.isoformat())
    )
    await client.post(f"/api/v1/admin/qualifications/{q.json()['id']}/approve", headers=admin)
    assert await _qualified(factory, org_id, "YLZJ-005", days=30)
    assert not await _qualified(factory, org_id, "YLZJ-005", days=31)
    assert not await _qualified(factory, org_id, "NO-SUCH-ITEM")
    assert not await _qualified(factory, str(uuid.uuid4()), "YLZJ-005")
    until = clock.today_local() + timedelta(days=3)
    await client.post(
        f"/api/v1/admin/organizations/{org_id}/suspend",
        headers=admin,
        json={"reason": "暂停", "until": until.isoformat()},
    )
    assert not await _qualified(factory, org_id, "YLZJ-005")
    assert not await _qualified(factory, org_id, "YLZJ-005", days=3)
    assert await _qualified(factory, org_id, "YLZJ-005", days=4)
    assert org_id not in await _directory(client)


async def test_qualification_input_is_checked(client, factory):
    await make_item(factory)
    await make_item(factory, code="YLZJ-099", name="已取消事项", status="cancelled")
    org_id, me = await register_provider(client, "checks")
    url = f"/api/v1/providers/{org_id}/qualifications"
    assert_problem(await client.post(url, headers=me, json=qualification("NOPE-1")), 422, "catalog_codes")
    assert_problem(await client.post(url, headers=me, json=qualification("YLZJ-099")), 422, "catalog_codes")
    past = (clock.today_local() - timedelta(days=1)).isoformat()
    assert_problem(await client.post(url, headers=me, json=qualification(valid_until=past)), 422, "valid_until")
    assert_problem(
        await client.post(url, headers=me, json=qualification(document_sha256="a" * 64)), 422, "document_sha256"
    )
    assert (await client.post(url, headers=me, json=qualification())).status_code == 201
    assert_problem(await client.post(url, headers=me, json=qualification()), 409, "certificate_no")
    other_id, other = await register_provider(client, "other-firm")
    assert_problem(await client.post(url, headers=other, json=qualification()), 403)
    owner = await account(client, factory, "owner", "jtj")
    assert_problem(
        await client.post(f"/api/v1/providers/{other_id}/qualifications", headers=owner, json=qualification()), 403
    )


async def test_practitioners_keep_only_a_mask_and_a_keyed_hash(client, factory, settings, database_url):
    org_id, me = await register_provider(client, "staff")
    url = f"/api/v1/providers/{org_id}/practitioners"
    r = await client.post(
        url, headers=me, json={"name": "普文斌", "certificate": "注册测绘师 0053", "id_number": ID_NUMBER}
    )
    assert r.status_code == 201, r.text
    assert r.json()["id_masked"] == "530402********000X" and "id_number" not in r.json()
    assert_problem(
        await client.post(url, headers=me, json={"name": "普文斌", "id_number": ID_NUMBER.lower()}), 409, "id_number"
    )
    assert_problem(
        await client.post(url, headers=me, json={"name": "李成", "id_number": "530402198503120310"}), 422, "id_number"
    )
    async with factory() as session:
        p = await session.scalar(select(Practitioner))
        assert p.id_hash == id_number_hash(settings.secret_key, ID_NUMBER)
        # the full number is nowhere in the database: not in any practitioner column, not in the audit trail
        rows = (await session.execute(text("SELECT * FROM practitioners"))).all()
        assert ID_NUMBER not in repr(rows) and "19850312" not in repr(rows)
        events = (await session.execute(text("SELECT data FROM audit_events"))).all()
        assert ID_NUMBER not in repr(events) and "19850312" not in repr(events)
    listed = (await client.get(url, headers=me)).json()
    assert listed == [
        {"id": listed[0]["id"], "name": "普文斌", "certificate": "注册测绘师 0053", "id_masked": "530402********000X"}
    ]
    # the same person listed by a second firm is a conflict the operator sees
    other_id, other = await register_provider(client, "staff2")
    await client.post(
        f"/api/v1/providers/{other_id}/practitioners", headers=other, json={"name": "普文斌", "id_number": ID_NUMBER}
    )
    admin = await account(client, factory, "admin", "ops")
    page = await client.get(f"/admin/organizations/{org_id}", headers=admin)
    assert page.status_code == 200 and "staff2" in page.text
    assert_problem(await client.delete(f"/api/v1/practitioners/{listed[0]['id']}", headers=other), 404)
    assert (await client.delete(f"/api/v1/practitioners/{listed[0]['id']}", headers=me)).status_code == 204


async def test_ratings_appear_only_from_a_registered_source(client, factory):
    from decimal import Decimal

    from listings import ratings

    org_id, _me = await register_provider(client, "rated")
    admin = await account(client, factory, "admin", "ops")
    await client.post(f"/api/v1/admin/organizations/{org_id}/approve", headers=admin)
    # the contracts package is the wired source: a provider nobody rated yet says so
    assert (await client.get(f"/api/v1/providers/{org_id}")).json()["rating"] is None
    assert "暂无评价" in (await client.get(f"/providers/{org_id}")).text

    async def source(_session, ids):
        return {
            i: ratings.RatingSummary(count=3, average=Decimal("4.3"), aspects={"quality": Decimal("4.5")}) for i in ids
        }

    with ratings.sources.scoped(empty=True):
        assert "暂无评价" not in (await client.get(f"/providers/{org_id}")).text  # no source: no section at all
        ratings.register_rating_source(source)
        rated = (await client.get(f"/api/v1/providers/{org_id}")).json()["rating"]
        assert rated == {"count": 3, "average": "4.3", "aspects": {"quality": "4.5"}}
        page = await client.get(f"/providers/{org_id}")
        assert "4.3" in page.text and "3 条评价" in page.text
    assert "暂无评价" in (await client.get(f"/providers/{org_id}")).text  # the wired source is back


async def test_the_directory_lists_firms_in_pinyin_order_page_by_page(client, factory):
    admin = await account(client, factory, "admin", "ops")
    # in code-point order these would come 北 张 重 长 阿; read aloud they are a, bei, chang, chong, zhang
    names = ["张记测绘有限公司", "阿拉测绘有限公司", "北斗测绘有限公司", "重庆测绘有限公司", "长江测绘有限公司"]
    for i, name in enumerate(names):
        org_id, _me = await register_provider(client, f"firm{i}", name=name)
        await client.post(f"/api/v1/admin/organizations/{org_id}/approve", headers=admin)
    in_order = ["阿拉测绘有限公司", "北斗测绘有限公司", "长江测绘有限公司", "重庆测绘有限公司", "张记测绘有限公司"]
    assert sorted(names) != in_order
    pages = []
    for offset in (0, 2, 4):
        page = (await client.get("/api/v1/providers", params={"limit": 2, "offset": offset})).json()
        assert page["total"] == 5
        pages += [p["name"] for p in page["items"]]
    assert pages == in_order  # each firm on exactly one page, in order
    html = (await client.get("/providers")).text
    assert [html.find(name) for name in in_order] == sorted(html.find(name) for name in in_order)
    found = (await client.get("/api/v1/providers", params={"q": "测绘", "limit": 3, "offset": 3})).json()
    assert [p["name"] for p in found["items"]] == in_order[3:] and found["total"] == 5
    # the operator's list of organisations too
    listed = (await client.get("/admin/organizations", params={"q": "测绘"}, headers=admin)).text
    assert [listed.find(name) for name in in_order] == sorted(listed.find(name) for name in in_order)
