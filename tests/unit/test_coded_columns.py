"""Every coded column (a CHECK constraint keeps it to a list of codes) is typed with its StrEnum,
whose members are exactly those codes, so that the code assigns and compares members and the
type checker sees them; ``market.db.StrEnumType`` stores the plain code (no database here)."""

from __future__ import annotations

import re

from sqlalchemy import CheckConstraint

from market.db import StrEnumType
from market.migrations.models import metadata

# "column IN ('a', 'b')", as market.db.one_of writes it
ONE_OF = re.compile(r"^(\w+) IN \(((?:'[^']*'(?:, )?)+)\)$")
# codes that are not a domain vocabulary: media types and the languages of a rendered document
NOT_ENUMS = {("stored_files", "content_type"), ("documents", "lang")}


def _coded_columns() -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for table in metadata.tables.values():
        for constraint in table.constraints:
            if not isinstance(constraint, CheckConstraint):
                continue
            match = ONE_OF.match(str(constraint.sqltext))
            if match:
                found[(table.name, match.group(1))] = re.findall(r"'([^']*)'", match.group(2))
    return found


def test_the_check_constraints_are_found():
    coded = _coded_columns()
    assert ("purchases", "status") in coded and ("ratings", "ratee_role") in coded
    assert coded[("invoices", "kind")] == ["invoice", "credit_note"]


def test_every_coded_column_is_typed_with_its_enum():
    untyped = []
    for (table, column), codes in sorted(_coded_columns().items()):
        if (table, column) in NOT_ENUMS:
            continue
        col_type = metadata.tables[table].columns[column].type
        if not isinstance(col_type, StrEnumType):
            untyped.append(f"{table}.{column}")
            continue
        assert [m.value for m in col_type.enum] == codes, f"{table}.{column}: the CHECK and the enum differ"
        assert max(len(c) for c in codes) <= (col_type.impl_instance.length or 0), f"{table}.{column}: too short"
    assert untyped == [], f"type these coded columns with StrEnumType(TheirEnum, length): {untyped}"
