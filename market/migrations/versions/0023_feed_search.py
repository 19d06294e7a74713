"""bidding: trigram indexes for the public purchase search (PostgreSQL)

* ``pg_trgm`` (PostgreSQL's contrib; Debian's ``postgresql-15`` ships it): created when the server
  has it and it is not there yet. Without it (a server built without contrib) the indexes are left
  out and the search scans, as before; nothing else depends on them.
* ``ix_purchases_{title,ref,catalog_code}_trgm``: GIN ``gin_trgm_ops`` indexes that serve the
  search's ``ILIKE '%q%'`` on each column (a BitmapOr of the three) for the page and its total, so
  a search reads the matching rows instead of the whole table. SQLite keeps its plain LIKE.

Revision ID: 0023_feed_search
Revises: 0018_worker_document_queue
Create Date: 2026-11-30 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_feed_search"
down_revision = "0018_worker_document_queue"
branch_labels = None
depends_on = None

SEARCHED = ("title", "ref", "catalog_code")


def _has_trgm(bind: sa.engine.Connection) -> bool:
    if bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first() is not None:
        return True
    if bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first() is None:
        return False
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    return True


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _has_trgm(bind):
        return
    for name in SEARCHED:
        op.create_index(
            f"ix_purchases_{name}_trgm",
            "purchases",
            [name],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={name: "gin_trgm_ops"},
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for name in SEARCHED:
        op.execute(f"DROP INDEX IF EXISTS ix_purchases_{name}_trgm")
    # the extension goes too (its functions live in the schema), unless something else uses it
    try:
        with bind.begin_nested():
            bind.execute(sa.text("DROP EXTENSION IF EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        pass
