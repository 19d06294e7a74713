"""bidding: the change sequence of a purchase (the open data feed's keyset); list indexes

* ``purchases.change_seq``: the number of the last audit event of the last commit that changed
  the purchase or what hangs off it (taken under the audit chain head's lock, so it grows in
  commit order); existing purchases start at 0 and are ordered among themselves by id;
* indexes: ``(change_seq, id)`` for the feed, ``(status, bid_deadline)`` for the open purchases,
  ``published_at`` for the public list.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 05:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE (no batch copy on SQLite, which would drop the purchases' triggers)
    op.add_column("purchases", sa.Column("change_seq", sa.BigInteger(), server_default="0", nullable=False))
    op.create_index("ix_purchases_change_seq", "purchases", ["change_seq", "id"])
    op.create_index("ix_purchases_status_bid_deadline", "purchases", ["status", "bid_deadline"])
    op.create_index(op.f("ix_purchases_published_at"), "purchases", ["published_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_purchases_published_at"), table_name="purchases")
    op.drop_index("ix_purchases_status_bid_deadline", table_name="purchases")
    op.drop_index("ix_purchases_change_seq", table_name="purchases")
    op.drop_column("purchases", "change_seq")
