"""Exports for the finance bureau's own tools: every published purchase of a period with its award,
contract, invoiced and paid amounts and its red flags, as CSV (UTF-8 with a byte-order mark, so
that Excel opens Chinese text correctly) and as XLSX (a second sheet lists every red flag with its
explanation). Headers and labels are in the request's language; amounts are numbers, not text.

Cells that people typed (titles, names, reasons) are guarded against formula injection: the CSV is
written by :mod:`market.csvout` (a text cell that starts with ``= + - @`` gets a leading
apostrophe), in XLSX text is stored as text.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from invoices import labels as _invoice_labels  # noqa: F401  (registers contract_status)
from market import csvout
from market.clock import to_local
from market.i18n import gettext as _
from market.terms import N_, label
from oversight import explain, rules
from oversight.facts import Snapshot

Cell = str | int | Decimal | datetime | date | None
MONEY, INT, TEXT, MOMENT, DAY, PCT = "money", "int", "text", "moment", "day", "pct"


@dataclass(frozen=True)
class Column:
    header: str  # msgid
    kind: str
    value: Callable[[rules.PurchaseFact, Snapshot, list[rules.Flag]], Cell]
    width: int = 14


def _uscc(snapshot: Snapshot, org_id: Any) -> str:
    org = snapshot.orgs.get(org_id) if org_id else None
    return org.uscc if org else ""


def _contract(p: rules.PurchaseFact, attr: str) -> Any:
    return getattr(p.contract, attr) if p.contract is not None else None


COLUMNS: list[Column] = [
    Column(N_("Reference"), TEXT, lambda p, s, f: p.ref, 16),
    Column(N_("Title"), TEXT, lambda p, s, f: p.title, 40),
    Column(N_("Owner"), TEXT, lambda p, s, f: p.owner_name, 26),
    Column(N_("Owner's credit code"), TEXT, lambda p, s, f: _uscc(s, p.owner_id), 20),
    Column(N_("Catalog code"), TEXT, lambda p, s, f: p.catalog_code, 12),
    Column(N_("Catalog item"), TEXT, lambda p, s, f: p.catalog_name, 26),
    Column(N_("Selection method"), TEXT, lambda p, s, f: label(p.method, "purchase_method")),
    Column(N_("Funding"), TEXT, lambda p, s, f: label(p.funding, "funding")),
    Column(N_("Status"), TEXT, lambda p, s, f: label(p.status, "purchase_status")),
    Column(N_("Price cap"), MONEY, lambda p, s, f: p.cap),
    Column(N_("Published"), MOMENT, lambda p, s, f: p.published_at, 17),
    Column(N_("Bid deadline"), MOMENT, lambda p, s, f: p.deadline, 17),
    # sealed until the deadline: blank, never zero
    Column(N_("Bids"), INT, lambda p, s, f: len(p.bids) if p.bids is not None else None, 8),
    Column(N_("Valid bids"), INT, lambda p, s, f: len(p.valid_bids) if p.bids is not None else None, 8),
    Column(N_("Winner"), TEXT, lambda p, s, f: p.winner_name if p.selected else None, 26),
    Column(N_("Winner's credit code"), TEXT, lambda p, s, f: _uscc(s, p.winner_id) if p.selected else None, 20),
    Column(N_("Winning price"), MONEY, lambda p, s, f: p.price if p.selected else None),
    Column(N_("Awarded on"), MOMENT, lambda p, s, f: p.awarded_at, 17),
    Column(N_("Savings against the cap"), MONEY, lambda p, s, f: p.savings),
    Column(N_("Savings (%)"), PCT, lambda p, s, f: rules.percent(p.savings, p.cap) if p.savings is not None else None),
    Column(N_("Contract"), TEXT, lambda p, s, f: _contract(p, "number"), 16),
    Column(
        N_("Contract status"),
        TEXT,
        lambda p, s, f: label(p.contract.status, "contract_status") if p.contract else None,
    ),
    Column(N_("Contract amount"), MONEY, lambda p, s, f: _contract(p, "amount")),
    Column(N_("Signed"), MOMENT, lambda p, s, f: _contract(p, "signed_at"), 17),
    Column(N_("Due"), MOMENT, lambda p, s, f: _contract(p, "due_at"), 17),
    Column(N_("Accepted"), MOMENT, lambda p, s, f: _contract(p, "accepted_at"), 17),
    Column(N_("Invoiced (net)"), MONEY, lambda p, s, f: _contract(p, "invoiced")),
    Column(N_("Paid"), MONEY, lambda p, s, f: _contract(p, "paid")),
    Column(N_("Outstanding"), MONEY, lambda p, s, f: _contract(p, "outstanding")),
    Column(N_("Paid in full on"), DAY, lambda p, s, f: _contract(p, "paid_on"), 12),
    Column(N_("Red flags"), TEXT, lambda p, s, f: _("; ").join(label(x.code, "oversight_flag") for x in f), 40),
    Column(N_("Flag codes"), TEXT, lambda p, s, f: " ".join(x.code for x in f), 24),
]


def table(snapshot: Snapshot, flags: list[rules.Flag]) -> tuple[list[str], list[list[Cell]]]:
    """Headers (translated) and one row per published purchase, in publication order."""
    per_purchase: dict[Any, list[rules.Flag]] = {}
    for f in flags:
        if f.subject == "purchase":
            per_purchase.setdefault(f.subject_id, []).append(f)
    headers = [_(c.header) for c in COLUMNS]
    rows = [[c.value(p, snapshot, per_purchase.get(p.id, [])) for c in COLUMNS] for p in snapshot.purchases]
    return headers, rows


def _local(moment: datetime) -> datetime:
    """Spreadsheets know no time zones: local (China) time without the offset."""
    return to_local(moment).replace(tzinfo=None, microsecond=0)


def _csv_cell(value: Cell, kind: str) -> csvout.Value:
    if kind == MOMENT and isinstance(value, datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M")
    return value


def csv_chunks(headers: list[str], rows: list[list[Cell]]) -> Iterator[bytes]:
    """The table through the one CSV writer (UTF-8 with BOM, text cells formula-safe), in pieces
    for a streamed response."""
    kinds = [c.kind for c in COLUMNS]
    return csvout.iter_csv(headers, ([_csv_cell(v, k) for v, k in zip(row, kinds, strict=True)] for row in rows))


def to_csv(headers: list[str], rows: list[list[Cell]]) -> bytes:
    """:func:`csv_chunks` as one file."""
    return b"".join(csv_chunks(headers, rows))


NUMBER_FORMATS = {MONEY: "#,##0.00", MOMENT: "yyyy-mm-dd hh:mm", DAY: "yyyy-mm-dd", INT: "0", PCT: "0.0"}
HEADER_FILL = PatternFill("solid", start_color="EEF1F5", end_color="EEF1F5")


def _cell(ws: Any, value: Cell, kind: str) -> WriteOnlyCell:
    if isinstance(value, datetime):
        value = _local(value)
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text stays text, even "=…"
    elif kind in NUMBER_FORMATS and value is not None:
        cell.number_format = NUMBER_FORMATS[kind]
    return cell


def _sheet(ws: Any, headers: list[str], rows: list[list[Cell]], kinds: list[str], widths: list[int]) -> None:
    """One sheet of a write-only workbook: each row goes to the file as it is appended, no cell
    objects are kept (the layout is set before the first row, as write-only mode requires)."""
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "B2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(ws, value=header)
        cell.data_type = "s"
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="top", wrap_text=True)
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows:
        ws.append([_cell(ws, value, kind) for value, kind in zip(row, kinds, strict=True)])


def flag_rows(snapshot: Snapshot, flags: list[rules.Flag]) -> tuple[list[str], list[list[Cell]], list[str], list[int]]:
    purchases = snapshot.purchases_by_id
    firms = snapshot.firms_by_id
    headers = [_("Severity"), _("Red flag"), _("Subject"), _("Reference"), _("Name"), _("Explanation"), _("Code")]
    rows: list[list[Cell]] = []
    for f in flags:
        if f.subject == "purchase":
            p = purchases.get(f.subject_id)
            ref, name = (p.ref, p.title) if p else ("", "")
        else:
            firm = firms.get(f.subject_id)
            ref, name = (firm.uscc, firm.name) if firm else ("", "")
        rows.append(
            [
                label(f.severity, "flag_severity"),
                label(f.code, "oversight_flag"),
                label(f.subject, "flag_subject"),
                ref,
                name,
                explain.explain(f),
                f.code,
            ]
        )
    return headers, rows, [TEXT] * 7, [10, 24, 10, 20, 36, 90, 18]


def write_xlsx(snapshot: Snapshot, flags: list[rules.Flag], title: str, out: BinaryIO) -> None:
    """The workbook into ``out``, written in openpyxl's write-only mode (memory follows one row,
    not the sheet). CPU-heavy: the API builds it in the export process (:mod:`oversight.export_jobs`)."""
    headers, rows = table(snapshot, flags)
    wb = Workbook(write_only=True)
    _sheet(wb.create_sheet(_("Purchases")), headers, rows, [c.kind for c in COLUMNS], [c.width for c in COLUMNS])
    f_headers, f_rows, f_kinds, f_widths = flag_rows(snapshot, flags)
    _sheet(wb.create_sheet(_("Red flags")), f_headers, f_rows, f_kinds, f_widths)
    wb.properties.title = title
    wb.properties.creator = title
    wb.save(out)


def to_xlsx(snapshot: Snapshot, flags: list[rules.Flag], title: str) -> bytes:
    """:func:`write_xlsx` as one file in memory."""
    buffer = io.BytesIO()
    write_xlsx(snapshot, flags, title, buffer)
    return buffer.getvalue()
