"""Database-level guarantees that code alone cannot give: append-only and frozen rows.

Used by migrations. On PostgreSQL they are PL/pgSQL triggers, on SQLite ``RAISE(ABORT)``
triggers; both refuse the statement, so even an operator with SQL access cannot silently edit
an issued document (and the audit chain shows it if someone drops the trigger first).
"""

from __future__ import annotations

from alembic import op


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


def frozen_when(table: str, condition_old: str, message: str, *, allow_columns: tuple[str, ...] = ()) -> None:
    """Refuse UPDATE and DELETE of rows for which ``condition_old`` (an SQL condition on the
    row's current values, written with ``OLD.``) holds. ``allow_columns`` may still change
    (e.g. a rendered PDF's hash filled in once)."""
    name = f"{table}_frozen"
    if _dialect() == "postgresql":
        create_refuse_function()
        if allow_columns:
            same = " AND ".join(
                f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in _columns(table) if c not in allow_columns
            )
            update_condition = f"({condition_old}) AND NOT ({same})"
        else:
            update_condition = condition_old
        op.execute(
            f"CREATE TRIGGER {name}_update BEFORE UPDATE ON {table} FOR EACH ROW "
            f"WHEN ({update_condition}) EXECUTE FUNCTION market_refuse_change('{message}')"
        )
        op.execute(
            f"CREATE TRIGGER {name}_delete BEFORE DELETE ON {table} FOR EACH ROW "
            f"WHEN ({condition_old}) EXECUTE FUNCTION market_refuse_change('{message}')"
        )
    else:
        if allow_columns:
            same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _columns(table) if c not in allow_columns)
            update_condition = f"({condition_old}) AND NOT ({same})"
        else:
            update_condition = condition_old
        op.execute(
            f"CREATE TRIGGER {name}_update BEFORE UPDATE ON {table} FOR EACH ROW "
            f"WHEN {update_condition} BEGIN SELECT RAISE(ABORT, '{table}: {message}'); END"
        )
        op.execute(
            f"CREATE TRIGGER {name}_delete BEFORE DELETE ON {table} FOR EACH ROW "
            f"WHEN {condition_old} BEGIN SELECT RAISE(ABORT, '{table}: {message}'); END"
        )


def drop_frozen(table: str) -> None:
    name = f"{table}_frozen"
    if _dialect() == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {name}_update ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {name}_delete ON {table}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {name}_update")
        op.execute(f"DROP TRIGGER IF EXISTS {name}_delete")


def _columns(table: str) -> list[str]:
    from sqlalchemy import inspect

    return [c["name"] for c in inspect(op.get_bind()).get_columns(table)]
