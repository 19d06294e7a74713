"""Database-level guarantees that code alone cannot give: append-only and frozen rows.

Used by migrations. On PostgreSQL they are PL/pgSQL triggers, on SQLite ``RAISE(ABORT)``
triggers; both refuse the statement, so even an operator with SQL access cannot silently edit
an issued document (and the audit chain shows it if someone drops the trigger first).

A migration must create the same schema forever, so these helpers read nothing from the live
database: :func:`frozen_when` is given the frozen columns explicitly, as they were when the
migration was written. The guards as they stand at the head revision are declared in
:mod:`market.migrations.guards` (the tests hold the models and the database to it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

from alembic import op

EVERY_COLUMN: Final = "*"
"""``frozen=EVERY_COLUMN``: the whole row, whatever its columns are now or later; every UPDATE is
refused, even one that changes nothing."""


def _dialect() -> str:
    return op.get_bind().dialect.name


def create_refuse_function() -> None:
    if _dialect() == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION market_refuse_change() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION '%: %', TG_TABLE_NAME, TG_ARGV[0] USING ERRCODE = 'restrict_violation';
            END $$ LANGUAGE plpgsql
            """
        )


def drop_refuse_function() -> None:
    """The downgrade of the first migration that created the function (once no trigger uses it)."""
    if _dialect() == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS market_refuse_change()")


def append_only(table: str) -> None:
    """Refuse every UPDATE and DELETE (and TRUNCATE on PostgreSQL) on ``table``."""
    message = "rows are append-only"
    if _dialect() == "postgresql":
        create_refuse_function()
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION market_refuse_change('{message}')"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION market_refuse_change('{message}')"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table}: {message}'); END"
            )


def frozen_when(table: str, condition_old: str, message: str, *, frozen: Sequence[str] | Literal["*"]) -> None:
    """Refuse UPDATE and DELETE of rows for which ``condition_old`` (an SQL condition on the
    row's current values, written with ``OLD.``) holds.

    ``frozen`` names the columns such a row may not change (every other column still may, e.g.
    a status moving on), in the table's column order; or :data:`EVERY_COLUMN` for the whole
    row. A column added to the table later is *not* frozen by this trigger: the migration that
    adds it decides, and re-creates the trigger if the column is to be frozen.
    """
    if frozen != EVERY_COLUMN and not frozen:
        raise ValueError(f"frozen_when({table!r}): name the frozen columns, or pass EVERY_COLUMN")
    name = f"{table}_frozen"
    postgres = _dialect() == "postgresql"
    if frozen == EVERY_COLUMN:
        update_condition = condition_old
    else:
        if postgres:
            same = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in frozen)
        else:
            same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in frozen)
        update_condition = f"({condition_old}) AND NOT ({same})"
    if postgres:
        create_refuse_function()
        op.execute(
            f"CREATE TRIGGER {name}_update BEFORE UPDATE ON {table} FOR EACH ROW "
            f"WHEN ({update_condition}) EXECUTE FUNCTION market_refuse_change('{message}')"
        )
        op.execute(
            f"CREATE TRIGGER {name}_delete BEFORE DELETE ON {table} FOR EACH ROW "
            f"WHEN ({condition_old}) EXECUTE FUNCTION market_refuse_change('{message}')"
        )
    else:
        op.execute(
            f"CREATE TRIGGER {name}_update BEFORE UPDATE ON {table} FOR EACH ROW "
            f"WHEN {update_condition} BEGIN SELECT RAISE(ABORT, '{table}: {message}'); END"
        )
        op.execute(
            f"CREATE TRIGGER {name}_delete BEFORE DELETE ON {table} FOR EACH ROW "
            f"WHEN {condition_old} BEGIN SELECT RAISE(ABORT, '{table}: {message}'); END"
        )
