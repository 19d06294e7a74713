"""The catalog of retained intermediary services (事项清单): create, edit with versions, search,
and CSV import and export.

Every edit writes a new version snapshot (``catalog_item_versions``, append-only), so every
version an item ever had stays readable. A CSV import is all or nothing: every row is checked
first, and one bad row means nothing is written and every bad row and field is reported.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from listings.models import CatalogItem, CatalogItemVersion, FeeType, ItemStatus
from market import audit, clock, csvout
from market.actor import Actor
from market.audit.models import AuditEvent
from market.db import fetch_page
from market.errors import Conflict, FieldError, InvalidInput, NotFound
from market.i18n import gettext as _
from market.jsonutil import canonical
from market.money import MAX_AMOUNT, MoneyError, parse_money
from market.schemas import check_text

# the bounds of an item's fields: the request schemas (listings.schemas) declare the same ones
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,31}$")
CODE_LENGTH = (2, 32)
MAX_TIME_LIMIT_DAYS = 365
TEXT_LIMITS = {
    "name": 200,
    "name_en": 200,
    "category": 60,
    "approval": 300,
    "department": 120,
    "legal_basis": 4000,
    "fee_standard": 4000,
    "fee_basis": 4000,
    "qualification_required": 4000,
}
REQUIRED_TEXT = ("name", "category", "approval", "department", "legal_basis", "fee_standard")
# what an optional field becomes when a change sets it to nothing
CLEARED: dict[str, Any] = {"fee_cap": None, "fee_basis": "", "qualification_required": "", "name_en": ""}
MAX_NOTE = 500

# column order of the CSV file (and of the version snapshots)
FIELDS: tuple[str, ...] = (
    "code",
    "name",
    "name_en",
    "category",
    "approval",
    "department",
    "legal_basis",
    "time_limit_days",
    "fee_type",
    "fee_standard",
    "fee_cap",
    "fee_basis",
    "qualification_required",
    "status",
    "effective_date",
    "in_services_catalog",
)
OPTIONAL_COLUMNS = frozenset({"name_en", "fee_cap", "fee_basis", "qualification_required", "in_services_catalog"})
REQUIRED_COLUMNS = frozenset(FIELDS) - OPTIONAL_COLUMNS
EDITABLE = tuple(f for f in FIELDS if f != "code")

# Chinese column names and values that people type in Excel are accepted too
HEADER_ALIASES = {
    "编码": "code",
    "事项编码": "code",
    "名称": "name",
    "事项名称": "name",
    "英文名称": "name_en",
    "类别": "category",
    "服务的审批事项": "approval",
    "审批事项": "approval",
    "审批部门": "department",
    "设定依据": "legal_basis",
    "法律依据": "legal_basis",
    "服务时限（工作日）": "time_limit_days",
    "服务时限": "time_limit_days",
    "收费类型": "fee_type",
    "收费标准": "fee_standard",
    "收费上限": "fee_cap",
    "收费依据": "fee_basis",
    "资质要求": "qualification_required",
    "状态": "status",
    "生效日期": "effective_date",
    "政府购买服务目录": "in_services_catalog",
}
FEE_TYPE_ALIASES = {
    "政府定价": "government_priced",
    "政府指导价": "government_guided",
    "市场调节价": "market_regulated",
}
STATUS_ALIASES = {"保留": "retained", "取消": "cancelled", "调整": "adjusted"}
TRUE_WORDS = {"1", "true", "yes", "y", "是", "√"}
FALSE_WORDS = {"", "0", "false", "no", "n", "否"}


@dataclass(frozen=True)
class CatalogInput:
    """Every field of a catalog item, typed."""

    code: str
    name: str
    category: str
    approval: str
    department: str
    legal_basis: str
    time_limit_days: int
    fee_type: str
    fee_standard: str
    fee_cap: Decimal | None
    fee_basis: str
    qualification_required: str
    status: str
    effective_date: date
    in_services_catalog: bool
    name_en: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in FIELDS}


def field_labels() -> dict[str, str]:
    return {
        "code": _("Code"),
        "name": _("Name"),
        "name_en": _("English name"),
        "category": _("Category"),
        "approval": _("Approval served"),
        "department": _("Approving department"),
        "legal_basis": _("Legal basis"),
        "time_limit_days": _("Service time limit (working days)"),
        "fee_type": _("Fee type"),
        "fee_standard": _("Fee standard"),
        "fee_cap": _("Fee cap"),
        "fee_basis": _("Fee basis"),
        "qualification_required": _("Qualification required"),
        "status": _("Status"),
        "effective_date": _("Effective date"),
        "in_services_catalog": _("In the purchase-of-services catalog"),
    }


# --- validation (pure) -------------------------------------------------------------------------


def validate(data: CatalogInput) -> list[FieldError]:
    """The business rules of an item; the list of what is wrong (empty when it is valid)."""
    errors: list[FieldError] = []
    if not CODE_RE.match(data.code):
        errors.append(
            FieldError(
                "code", _("2 to 32 letters, digits, dots, dashes or underscores, starting with a letter or digit.")
            )
        )
    for name in REQUIRED_TEXT:
        if not str(getattr(data, name)).strip():
            errors.append(FieldError(name, _("Required.")))
    for name, limit in TEXT_LIMITS.items():
        if len(getattr(data, name)) > limit:
            errors.append(FieldError(name, _("At most %(n)d characters.", n=limit)))
    for name in ("code", *TEXT_LIMITS):
        try:
            check_text(getattr(data, name))  # a NUL from a CSV file would not even reach PostgreSQL
        except ValueError as exc:
            errors.append(FieldError(name, str(exc)))
    if not 1 <= data.time_limit_days <= MAX_TIME_LIMIT_DAYS:
        errors.append(
            FieldError("time_limit_days", _("A whole number of working days from 1 to %(n)d.", n=MAX_TIME_LIMIT_DAYS))
        )
    if data.fee_type not in {f.value for f in FeeType}:
        errors.append(FieldError("fee_type", _("One of government_priced, government_guided, market_regulated.")))
    if data.status not in {s.value for s in ItemStatus}:
        errors.append(FieldError("status", _("One of retained, cancelled, adjusted.")))
    if data.fee_cap is not None and not (Decimal("0") < data.fee_cap <= MAX_AMOUNT):
        errors.append(FieldError("fee_cap", _("A positive amount in yuan.")))
    if data.fee_type == FeeType.government_priced and data.fee_cap is None:
        errors.append(FieldError("fee_cap", _("A government-priced item needs its fee cap.")))
    return errors


def check(data: CatalogInput, note: str = "") -> CatalogInput:
    """``data`` when it is valid, its coded fields as their enum members (what the columns hold)."""
    errors = validate(data)
    if len(note) > MAX_NOTE:
        errors.append(FieldError("note", _("At most %(n)d characters.", n=MAX_NOTE)))
    if errors:
        raise InvalidInput(_("The catalog item is not valid."), _("Correct the fields named below."), errors=errors)
    return dataclasses.replace(data, fee_type=FeeType(data.fee_type), status=ItemStatus(data.status))


def parse_amount(raw: str) -> Decimal | None:
    """A fee cap as a spreadsheet holds it (``80,000.00``, ``¥80000``, ``80000元``), or ``None``
    when empty; the one money parser decides (raises :class:`~market.money.MoneyError`)."""
    text = raw.replace("，", ",").strip().removesuffix("元").strip()
    return parse_money(text) if text else None


def parse_date(raw: str) -> date:
    text = raw.strip().replace("/", "-").replace(".", "-")
    return datetime.strptime(text, "%Y-%m-%d").date()


def parse_row(raw: dict[str, str]) -> tuple[CatalogInput | None, list[FieldError]]:
    """One CSV row (strings) → a typed item, or the errors per field."""
    errors: list[FieldError] = []
    text = {f: (raw.get(f) or "").strip() for f in FIELDS}

    def typed(name: str, convert: Any, message: str) -> Any:
        try:
            return convert(text[name])
        except MoneyError as exc:
            errors.append(FieldError(name, str(exc)))
        except ValueError:
            errors.append(FieldError(name, message))
        return None

    days = typed("time_limit_days", int, _("A whole number of working days."))
    cap = typed("fee_cap", parse_amount, "")
    effective = typed("effective_date", parse_date, _("A date written YYYY-MM-DD."))
    flag = text["in_services_catalog"].lower()
    if flag not in TRUE_WORDS | FALSE_WORDS:
        errors.append(FieldError("in_services_catalog", _("Yes or no (1 or 0).")))
    if errors:
        return None, errors
    item = CatalogInput(
        code=text["code"],
        name=text["name"],
        name_en=text["name_en"],
        category=text["category"],
        approval=text["approval"],
        department=text["department"],
        legal_basis=text["legal_basis"],
        time_limit_days=days,
        fee_type=FEE_TYPE_ALIASES.get(text["fee_type"], text["fee_type"]),
        fee_standard=text["fee_standard"],
        fee_cap=cap,
        fee_basis=text["fee_basis"],
        qualification_required=text["qualification_required"],
        status=STATUS_ALIASES.get(text["status"], text["status"]),
        effective_date=effective,
        in_services_catalog=flag in TRUE_WORDS,
    )
    problems = validate(item)
    return (None, problems) if problems else (item, [])


@dataclass(frozen=True)
class RowError:
    row: int  # the row as a spreadsheet numbers it: the header is row 1
    field: str
    message: str

    def as_field_error(self) -> FieldError:
        return FieldError(
            f"rows[{self.row}].{self.field}", _("Row %(row)d: %(problem)s", row=self.row, problem=self.message)
        )


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM); GB18030 as Excel on Chinese Windows saves it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise InvalidInput.field("file", _("The file is neither UTF-8 nor GB18030 text.")) from None


class _Unreadable(Exception):
    """A row the CSV reader cannot take."""

    def __init__(self, error: RowError) -> None:
        super().__init__(error.message)
        self.error = error


def _csv_rows(text: str) -> Iterator[list[str]]:
    """The rows of a CSV text; a row the reader cannot take (a value beyond its limit of 131,072
    characters) is an error naming the row, never a server error."""
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error:
            message = _("The row cannot be read: a value is too long or malformed.")
            raise _Unreadable(RowError(reader.line_num, "row", message)) from None
        yield values


def csv_columns(data: bytes) -> frozenset[str]:
    """The fields the file's header names (Chinese names as their fields)."""
    try:
        header = next(_csv_rows(decode_csv(data)))
    except (StopIteration, InvalidInput, _Unreadable):
        return frozenset()
    return frozenset(HEADER_ALIASES.get(h.strip(), h.strip()) for h in header)


