"""CSV import and export of the catalog, without a database: every bad row and field is named,
the export opens in Excel (BOM) and reads back as it was written."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

from listings import catalog
from listings.models import CatalogItem

DEMO = Path(__file__).resolve().parents[2] / "listings" / "data" / "catalog.csv"
HEADER = ",".join(catalog.FIELDS)


def row(**changes: str) -> str:
    values = {
        "code": "YLZJ-901",
        "name": "建设项目环境影响报告表编制",
        "name_en": "Environmental impact report form for a construction project",
        "category": "生态环境",
        "approval": "建设项目环境影响评价文件审批",
        "department": "云岭县生态环境分局",
        "legal_basis": "《中华人民共和国环境影响评价法》第十六条",
        "time_limit_days": "20",
        "fee_type": "market_regulated",
        "fee_standard": "市场调节价",
        "fee_cap": "",
        "fee_basis": "",
        "qualification_required": "",
        "status": "retained",
        "effective_date": "2026-01-01",
        "in_services_catalog": "0",
    } | changes
    out = io.StringIO()
    csv.writer(out).writerow([values[f] for f in catalog.FIELDS])
    return out.getvalue().strip()


def test_the_demo_catalog_is_valid_and_realistic():
    items, errors = catalog.parse_csv(DEMO.read_bytes())
    assert errors == []
    by_status = {s: [i for _r, i in items if i.status == s] for s in ("retained", "cancelled", "adjusted")}
    assert 24 <= len(by_status["retained"]) <= 30
    assert len(by_status["cancelled"]) >= 4 and by_status["adjusted"]
    assert sum(i.in_services_catalog for _r, i in items) >= 5
    assert {i.fee_type for _r, i in items} == {"government_priced", "government_guided", "market_regulated"}
    names = {i.name for _r, i in items}
    for expected in (
        "地质灾害危险性评估",
        "土地勘测定界",
        "防雷装置设计技术评价",
        "机关办公区物业管理服务",
        "政府法律顾问服务",
    ):
        assert expected in names
    assert DEMO.read_bytes().startswith(b"\xef\xbb\xbf")


def test_one_bad_row_names_its_row_and_field_and_nothing_is_returned_to_import():
    data = "\n".join([HEADER, row(code="YLZJ-901"), row(code="YLZJ-902", fee_type="free"), row(code="YLZJ-903")])
    items, errors = catalog.parse_csv(data.encode())
    assert [(e.row, e.field) for e in errors] == [(3, "fee_type")]
    assert [row for row, _item in items] == [2, 4]  # the caller imports nothing when errors is not empty
    field_error = errors[0].as_field_error()
    assert field_error.field == "rows[3].fee_type" and "3" in field_error.message


def test_every_bad_field_of_every_row_is_reported():
    data = "\n".join(
        [
            HEADER,
            row(code="YLZJ-901", time_limit_days="twenty", effective_date="2026-13-01"),
            row(code="YLZJ-902", fee_type="government_priced", fee_cap=""),
            row(code="YLZJ-903", fee_cap="12.345", in_services_catalog="maybe"),
            row(code="YLZJ-901"),
            row(code="x", name=""),
        ]
    )
    _items, errors = catalog.parse_csv(data.encode())
    assert {(e.row, e.field) for e in errors} == {
        (2, "time_limit_days"),
        (2, "effective_date"),
        (3, "fee_cap"),
        (4, "fee_cap"),
        (4, "in_services_catalog"),
        (5, "code"),
        (6, "code"),
        (6, "name"),
    }


def test_header_problems_are_reported_on_row_one():
    _items, errors = catalog.parse_csv(b"code,name,colour\nA1,x,red\n")
    assert errors and all(e.row == 1 and e.field == "header" for e in errors)
    assert any("colour" in e.message for e in errors)
    assert any("time_limit_days" in e.message for e in errors)


def test_chinese_headers_and_values_and_gb18030_as_excel_saves_them():
    header = (
        "编码,名称,类别,服务的审批事项,审批部门,设定依据,服务时限,收费类型,收费标准,"
        + "收费上限,状态,生效日期,政府购买服务目录"
    )
    line = "YLZJ-950,房产测绘,测绘,商品房预售许可,云岭县住房和城乡建设局,《房产测绘管理办法》,10," + (
        '政府指导价,按面积计收,"80,000.00",保留,2026/3/1,否'
    )
    items, errors = catalog.parse_csv(f"{header}\r\n{line}\r\n".encode("gb18030"))
    assert errors == []
    item = items[0][1]
    assert (item.fee_type, item.status, item.fee_cap) == ("government_guided", "retained", Decimal("80000.00"))
    assert item.effective_date == date(2026, 3, 1) and item.in_services_catalog is False


def test_blank_lines_are_ignored_but_an_empty_file_is_an_error():
    items, errors = catalog.parse_csv(f"{HEADER}\n{row()}\n\n,,,\n".encode())
    assert errors == [] and len(items) == 1
    assert catalog.parse_csv(b"")[1][0].field == "header"
    assert catalog.parse_csv(f"{HEADER}\n".encode())[1][0].field == "header"


def test_export_has_a_bom_and_reads_back_the_same():
    items, _ = catalog.parse_csv(DEMO.read_bytes())
    models = [CatalogItem(**item.as_dict()) for _r, item in items]
    data = catalog.export_csv(models)
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    again, errors = catalog.parse_csv(data)
    assert errors == [] and [i for _r, i in again] == [i for _r, i in items]
