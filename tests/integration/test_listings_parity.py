"""Every listings form refuses what its API twin refuses, with the same field error: the same bad
input posted to the JSON route gives 422 naming the field, and posted to the page gives 422 with
the same message next to that field (never a 500), on SQLite and PostgreSQL. Nothing of a
refused attempt is written."""

from __future__ import annotations

import json
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import httpx
from sqlalchemy import func, select

from listings.models import CatalogItem, Practitioner, Qualification
from market import clock
from market.identity.models import Organization
from tests.integration.helpers import account, assert_problem, login, make_user
from tests.integration.listings_helpers import (
    ITEM,
    browser,
    make_item,
    make_uscc,
    new_client,
    post_provider,
    qualification,
    register_provider,
    registration,
)

NUL = "\x00"
TOO_BIG = "1000000000000000"  # 1e15 yuan: beyond NUMERIC(14,2)


class FieldErrors(HTMLParser):
    """The field errors of a page: for each ``id="err-FIELD"`` element its text, and the names of
    the controls of the <label> it stands in (empty when it stands outside a label)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, list[tuple[str, set[str]]]] = {}
        self._labels: list[set[str]] = []  # the controls of each open <label>, filled as they come
        self._reading: tuple[str, str, list[str], set[str]] | None = None  # field, tag, text, label

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "label":
            self._labels.append(set())
        name = values.get("name")
        if tag in ("input", "textarea", "select") and self._labels and name:
            self._labels[-1].add(name)
        ident = values.get("id") or ""
        if ident.startswith("err-"):
            self._reading = (ident.removeprefix("err-"), tag, [], self._labels[-1] if self._labels else set())

    def handle_endtag(self, tag: str) -> None:
        if self._reading is not None and tag == self._reading[1]:
            field, _tag, text, label = self._reading
            self.found.setdefault(field, []).append(("".join(text).strip(), label))
            self._reading = None
        if tag == "label" and self._labels:
            self._labels.pop()

    def handle_data(self, data: str) -> None:
        if self._reading is not None:
            self._reading[2].append(data)


def page_error(response: httpx.Response, field: str) -> str:
    """The message next to ``field`` on a refused page (422, the page itself, not an error page)."""
    assert response.status_code == 422, response.text[:2000]
    assert response.headers["content-type"].startswith("text/html")
    parser = FieldErrors()
    parser.feed(response.text)
    entries = parser.found.get(field, [])
    assert len(entries) == 1, (field, parser.found)  # once on the page: in the form that was refused
    message, label = entries[0]
    assert message
    assert not label or field in label, (field, label)  # in a <label>, it is the field's own
    return message


def api_error(response: httpx.Response, field: str) -> str:
    body = assert_problem(response, 422, field)
    return next(e["message"] for e in body["errors"] if e["field"] == field)


def same_error(api: httpx.Response, page: httpx.Response, field: str) -> str:
    message = api_error(api, field)
    assert page_error(page, field) == message
    return message


async def count(factory: Any, model: Any) -> int:
    async with factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# --- registration and profile -----------------------------------------------------------------


async def test_registration_refuses_the_same_names_on_the_api_and_the_page(client, factory):
    csrf = await browser(client)
    before = await count(factory, Organization)
    cases = [
        ("name", f"云南{NUL}山水环境有限公司"),
        ("name", "云"),  # too short
        ("name", "云" * 201),  # too long
        ("legal_rep", "张" * 61),
        ("phone", "123"),
        ("phone", "65123456"),  # a landline without its area code
        ("email", "not-an-address"),
    ]
    for i, (field, value) in enumerate(cases):
        body = registration(f"parity{i}", **{field: value})
        api = await post_provider(client, body)
        form = {k: str(v) for k, v in body.items() if k != "commitment_accepted"}
        page = await client.post(
            "/register/provider",
            data={**form, "password2": body["password"], "commitment_accepted": "1", "csrf_token": csrf},
        )
        same_error(api, page, field)
        assert body["password"] not in page.text  # never shown again
    # the page-only check and the checkbox are field errors too
    body = registration("parity-last")
    form = {k: str(v) for k, v in body.items() if k != "commitment_accepted"}
    differ = await client.post("/register/provider", data={**form, "password2": "other123", "csrf_token": csrf})
    assert page_error(differ, "password2")
    unticked = await client.post("/register/provider", data={**form, "password2": body["password"], "csrf_token": csrf})
    api = await post_provider(client, {**body, "commitment_accepted": False})
    same_error(api, unticked, "commitment_accepted")
    assert await count(factory, Organization) == before


async def test_profile_refuses_the_same_names_on_the_api_and_the_page(app, client):
    _org_id, me = await register_provider(client, "profiled")
    async with new_client(app) as browser_client:
        csrf = await browser(browser_client, "profiled")
        shown = {
            "name": "云南profiled工程咨询有限公司",
            "uscc": make_uscc("profiled"),
            "legal_rep": "张三",
            "address": "云岭县城关镇建设路1号",
            "phone": "0877-8210000",
            "email": "profiled@firm.example",
        }
        for field, value in [
            ("address", f"云岭县{NUL}建设路"),
            ("legal_rep", "张" * 61),
            ("phone", "123"),
            ("name", ""),  # emptied: the API's ""
            ("email", "nobody"),
        ]:
            api = await client.patch("/api/v1/me/organization", headers=me, json={field: value})
            page = await browser_client.post("/workspace/profile", data={**shown, field: value, "csrf_token": csrf})
            same_error(api, page, field)
        profile = (await client.get("/api/v1/me/organization", headers=me)).json()
        assert {k: profile[k] for k in shown} == shown


# --- qualifications and practitioners ---------------------------------------------------------


async def test_qualifications_and_practitioners_refuse_the_same_names(app, client, factory):
    await make_item(factory)
    org_id, me = await register_provider(client, "qualified")
    async with new_client(app) as page_client:
        csrf = await browser(page_client, "qualified")
        url = f"/api/v1/providers/{org_id}/qualifications"
        for field, value in [
            ("name", f"测绘{NUL}资质"),
            ("certificate_no", "乙" * 81),
            ("issuer", ""),
            ("valid_until", "2030-02-30"),
            ("catalog_codes", []),
        ]:
            body = qualification(**{field: value})
            api = await client.post(url, headers=me, json=body)
            page = await page_client.post("/workspace/qualifications", data={**body, "csrf_token": csrf})
            same_error(api, page, field)
        assert await count(factory, Qualification) == 0
        # the change of a qualification, through PATCH and its edit page
        q = (await client.post(url, headers=me, json=qualification())).json()
        api = await client.patch(f"/api/v1/qualifications/{q['id']}", headers=me, json=qualification(name="证" * 121))
        page = await page_client.post(
            f"/workspace/qualifications/{q['id']}", data={**qualification(name="证" * 121), "csrf_token": csrf}
        )
        same_error(api, page, "name")
        # practitioners: the page's second form has a field `name` too; the error is in that form
        staff = f"/api/v1/providers/{org_id}/practitioners"
        for field, value in [("name", f"普{NUL}文斌"), ("name", "普" * 61), ("id_number", "5304")]:
            body = {"name": "普文斌", "certificate": "注册测绘师", "id_number": "53040219850312000X", field: value}
            api = await client.post(staff, headers=me, json=body)
            page = await page_client.post("/workspace/practitioners", data={**body, "csrf_token": csrf})
            same_error(api, page, field)
            assert 'action="/workspace/practitioners"' in page.text.split(f'id="err-{field}"')[0].rsplit("<form", 1)[1]
        assert await count(factory, Practitioner) == 0


# --- the catalog ------------------------------------------------------------------------------


async def test_catalog_item_bounds_are_the_same_on_the_api_and_the_page(app, client, factory):
    headers = await account(client, factory, "admin", "ops")
    api_client = client
    async with new_client(app) as page_client:
        csrf = await browser(page_client, "ops")
        fields = {k: str(v) for k, v in ITEM.items() if k != "in_services_catalog"}
        cases = [
            ("fee_cap", TOO_BIG),
            ("fee_cap", "1e15"),
            ("fee_cap", "1e309"),
            ("time_limit_days", "5000"),
            ("effective_date", "2026-02-30"),
            ("name", f"放线{NUL}测量"),
            ("code", "Y"),
            ("name", "测" * 201),
        ]
        for field, value in cases:
            api = await api_client.post("/api/v1/catalog", headers=headers, json={**ITEM, field: value})
            page = await page_client.post("/admin/catalog/new", data={**fields, field: value, "csrf_token": csrf})
            same_error(api, page, field)
        # an amount as a JSON number: 1e15 is refused like the typed one; 1e309 is no number JSON can carry
        too_big = await api_client.post("/api/v1/catalog", headers=headers, json={**ITEM, "fee_cap": 10**15})
        assert api_error(too_big, "fee_cap") == api_error(
            await api_client.post("/api/v1/catalog", headers=headers, json={**ITEM, "fee_cap": TOO_BIG}), "fee_cap"
        )
        raw = json.dumps({**ITEM, "fee_cap": "HUGE"}).replace('"HUGE"', "1e309")
        unreadable = await api_client.post(
            "/api/v1/catalog", headers={**headers, "content-type": "application/json"}, content=raw
        )
        assert_problem(unreadable, 400, "body")
        assert await count(factory, CatalogItem) == 0
        # the edit page is PATCH with every field
        await make_item(factory)
        for field, value in [("fee_cap", TOO_BIG), ("time_limit_days", "5000"), ("name", ""), ("category", "类" * 61)]:
            api = await api_client.patch("/api/v1/catalog/YLZJ-005", headers=headers, json={field: value})
            page = await page_client.post(
                "/admin/catalog/YLZJ-005/edit", data={**fields, "version": "1", field: value, "csrf_token": csrf}
            )
            same_error(api, page, field)
        item = (await api_client.get("/api/v1/catalog/YLZJ-005")).json()
        assert item["version"] == 1 and item["fee_cap"] == ITEM["fee_cap"]


# --- the operator's decisions ------------------------------------------------------------------


async def test_review_decisions_refuse_the_same_reasons_and_dates(app, client, factory):
    await make_item(factory)
    org_id, me = await register_provider(client, "decided")
    q = (await client.post(f"/api/v1/providers/{org_id}/qualifications", headers=me, json=qualification())).json()
    await make_user(factory, "admin", "云岭县政务服务管理局", "ops")
    async with new_client(app) as page_client:
        csrf = await browser(page_client, "ops")
        admin = await login(client, "ops")
        decisions = f"/api/v1/admin/organizations/{org_id}"
        pages = f"/admin/organizations/{org_id}"
        # a pending registration: the rejection
        for reason in ("", "   ", "理" * 2001):
            api = await client.post(f"{decisions}/reject", headers=admin, json={"reason": reason})
            page = await page_client.post(f"{pages}/reject", data={"reason": reason, "csrf_token": csrf})
            same_error(api, page, "reason")
        # a pending qualification: its rejection (on the organisation's page, in that row's form)
        api = await client.post(f"/api/v1/admin/qualifications/{q['id']}/reject", headers=admin, json={"reason": ""})
        page = await page_client.post(
            f"/admin/qualifications/{q['id']}/reject", data={"reason": "", "csrf_token": csrf}
        )
        assert same_error(api, page, "reason") != api_error(
            await client.post(f"{decisions}/reject", headers=admin, json={"reason": ""}), "reason"
        )  # the provider sees it, not "the organisation"
        # an approved organisation: suspension (reason and a real date), blacklisting
        assert (await client.post(f"{decisions}/approve", headers=admin)).status_code == 200
        until = (clock.today_local() + timedelta(days=7)).isoformat()
        for field, body in [
            ("until", {"reason": "逾期交付", "until": "2026-13-01"}),
            ("until", {"reason": "逾期交付", "until": "next week"}),
            ("reason", {"reason": "", "until": until}),
            ("reason", {"reason": f"逾期{NUL}交付", "until": until}),
        ]:
            api = await client.post(f"{decisions}/suspend", headers=admin, json=body)
            page = await page_client.post(f"{pages}/suspend", data={**body, "csrf_token": csrf})
            same_error(api, page, field)
        api = await client.post(f"{decisions}/blacklist", headers=admin, json={"reason": ""})
        page = await page_client.post(f"{pages}/blacklist", data={"reason": "", "csrf_token": csrf})
        same_error(api, page, "reason")
        assert "<details open>" in page.text  # the refused blacklisting is shown open
        profile = (await client.get("/api/v1/me/organization", headers=me)).json()
        assert profile["status"] == "approved" and profile["status_reason"] is None