def parse_csv(data: bytes) -> tuple[list[tuple[int, CatalogInput]], list[RowError]]:
    """Every row of the file, or every error (with its row and field). Pure: no database."""
    reader = _csv_rows(decode_csv(data))
    try:
        header_raw = next(reader)
    except StopIteration:
        return [], [RowError(1, "header", _("The file is empty."))]
    except _Unreadable as unreadable:
        return [], [RowError(1, "header", unreadable.error.message)]
    header = [HEADER_ALIASES.get(h.strip(), h.strip()) for h in header_raw]
    errors: list[RowError] = []
    unknown = [h for h in header if h and h not in FIELDS]
    missing = sorted(REQUIRED_COLUMNS - set(header))
    if unknown:
        errors.append(RowError(1, "header", _("Unknown columns: %(names)s.", names=", ".join(unknown))))
    if missing:
        errors.append(RowError(1, "header", _("Missing columns: %(names)s.", names=", ".join(missing))))
    duplicated = sorted({h for h in header if h and header.count(h) > 1})
    if duplicated:
        errors.append(RowError(1, "header", _("Columns named twice: %(names)s.", names=", ".join(duplicated))))
    if errors:
        return [], errors
    items: list[tuple[int, CatalogInput]] = []
    seen: dict[str, int] = {}
    try:
        rows = list(reader)
    except _Unreadable as unreadable:
        return [], [unreadable.error]
    for index, values in enumerate(rows, start=2):
        if not any(v.strip() for v in values):
            continue  # blank lines (Excel leaves some at the end)
        if len(values) > len(header) and any(v.strip() for v in values[len(header) :]):
            errors.append(RowError(index, "row", _("More values than columns.")))
            continue
        row = {name: csvout.unguard(values[i]) if i < len(values) else "" for i, name in enumerate(header) if name}
        item, problems = parse_row(row)
        errors.extend(RowError(index, e.field, e.message) for e in problems)
        code = row.get("code", "").strip()
        if code and code in seen:
            errors.append(
                RowError(index, "code", _("The code %(code)s is already in row %(row)d.", code=code, row=seen[code]))
            )
            continue
        if code:
            seen[code] = index
        if item is not None:
            items.append((index, item))
    if not items and not errors:
        errors.append(RowError(1, "header", _("The file has no rows.")))
    return items, errors


