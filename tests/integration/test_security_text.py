"""Invisible and text-direction characters are refused in names, titles and file names, and
amounts are ASCII digits only, through the real API and pages (issue 10, point 7)."""

from __future__ import annotations

from tests.integration.helpers import account, assert_problem
from tests.integration.listings_helpers import (
    ITEM,
    as_form,
    csrf_token,
    licence_file,
    new_client,
    pdf_bytes,
    post_provider,
    register_provider,
    registration,
)


async def test_a_registration_with_direction_overrides_is_refused_naming_the_fields(app):
    async with new_client(app, ip="198.51.100.70") as client:
        body = registration("bidi1", name="云南\u202e司公限有询咨程工", legal_rep="张\u200b三")
        problem = assert_problem(await post_provider(client, body), 422, "name")
        assert {e["field"] for e in problem["errors"]} >= {"name", "legal_rep"}
        assert any("U+202E" in e["message"] for e in problem["errors"])
        # the page form refuses it the same way, and nothing was registered
        token = await csrf_token(client)
        page = await client.post(
            "/register/provider",
            data={**as_form(body), "csrf_token": token},
            files=licence_file("bidi1"),
        )
        assert page.status_code == 422 and 'id="err-name"' in page.text
        assert (await post_provider(client, registration("bidi1"))).status_code == 201


async def test_file_names_with_invisible_characters_are_refused(app):
    async with new_client(app, ip="198.51.100.71") as client:
        body = registration("bidi2")
        files = {"business_licence": ("营业执照\u202efdp.exe", pdf_bytes(b"x"), "application/pdf")}
        headers = {"X-CSRF-Token": await csrf_token(client)}
        r = await client.post("/api/v1/providers", data=as_form(body), files=files, headers=headers)
        assert_problem(r, 422, "business_licence")
        _org, me = await register_provider(client, "bidi3")
        for name in ["report\u202efdp.pdf", "\u200breport.pdf", "report\u2066.pdf"]:
            upload = {"file": (name, pdf_bytes(name.encode()), "application/pdf")}
            assert_problem(await client.post("/api/v1/files", headers=me, files=upload), 422, "file")
        plain = {"file": ("报告.pdf", pdf_bytes(), "application/pdf")}
        ok = await client.post("/api/v1/files", headers=me, files=plain)
        assert ok.status_code == 201, ok.text


async def test_catalog_names_and_amounts_in_the_json_api(client, factory):
    admin = await account(client, factory, "admin", "ops")
    for field, value in [("name", "测量\u202e放线"), ("department", "\ufeff自然资源局"), ("category", "测\u2068绘")]:
        r = await client.post("/api/v1/catalog", headers=admin, json={**ITEM, field: value})
        assert_problem(r, 422, field)
    for amount in ["１２８００", "1_000", "12_800.00", "1e3"]:
        r = await client.post("/api/v1/catalog", headers=admin, json={**ITEM, "fee_cap": amount})
        assert_problem(r, 422, "fee_cap")
    r = await client.post("/api/v1/catalog", headers=admin, json={**ITEM, "fee_cap": "12,800.00"})
    assert r.status_code == 201, r.text
