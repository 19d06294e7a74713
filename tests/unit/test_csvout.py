"""The one CSV writer (issue 10.8): formula-safe text cells, UTF-8 with BOM, numbers as numbers."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from market import csvout

PAYLOADS = ['=HYPERLINK("http://evil.example","点我")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0"]


def _read(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_formula_payloads_are_text() -> None:
    rows = _read(csvout.to_csv(["名称", "=头"], [[p, "-1"] for p in PAYLOADS]))
    assert rows[0] == ["名称", "'=头"]
    for row, payload in zip(rows[1:], PAYLOADS, strict=True):
        assert row == ["'" + payload, "'-1"]
        assert not row[0].startswith(csvout.FORMULA_STARTS)


def test_numbers_and_dates_stay_numbers() -> None:
    rows = _read(csvout.to_csv(["a", "b", "c", "d"], [[Decimal("-12.50"), -3, date(2026, 1, 2), None]]))
    assert rows[1] == ["-12.50", "-3", "2026-01-02", ""]


@given(st.text() | st.sampled_from(["'=x", "''+1", "'", "'a", "=", "-", "@@"]))
def test_unguard_takes_back_exactly_what_the_writer_added(text: str) -> None:
    assert csvout.unguard(csvout.safe_text(text)) == text


def test_one_charset() -> None:
    response = csvout.csv_response(b"x", "x.csv")
    assert response.media_type == "text/csv"
    assert response.to_asgi_response(app=None, request=None).headers["content-type"] == "text/csv; charset=utf-8"  # type: ignore[arg-type]


def test_the_streamed_file_is_the_same_file_in_pieces_and_stays_formula_safe():
    rows = [[p, Decimal("-1.50"), i] for i in range(7) for p in PAYLOADS]
    pieces = list(csvout.iter_csv(["名称", "=头", "n"], rows, batch=4))
    assert len(pieces) > 2, "written in batches, not at once"
    assert pieces[0].startswith(b"\xef\xbb\xbf") and not any(p.startswith(b"\xef\xbb\xbf") for p in pieces[1:])
    data = b"".join(pieces)
    assert data == csvout.to_csv(["名称", "=头", "n"], rows)
    table = _read(data)
    assert table[0][1] == "'=头" and all(r[0].startswith("'") and r[1] == "-1.50" for r in table[1:])
    assert len(table) == 1 + len(rows)


def test_the_stream_response_names_the_file_and_the_type():
    response = csvout.csv_stream(iter([b"a"]), "x.csv")
    assert response.media_type == csvout.MEDIA_TYPE
    assert response.headers["Content-Disposition"] == 'attachment; filename="x.csv"'