def export_csv(items: list[CatalogItem]) -> bytes:
    """The import's columns, through the one CSV writer (UTF-8 with BOM, so that Excel opens it
    with the Chinese intact; text cells formula-safe, taken back by the import)."""
    rows = []
    for item in items:
        row = item_values(item)
        row["fee_cap"] = "" if item.fee_cap is None else f"{item.fee_cap:.2f}"
        row["effective_date"] = item.effective_date.isoformat()
        row["in_services_catalog"] = "1" if item.in_services_catalog else "0"
        rows.append([row[f] for f in FIELDS])
    return csvout.to_csv(list(FIELDS), rows)


# --- persistence -------------------------------------------------------------------------------


def item_values(item: CatalogItem) -> dict[str, Any]:
    return {f: getattr(item, f) for f in FIELDS}


def input_of(item: CatalogItem) -> CatalogInput:
    return CatalogInput(**item_values(item))


def snapshot(item: CatalogItem, actor: Actor, note: str) -> CatalogItemVersion:
    return CatalogItemVersion(
        item_id=item.id,
        version=item.version,
        data=canonical(item_values(item)),
        changed_by=actor.user_id,
        note=note,
    )


async def create_item(session: AsyncSession, actor: Actor, data: CatalogInput, note: str = "") -> CatalogItem:
    data = check(data, note)
    if await session.scalar(select(CatalogItem.id).where(col(CatalogItem.code) == data.code)):
        raise Conflict(
            _("A catalog item with this code exists."), errors=[FieldError("code", _("Already in the catalog."))]
        )
    now = clock.now()
    item = CatalogItem(**data.as_dict(), created_at=now, updated_at=now)
    session.add(item)
    await session.flush()
    session.add(snapshot(item, actor, note or _("Created")))
    audit.record(session, actor, "catalog.item_created", "catalog_item", item.id, {"code": item.code, **data.as_dict()})
    return item


