"""The one CSV writer of every export (the catalog, the finance bureau's report): UTF-8 with a
byte-order mark, so that Excel opens Chinese text correctly; CRLF line ends; formula-safe cells;
and the one response that serves it, whose content type names its charset exactly once.

Formula safety: a text cell that starts with ``= + - @``, a tab or a carriage return would be run
by a spreadsheet as a formula (``=HYPERLINK(…)``, ``+cmd|…``, ``@SUM(…)``); it gets a leading
apostrophe, which spreadsheets show as text and do not print. Numbers (``int``, ``Decimal``) are
written as they are, so a negative amount stays a number. :func:`unguard` takes the apostrophe off
again when a file written here is read back (the catalog import).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from litestar import Response
from litestar.response import Stream

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Litestar adds "; charset=utf-8" to a text/ media type: name it without, so it appears once
MEDIA_TYPE = "text/csv"

Value = str | int | Decimal | date | None


def _formula_like(value: str) -> bool:
    """Starts with a formula character, after any apostrophes (so that text which itself begins
    with an apostrophe before one reads back unchanged)."""
    return value.lstrip("'").startswith(FORMULA_STARTS)


def safe_text(value: str) -> str:
    """``value`` as a spreadsheet will show it and never run it."""
    return "'" + value if _formula_like(value) else value


def unguard(value: str) -> str:
    """A cell read back from a file :func:`to_csv` wrote: without the apostrophe it added."""
    return value[1:] if value.startswith("'") and _formula_like(value) else value


def cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | date):
        return value.isoformat() if isinstance(value, date) else str(value)
    return safe_text(str(value))


def iter_csv(headers: Sequence[str], rows: Iterable[Sequence[Value]], batch: int = 500) -> Iterator[bytes]:
    """The file in pieces, ``batch`` rows at a time (the BOM and the header row first), for a
    streamed response: the same bytes as :func:`to_csv`, every text cell formula-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([safe_text(h) for h in headers])
    pending = 0
    for row in rows:
        writer.writerow([cell(v) for v in row])
        pending += 1
        if pending >= batch:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    tail = buffer.getvalue()
    if tail:
        yield tail.encode("utf-8")


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Value]]) -> bytes:
    """The file: a header row and the rows, every text cell formula-safe."""
    return b"".join(iter_csv(headers, rows))


def csv_response(data: bytes, filename: str) -> Response[Any]:
    """``data`` (from :func:`to_csv`) as a download named ``filename``."""
    return Response(data, media_type=MEDIA_TYPE, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def csv_stream(chunks: Iterable[bytes], filename: str) -> Stream:
    """``chunks`` (from :func:`iter_csv`) streamed as a download named ``filename``."""
    return Stream(chunks, media_type=MEDIA_TYPE, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
