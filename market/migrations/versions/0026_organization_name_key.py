"""identity: each organisation's name stored with its place in the order of a Chinese dictionary

``organizations.name_key`` (``market.collation.name_sort_key``: the pinyin sort text in UTF-8,
bytes that compare as the rule's keys do) and ``ix_organizations_directory`` on ``(kind, status,
name_key, id)``: the public directory's page is a walk of the index with LIMIT, where it read and
sorted every approved firm by pinyin per request (a province's 2,020 firms). The app sets the key
whenever it writes a name (``market.identity.models._keep_name_key``); this migration computes it
for the rows there are. Both databases (SQLite needs a default to add a NOT NULL column; the rows
are filled right after).

Revision ID: 0026_organization_name_key
Revises: 0025_bid_summary_index
Create Date: 2026-11-30 13:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from market.collation import name_sort_key

revision = "0026_organization_name_key"
down_revision = "0025_bid_summary_index"
branch_labels = None
depends_on = None

_orgs = sa.table(
    "organizations", sa.column("id", sa.Uuid()), sa.column("name", sa.String()), sa.column("name_key", sa.LargeBinary())
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.add_column(
            "organizations", sa.Column("name_key", sa.LargeBinary(), server_default=sa.text("X''"), nullable=False)
        )
    else:
        op.add_column("organizations", sa.Column("name_key", sa.LargeBinary(), nullable=True))
    rows = [{"oid": oid, "key": name_sort_key(name)} for oid, name in bind.execute(sa.select(_orgs.c.id, _orgs.c.name))]
    if rows:
        bind.execute(_orgs.update().where(_orgs.c.id == sa.bindparam("oid")).values(name_key=sa.bindparam("key")), rows)
    if bind.dialect.name != "sqlite":
        op.alter_column("organizations", "name_key", nullable=False)
    op.create_index("ix_organizations_directory", "organizations", ["kind", "status", "name_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_organizations_directory", table_name="organizations")
    op.drop_column("organizations", "name_key")