async def _locked(session: AsyncSession, code: str) -> CatalogItem:
    item = await session.scalar(
        select(CatalogItem)
        .where(col(CatalogItem.code) == code)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if item is None:
        raise NotFound(_("No catalog item with this code."))
    return item


async def update_item(
    session: AsyncSession,
    actor: Actor,
    code: str,
    changes: dict[str, Any],
    *,
    expected_version: int | None = None,
    note: str = "",
) -> tuple[CatalogItem, bool]:
    """Apply ``changes``; a real change writes a new version. Returns the item and whether it changed.

    A change to ``None`` clears an optional field (the fee cap, basis and qualification text); a
    required field cannot be cleared."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput.field(sorted(unknown)[0], _("This field cannot be changed."))
    cleared = [FieldError(name, _("Required.")) for name, v in changes.items() if v is None and name not in CLEARED]
    if cleared:
        raise InvalidInput(_("The catalog item is not valid."), _("Correct the fields named below."), errors=cleared)
    changes = {name: CLEARED[name] if value is None else value for name, value in changes.items()}
    item = await _locked(session, code)
    if expected_version is not None and item.version != expected_version:
        raise Conflict(
            _("Someone else changed this item first."),
            _(
                "You edited version %(mine)d; the item is now at version %(now)d. Reload and repeat your change.",
                mine=expected_version,
                now=item.version,
            ),
            errors=[FieldError("version", _("Out of date."))],
        )
    current = input_of(item)
    updated = check(dataclasses.replace(current, **changes), note)
    diff = {
        f: {"from": getattr(current, f), "to": getattr(updated, f)}
        for f in EDITABLE
        if getattr(current, f) != getattr(updated, f)
    }
    if not diff:
        return item, False
    for name in diff:
        setattr(item, name, getattr(updated, name))
    item.updated_at = clock.now()
    await session.flush()  # the version column moves on here (and detects a concurrent edit)
    session.add(snapshot(item, actor, note))
    audit.record(
        session,
        actor,
        "catalog.item_updated",
        "catalog_item",
        item.id,
        {"code": item.code, "version": item.version, "changes": diff, "note": note},
    )
    return item, True


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    sha256: str


async def import_csv(session: AsyncSession, actor: Actor, data: bytes) -> ImportResult:
    """All or nothing: any bad row raises InvalidInput listing every bad row and field."""
    rows, errors = parse_csv(data)
    if errors:
        raise InvalidInput(
            _("Nothing was imported: %(n)d problems in the file.", n=len(errors)),
            _("Correct the rows named below and import the whole file again."),
            errors=[e.as_field_error() for e in errors],
            extra={"rows": errors},
        )
    existing = {
        item.code: item
        for item in await session.scalars(
            select(CatalogItem)
            .where(col(CatalogItem.code).in_([item.code for _row, item in rows]))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    digest = hashlib.sha256(data).hexdigest()
    note = _("CSV import %(sha)s", sha=digest[:12])
    # an optional column the file leaves out changes nothing (an older file keeps the English names)
    columns = csv_columns(data) | REQUIRED_COLUMNS
    created = updated = unchanged = 0
    for _row, item in rows:
        if item.code in existing:
            changes = {f: getattr(item, f) for f in EDITABLE if f in columns}
            _item, changed = await update_item(session, actor, item.code, changes, note=note)
            updated += changed
            unchanged += not changed
        else:
            await create_item(session, actor, item, note=note)
            created += 1
    audit.record(
        session,
        actor,
        "catalog.imported",
        "catalog",
        digest,
        {"rows": len(rows), "created": created, "updated": updated, "unchanged": unchanged},
    )
    return ImportResult(created=created, updated=updated, unchanged=unchanged, sha256=digest)


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogQuery:
    q: str | None = None
    category: str | None = None
    fee_type: str | None = None
    status: str | None = None
    in_services_catalog: bool | None = None


def _filtered(query: CatalogQuery) -> SelectOfScalar[CatalogItem]:
    stmt = select(CatalogItem)
    if query.q:
        like = f"%{query.q.strip()}%"
        stmt = stmt.where(
            or_(
                col(CatalogItem.code).ilike(like),
                col(CatalogItem.name).ilike(like),
                col(CatalogItem.name_en).ilike(like),
                col(CatalogItem.category).ilike(like),
                col(CatalogItem.approval).ilike(like),
            )
        )
    if query.category:
        stmt = stmt.where(col(CatalogItem.category) == query.category)
    if query.fee_type:
        stmt = stmt.where(col(CatalogItem.fee_type) == query.fee_type)
    if query.status:
        stmt = stmt.where(col(CatalogItem.status) == query.status)
    if query.in_services_catalog is not None:
        stmt = stmt.where(col(CatalogItem.in_services_catalog).is_(query.in_services_catalog))
    return stmt


async def list_items(
    session: AsyncSession, query: CatalogQuery, *, limit: int = 50, offset: int = 0
) -> tuple[list[CatalogItem], int]:
    return await fetch_page(session, _filtered(query).order_by(col(CatalogItem.code)), limit=limit, offset=offset)


async def all_items(session: AsyncSession, query: CatalogQuery | None = None) -> list[CatalogItem]:
    return list(await session.scalars(_filtered(query or CatalogQuery()).order_by(col(CatalogItem.code))))


async def categories(session: AsyncSession) -> list[str]:
    stmt = select(CatalogItem.category).distinct().order_by(col(CatalogItem.category))
    return list(await session.scalars(stmt))


async def versions(session: AsyncSession, item: CatalogItem) -> list[CatalogItemVersion]:
    rows = await session.scalars(
        select(CatalogItemVersion)
        .where(col(CatalogItemVersion.item_id) == item.id)
        .order_by(col(CatalogItemVersion.version).desc())
    )
    return list(rows)


async def import_result(session: AsyncSession, sha256: str) -> ImportResult | None:
    """What the latest import of the file ``sha256`` did, as its audit event recorded it."""
    event = await session.scalar(
        select(AuditEvent)
        .where(col(AuditEvent.action) == "catalog.imported", col(AuditEvent.entity_id) == sha256)
        .order_by(col(AuditEvent.seq).desc())
        .limit(1)
    )
    if event is None:
        return None
    data = json.loads(event.data)
    return ImportResult(created=data["created"], updated=data["updated"], unchanged=data["unchanged"], sha256=sha256)


def typed_snapshot(data: dict[str, Any]) -> dict[str, Any]:
    """A version snapshot with its amount and date typed again (for display)."""
    out = dict(data)
    out["fee_cap"] = Decimal(data["fee_cap"]) if data.get("fee_cap") not in (None, "") else None
    out["effective_date"] = date.fromisoformat(data["effective_date"])
    return out


async def version_of(
    session: AsyncSession, item: CatalogItem, number: int
) -> tuple[CatalogItemVersion, dict[str, Any]]:
    row = await session.scalar(
        select(CatalogItemVersion).where(
            col(CatalogItemVersion.item_id) == item.id, col(CatalogItemVersion.version) == number
        )
    )
    if row is None:
        raise NotFound(_("This item has no such version."))
    data: dict[str, Any] = json.loads(row.data)
    return row, data
