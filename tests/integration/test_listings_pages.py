"""The pages of listings work as forms without JavaScript: registration, profile, qualifications,
the review queue and the catalog editor; each guarded."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import timedelta

from sqlalchemy import select

from listings.models import BusinessLicence, CatalogItem, Qualification
from market import clock
from market.identity.models import Organization
from tests.integration.helpers import make_user
from tests.integration.listings_helpers import (
    ITEM,
    browser,
    licence_file,
    make_item,
    make_uscc,
    new_client,
    pdf_bytes,
    register_provider,
    wrong_check_digit,
)


def form(csrf: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": csrf, **fields}


def provider_form(csrf: str, username: str, **changes: str) -> dict[str, str]:
    return (
        form(
            csrf,
            name="云南山水环境监测有限公司",
            uscc=make_uscc(username),
            legal_rep="岩光",
            address="云岭县城关镇滨河路3号",
            phone="0877-8213350",
            email="shanshui@env.example",
            username=username,
            display_name="岩光",
            password="Secret-2026-pass",
            password2="Secret-2026-pass",
            commitment_accepted="1",
        )
        | changes
    )


async def test_provider_registers_through_the_form_and_sees_its_profile(client, factory):
    page = await client.get("/register/provider")
    assert page.status_code == 200 and "人财物脱钩" in page.text and 'name="commitment_accepted"' in page.text
    csrf = await browser(client)
    no_letter = provider_form(csrf, "shanshui")
    no_letter.pop("commitment_accepted")
    r = await client.post("/register/provider", data=no_letter)
    assert r.status_code == 422 and "请阅读并同意承诺书" in r.text and 'value="云南山水环境监测有限公司"' in r.text
    r = await client.post(
        "/register/provider", data=provider_form(csrf, "shanshui", uscc=wrong_check_digit(make_uscc("s")))
    )
    assert r.status_code == 422 and "统一社会信用代码" in r.text and 'aria-invalid="true"' in r.text
    r = await client.post("/register/provider", data=provider_form(csrf, "shanshui", password2="other123"))
    assert r.status_code == 422 and "两次输入的密码不一致" in r.text
    async with factory() as session:
        assert await session.scalar(select(Organization).where(Organization.name == "云南山水环境监测有限公司")) is None
    r = await client.post("/register/provider", data=provider_form(csrf, "shanshui"), files=licence_file())
    assert r.status_code == 303 and r.headers["location"] == "/workspace/profile?done=registered"
    profile = await client.get(r.headers["location"])
    assert profile.status_code == 200 and "注册成功" in profile.text and "待审核" in profile.text
    workspace = await client.get("/workspace")
    assert "/workspace/qualifications" in workspace.text and "/workspace/profile" in workspace.text


async def test_owner_registers_through_the_form(client):
    csrf = await browser(client)
    data = provider_form(csrf, "jtj", name="云岭县交通运输局", org_type="government")
    r = await client.post("/register/owner", data=data)
    assert r.status_code == 303, r.text
    assert "云岭县交通运输局" in (await client.get("/workspace/profile")).text
    assert (await client.get("/workspace/qualifications")).status_code == 403


async def test_rejected_registrant_corrects_and_resubmits_on_its_profile_page(app, client, factory):
    org_id, _me = await register_provider(client, "tongda")
    await make_user(factory, "admin", "云岭县政务服务管理局", "ops")
    async with new_client(app) as admin:
        admin_csrf = await browser(admin, "ops")
        queue = await admin.get("/admin/reviews")
        assert queue.status_code == 200 and f"/admin/organizations/{org_id}" in queue.text
        r = await admin.post(f"/admin/organizations/{org_id}/reject", data=form(admin_csrf, reason="缺少测绘资质证明"))
        assert r.status_code == 303
    csrf = await browser(client, "tongda")
    page = await client.get("/workspace/profile")
    assert "缺少测绘资质证明" in page.text and "/workspace/profile/resubmit" in page.text
    r = await client.post(
        "/workspace/profile",
        data=form(
            csrf,
            name="云岭县通达测绘有限公司",
            uscc=make_uscc("td2"),
            legal_rep="施通达",
            address="云岭县",
            phone="0877-8212209",
            email="td@example.com",
        ),
    )
    assert r.status_code == 303
    assert "云岭县通达测绘有限公司" in (await client.get("/workspace/profile")).text
    r = await client.post("/workspace/profile/resubmit", data=form(csrf))
    assert r.status_code == 303
    assert "待审核" in (await client.get("/workspace/profile")).text
    again = await client.post("/workspace/profile/resubmit", data=form(csrf))  # pending: nothing to resubmit
    assert again.status_code == 422 and "只有被驳回的注册才能重新提交" in again.text
    assert 'name="legal_rep"' in again.text  # the profile page itself, not an error page


async def test_provider_adds_a_qualification_with_its_scan_and_a_practitioner(client, factory):
    await make_item(factory)
    _org_id, _me = await register_provider(client, "hengxin")
    csrf = await browser(client, "hengxin")
    page = await client.get("/workspace/qualifications")
    assert page.status_code == 200 and "YLZJ-005" in page.text
    fields = form(
        csrf,
        name="测绘资质证书",
        grade="乙级",
        certificate_no="乙测资字5300999",
        issuer="云南省自然资源厅",
        valid_until="2030-01-31",
        catalog_codes="YLZJ-005",
    )
    forged = await client.post(
        "/workspace/qualifications",
        data=fields,
        files={"document": ("scan.pdf", b"<html>not a pdf</html>", "application/pdf")},
    )
    assert forged.status_code == 415 and "PDF" in forged.text and 'value="乙测资字5300999"' in forged.text
    r = await client.post(
        "/workspace/qualifications", data=fields, files={"document": ("扫描件.pdf", pdf_bytes(), "application/pdf")}
    )
    assert r.status_code == 303, r.text
    page = await client.get("/workspace/qualifications")
    assert "乙测资字5300999" in page.text and "待审核" in page.text and "/api/v1/files/" in page.text
    r = await client.post(
        "/workspace/practitioners",
        data=form(csrf, name="普文斌", certificate="注册测绘师", id_number="530402198503120001"),
    )
    assert r.status_code == 422 and "居民身份证" in r.text
    r = await client.post(
        "/workspace/practitioners",
        data=form(csrf, name="普文斌", certificate="注册测绘师", id_number="53040219850312000X"),
    )
    assert r.status_code == 303
    page = await client.get("/workspace/qualifications")
    assert "530402********000X" in page.text and "19850312" not in page.text


async def test_admin_reviews_registrations_and_qualifications_through_the_pages(app, client, factory):
    await make_item(factory)
    org_id, me = await register_provider(client, "boyuan")
    q = await client.post(
        f"/api/v1/providers/{org_id}/qualifications",
        headers=me,
        json={
            "catalog_codes": ["YLZJ-005"],
            "name": "测绘资质证书",
            "certificate_no": "甲测资字01",
            "issuer": "自然资源部",
            "valid_until": "2031-01-01",
        },
    )
    await make_user(factory, "admin", "云岭县政务服务管理局", "ops")
    async with new_client(app) as admin:
        csrf = await browser(admin, "ops")
        queue = await admin.get("/admin/reviews")
        assert "甲测资字01" in queue.text and "boyuan" in queue.text
        r = await admin.post(f"/admin/qualifications/{q.json()['id']}/approve", data=form(csrf, back="/admin/reviews"))
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/reviews")
        org_page = await admin.get(f"/admin/organizations/{org_id}")
        assert org_page.status_code == 200 and "通过注册" in org_page.text
        r = await admin.post(f"/admin/organizations/{org_id}/approve", data=form(csrf))
        assert r.status_code == 303
        until = (clock.today_local() + timedelta(days=7)).isoformat()
        missing = await admin.post(f"/admin/organizations/{org_id}/suspend", data=form(csrf, reason="", until=until))
        assert missing.status_code == 422 and "请填写理由" in missing.text
        r = await admin.post(f"/admin/organizations/{org_id}/suspend", data=form(csrf, reason="逾期交付", until=until))
        assert r.status_code == 303
        org_page = await admin.get(f"/admin/organizations/{org_id}")
        assert "逾期交付" in org_page.text and 'class="badge status-suspended"' in org_page.text
        found = await admin.get("/admin/organizations", params={"q": "boyuan", "status": "suspended"})
        assert found.status_code == 200 and f"/admin/organizations/{org_id}" in found.text
        none = await admin.get("/admin/organizations", params={"q": "boyuan", "status": "pending"})
        assert f"/admin/organizations/{org_id}" not in none.text
    async with new_client(app, ip="198.51.100.10") as provider:
        await browser(provider, "boyuan")
        assert (await provider.get("/admin/reviews")).status_code == 403
        assert (await provider.get("/admin/organizations")).status_code == 403
        assert "逾期交付" in (await provider.get("/workspace/profile")).text


async def test_catalog_editor_pages(app, client, factory):
    await make_user(factory, "admin", "云岭县政务服务管理局", "ops")
    csrf = await browser(client, "ops")
    assert "/admin/reviews" in (await client.get("/admin")).text
    assert (await client.get("/admin/catalog")).status_code == 200
    assert (await client.get("/admin/catalog/new")).status_code == 200
    fields = {k: str(v) for k, v in ITEM.items() if k != "in_services_catalog"}
    bad = await client.post(
        "/admin/catalog/new", data=form(csrf, **{**fields, "fee_type": "government_priced", "fee_cap": ""})
    )
    assert bad.status_code == 422 and "收费上限" in bad.text
    r = await client.post("/admin/catalog/new", data=form(csrf, **fields, note="新增"))
    assert r.status_code == 303 and r.headers["location"].startswith("/catalog/YLZJ-005")
    edit = await client.get("/admin/catalog/YLZJ-005/edit")
    assert 'name="version" value="1"' in edit.text
    r = await client.post(
        "/admin/catalog/YLZJ-005/edit", data=form(csrf, **{**fields, "time_limit_days": "6", "version": "1"})
    )
    assert r.status_code == 303 and "item_saved" in r.headers["location"]
    stale = await client.post(
        "/admin/catalog/YLZJ-005/edit", data=form(csrf, **{**fields, "time_limit_days": "8", "version": "1"})
    )
    assert stale.status_code == 409 and "他人已先修改" in stale.text
    async with factory() as session:
        item = await session.scalar(select(CatalogItem).where(CatalogItem.code == "YLZJ-005"))
        assert item.time_limit_days == 6 and item.version == 2
    # an emptied fee cap is no cap (the item is not government-priced)
    r = await client.post(
        "/admin/catalog/YLZJ-005/edit",
        data=form(csrf, **{**fields, "time_limit_days": "6", "fee_cap": "", "version": "2"}),
    )
    assert r.status_code == 303 and "item_saved" in r.headers["location"]
    assert (await client.get("/api/v1/catalog/YLZJ-005")).json()["fee_cap"] is None
    # the import redirects to what it did
    export = (await client.get("/api/v1/catalog/export.csv")).content
    r = await client.post("/admin/catalog/import", data=form(csrf), files={"file": ("catalog.csv", export, "text/csv")})
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/catalog?import=")
    done = await client.get(r.headers["location"])
    assert "导入完成：新增 0 项，修改 0 项，1 项未变。" in done.text and "文件已导入。" in done.text
    # forms need the CSRF token
    assert (await client.post("/admin/catalog/new", data=fields)).status_code == 403


async def test_pages_are_guarded(app, client, factory):
    r = await client.get("/workspace/profile")
    assert r.status_code == 302 and r.headers["location"] == "/login?next=/workspace/profile"
    r = await client.get("/admin/catalog")
    assert r.status_code == 302 and r.headers["location"] == "/login?next=/admin/catalog"
    await make_user(factory, "owner", "云岭县教育体育局", "jyj")
    await browser(client, "jyj")
    assert (await client.get("/admin/catalog")).status_code == 403
    assert (await client.get("/workspace/qualifications")).status_code == 403
    assert (await client.get("/workspace/profile")).status_code == 200


# --- refused forms keep what was typed and the files chosen --------------------------------------


def held_token(page_text: str, name: str) -> str:
    found = re.search(rf'name="{name}_held" value="([^"]+)"', page_text)
    assert found, f"no held {name} on the page"
    return html.unescape(found.group(1))


async def test_a_refused_registration_names_every_problem_and_keeps_the_licence(client, factory):
    csrf = await browser(client)
    licence = pdf_bytes(b"licence of shanshui")
    data = provider_form(
        csrf, "shanshui", uscc=wrong_check_digit(make_uscc("s")), phone="8213350", password2="other123"
    )
    data.pop("commitment_accepted")
    r = await client.post(
        "/register/provider", data=data, files={"business_licence": ("营业执照.pdf", licence, "application/pdf")}
    )
    assert r.status_code == 422
    for field in ("uscc", "phone", "password2", "commitment_accepted"):
        assert f'id="err-{field}"' in r.text, field
    # what was typed stays, passwords excepted; the licence is kept, not asked for again
    assert 'value="云南山水环境监测有限公司"' in r.text and 'value="8213350"' in r.text
    assert "Secret-2026-pass" not in r.text and "other123" not in r.text
    assert "营业执照.pdf" in r.text
    token = held_token(r.text, "business_licence")
    fixed = provider_form(csrf, "shanshui", business_licence_held=token)
    r = await client.post("/register/provider", data=fixed)
    assert r.status_code == 303, r.text
    async with factory() as session:
        org = await session.scalar(select(Organization).where(Organization.name == "云南山水环境监测有限公司"))
        kept = await session.scalar(select(BusinessLicence).where(BusinessLicence.org_id == org.id))
        assert kept.sha256 == hashlib.sha256(licence).hexdigest() and kept.filename == "营业执照.pdf"
    # a provider without a licence is told so, with the other problems
    csrf = await browser(client)
    r = await client.post("/register/provider", data=provider_form(csrf, "nolicence", phone="123"))
    assert r.status_code == 422 and 'id="err-business_licence"' in r.text and 'id="err-phone"' in r.text
    # a token that is not ours finds nothing
    forged = provider_form(csrf, "forger", business_licence_held=token[:-4] + "0000")
    r = await client.post("/register/provider", data=forged)
    assert r.status_code == 422 and 'id="err-business_licence"' in r.text


async def test_a_refused_qualification_keeps_its_scan(client, factory):
    await make_item(factory)
    await register_provider(client, "scanner")
    csrf = await browser(client, "scanner")
    scan = pdf_bytes(b"the certificate")
    fields = form(
        csrf,
        name="测绘资质证书",
        certificate_no="乙测资字5300777",
        issuer="云南省自然资源厅",
        valid_until="2001-01-31",  # expired: refused
        catalog_codes="YLZJ-005",
    )
    r = await client.post(
        "/workspace/qualifications", data=fields, files={"document": ("证书.pdf", scan, "application/pdf")}
    )
    assert r.status_code == 422 and 'id="err-valid_until"' in r.text and "证书.pdf" in r.text
    token = held_token(r.text, "document")
    r = await client.post(
        "/workspace/qualifications", data={**fields, "valid_until": "2030-01-31", "document_held": token}
    )
    assert r.status_code == 303, r.text
    async with factory() as session:
        q = await session.scalar(select(Qualification).where(Qualification.certificate_no == "乙测资字5300777"))
        assert q.document_sha256 == hashlib.sha256(scan).hexdigest()
    # the change form keeps it too
    edit = f"/workspace/qualifications/{q.id}"
    other = pdf_bytes(b"a newer scan")
    r = await client.post(
        edit, data={**fields, "certificate_no": ""}, files={"document": ("新证书.pdf", other, "application/pdf")}
    )
    assert r.status_code == 422 and "新证书.pdf" in r.text
    r = await client.post(
        edit,
        data={**fields, "valid_until": "2031-01-31", "document_held": held_token(r.text, "document")},
    )
    assert r.status_code == 303
    async with factory() as session:
        q = await session.get(Qualification, q.id)
        assert q.document_sha256 == hashlib.sha256(other).hexdigest()


async def test_adding_a_practitioner_says_so_where_the_page_opens(client):
    await register_provider(client, "staffed")
    csrf = await browser(client, "staffed")
    r = await client.post(
        "/workspace/practitioners",
        data=form(csrf, name="普文斌", certificate="注册测绘师", id_number="53040219850312000X"),
    )
    assert r.status_code == 303 and r.headers["location"].endswith("#practitioners")
    page = (await client.get(r.headers["location"].split("#")[0])).text
    notice = page.find("从业人员已添加")
    assert notice > page.find('id="practitioners"') > 0  # in the section the page opens at
    assert page.count("从业人员已添加") == 1
