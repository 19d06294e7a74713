"""Malformed input never reaches a 500 (issue 10.9): each case is a 4xx problem naming the field."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.integration.helpers import account, assert_problem

HUGE = str(10**20)


async def test_nul_in_login_json_names_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        content=b'{"username":"admin\\u0000","password":"secret123"}',
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 422, "username")


async def test_nul_in_names_and_titles(client: httpx.AsyncClient, factory: async_sessionmaker[AsyncSession]) -> None:
    owner = await account(client, factory, "owner", "nul_owner")
    body = '{"title":"A\\u0000B","catalog_code":"ZJ-HP-01","budget_cap":"1000"}'
    response = await client.post(
        "/api/v1/purchases", content=body.encode(), headers={**owner, "content-type": "application/json"}
    )
    assert_problem(response, 422, "title")
    admin = await account(client, factory, "admin", "nul_admin")
    response = await client.post(
        "/api/v1/admin/organizations",
        content=b'{"name":"X\\u0000","kind":"owner"}',
        headers={**admin, "content-type": "application/json"},
    )
    assert_problem(response, 422, "name")


async def test_nul_in_query_string_and_path(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/catalog?q=a%00b"), 422, "q")
    assert_problem(await client.get("/api/v1/catalog/ZJ%00X"), 422, "path")
    assert_problem(await client.get("/api/v1/providers?q=%00"), 422, "q")
    response = await client.get("/catalog?q=a%00b")
    assert response.status_code == 422 and "text/html" in response.headers["content-type"]


async def test_huge_offsets_pages_and_versions(
    client: httpx.AsyncClient, factory: async_sessionmaker[AsyncSession]
) -> None:
    body = assert_problem(await client.get(f"/api/v1/catalog?offset={HUGE}"), 422, "offset")
    assert body["errors"][0]["message"] == "不能大于 1000000000。", body
    assert_problem(await client.get(f"/api/v1/providers?offset={HUGE}"), 422, "offset")
    assert_problem(await client.get(f"/api/v1/ocds/releases?cursor={HUGE}"), 422, "cursor")
    assert_problem(await client.get(f"/api/v1/catalog/ZJ-HP-01/versions/{10**21}"), 422, "number")
    response = await client.get(f"/catalog?page={10**21}")
    assert response.status_code < 500
    finance = await account(client, factory, "finance", "huge_finance")
    assert_problem(await client.get(f"/api/v1/finance/flags?offset={HUGE}", headers=finance), 422, "offset")
    admin = await account(client, factory, "admin", "huge_admin")
    response = await client.patch("/api/v1/catalog/ZJ-HP-01", json={"name": "x", "version": 10**20}, headers=admin)
    assert_problem(response, 422, "version")


async def test_dates_at_the_edge_of_the_calendar(
    client: httpx.AsyncClient, factory: async_sessionmaker[AsyncSession]
) -> None:
    for since in ("0001-01-01", "0001-01-01T00:00:00", "9999-12-31T23:59:59-12:00"):
        assert_problem(await client.get(f"/api/v1/ocds/releases?since={since}"), 422, "since")
    finance = await account(client, factory, "finance", "edge_finance")
    for field in ("from", "to"):
        for path in ("summary", "flags", "export.csv", "export.xlsx"):
            for day in ("0001-01-01", "9999-12-31"):
                response = await client.get(f"/api/v1/finance/{path}?{field}={day}", headers=finance)
                assert_problem(response, 422, field)
            page = await client.get(f"/finance/overview?{field}={day}", headers=finance)
            assert page.status_code == 422 and "text/html" in page.headers["content-type"], page.text


async def test_money_beyond_floats(client: httpx.AsyncClient, factory: async_sessionmaker[AsyncSession]) -> None:
    owner = await account(client, factory, "owner", "money_owner")
    for raw in ('"1e309"', "1e308", '"1e308"', '"-1e309"', '"NaN"', '"Infinity"'):
        body = '{"title":"环评","catalog_code":"ZJ-HP-01","budget_cap":' + raw + "}"
        response = await client.post(
            "/api/v1/purchases", content=body.encode(), headers={**owner, "content-type": "application/json"}
        )
        assert_problem(response, 422, "budget_cap")
    # a number no float can hold cannot even be decoded: the body is malformed
    body = '{"title":"环评","catalog_code":"ZJ-HP-01","budget_cap":1e309}'
    response = await client.post(
        "/api/v1/purchases", content=body.encode(), headers={**owner, "content-type": "application/json"}
    )
    problem = assert_problem(response, 400, "body")
    assert problem["errors"][0]["message"] == "请求正文中的数字超出范围。", problem


async def test_deep_json_is_a_bad_request(client: httpx.AsyncClient) -> None:
    body = "[" * 1000 + "]" * 1000
    response = await client.post("/api/v1/auth/login", content=body, headers={"content-type": "application/json"})
    assert_problem(response, 400, "body")
    body = '{"username":' + "[" * 1000 + "]" * 1000 + "}"
    response = await client.post("/api/v1/auth/login", content=body, headers={"content-type": "application/json"})
    assert response.status_code in (400, 422), response.text


async def test_long_csv_field_on_catalog_import(
    client: httpx.AsyncClient, factory: async_sessionmaker[AsyncSession]
) -> None:
    admin = await account(client, factory, "admin", "csv_admin")
    header = (
        "code,name,category,department,legal_basis,approval,time_limit_days,fee_type,fee_standard,status,effective_date"
    )
    row = "ZJ-LONG-01,{name},环评,生态环境局,《环评法》,无,20,market_regulated,市场调节,retained,2026-01-01"
    for name, at in (("x" * 140_000, "rows[3].row"), ('"' + "x" * 140_000 + '"', "rows[3].row")):
        data = "\r\n".join([header, row.format(name="短"), row.format(name=name).replace("LONG", "LONG2"), ""])
        response = await client.post(
            "/api/v1/catalog/import", content=data.encode(), headers={**admin, "content-type": "text/csv"}
        )
        assert_problem(response, 422, at)
    data = "\r\n".join([header, row.format(name="名\x00称"), ""])
    response = await client.post(
        "/api/v1/catalog/import", content=data.encode(), headers={**admin, "content-type": "text/csv"}
    )
    assert_problem(response, 422, "rows[2].name")
    response = await client.post(
        "/api/v1/catalog/import",
        content=("x" * 140_000 + "," + header).encode(),
        headers={**admin, "content-type": "text/csv"},
    )
    assert_problem(response, 422, "rows[1].header")
