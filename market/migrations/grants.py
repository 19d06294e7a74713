"""The application's database role: the privileges it needs, and nothing that owning a table gives.

The migrations run as the role that owns the tables. The app and the worker connect as another
role, which :func:`grant_app_role` gives exactly what they use (run by the owner after every
upgrade; running it again changes nothing):

* ``SELECT, INSERT, UPDATE, DELETE`` on every table of the schema, except
* ``SELECT, INSERT`` only on the append-only tables (those with an ``…_append_only`` trigger:
  the audit trail, its anchors, former values), and ``SELECT`` only on ``alembic_version``;
* ``USAGE`` on every sequence; ``USAGE`` on the schema and ``CONNECT`` on the database.

Whatever it held before on the schema's tables and sequences is revoked first. Never ownership:
only a table's owner may ``ALTER TABLE … DISABLE TRIGGER``, so the app role cannot switch off the
guards of the audit trail or of frozen rows, and PostgreSQL refuses it UPDATE on audit events
twice over (no privilege, and the trigger).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from market.db import sync_url

VERSION_TABLE = "alembic_version"
APPEND_ONLY_TRIGGER_SUFFIX = "_append_only"


class GrantRefused(ValueError):
    """The role cannot be made the application's role (absent, a superuser, the owner)."""


@dataclass
class Granted:
    read_write: list[str] = field(default_factory=list)
    append_only: list[str] = field(default_factory=list)
    read_only: list[str] = field(default_factory=list)
    sequences: list[str] = field(default_factory=list)


def grant_app_role(database_url: str, role: str, schema: str = "public") -> Granted:
    """Give ``role`` exactly the application's privileges on the database at ``database_url``
    (connected as the tables' owner). PostgreSQL only."""
    if not database_url.startswith(("postgresql", "postgres")):
        raise GrantRefused("database roles exist on PostgreSQL only; SQLite has no users to grant to")
    engine = create_engine(sync_url(database_url))
    try:
        with engine.begin() as conn:
            return _grant(conn, role, schema)
    finally:
        engine.dispose()


def _grant(conn: Connection, role: str, schema: str) -> Granted:
    found = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if found is None:
        raise GrantRefused(f"there is no role {role!r}: create it first (CREATE ROLE … LOGIN PASSWORD …)")
    if found.rolsuper:
        raise GrantRefused(f"{role!r} is a superuser: it bypasses every privilege; use a plain role")
    tables = conn.execute(
        text("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = :s ORDER BY tablename"), {"s": schema}
    ).all()
    if any(t.tableowner == role for t in tables):
        raise GrantRefused(f"{role!r} owns tables of {schema!r}: the application's role must own none")
    append_only = set(
        conn.execute(
            text(
                "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :s AND NOT t.tgisinternal AND t.tgname = c.relname || :suffix"
            ),
            {"s": schema, "suffix": APPEND_ONLY_TRIGGER_SUFFIX},
        ).scalars()
    )
    sequences = list(
        conn.execute(
            text("SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = :s ORDER BY 1"),
            {"s": schema},
        ).scalars()
    )
    quote = conn.dialect.identifier_preparer.quote
    who, where = quote(role), quote(schema)
    database = conn.execute(text("SELECT current_database()")).scalar_one()
    conn.execute(text(f"GRANT CONNECT ON DATABASE {quote(database)} TO {who}"))
    conn.execute(text(f"GRANT USAGE ON SCHEMA {where} TO {who}"))
    conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {where} FROM {who}"))
    conn.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {where} FROM {who}"))
    granted = Granted(sequences=sequences)
    for table in (t.tablename for t in tables):
        name = f"{where}.{quote(table)}"
        if table == VERSION_TABLE:
            privileges, bucket = "SELECT", granted.read_only
        elif table in append_only:
            privileges, bucket = "SELECT, INSERT", granted.append_only
        else:
            privileges, bucket = "SELECT, INSERT, UPDATE, DELETE", granted.read_write
        conn.execute(text(f"GRANT {privileges} ON {name} TO {who}"))
        bucket.append(table)
    for sequence in sequences:
        conn.execute(text(f"GRANT USAGE ON SEQUENCE {where}.{quote(sequence)} TO {who}"))
    return granted
