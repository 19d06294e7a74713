"""bidding: bid drafts (a firm's clerk prepares, an approver submits)

* ``bid_drafts``: a bid being prepared, seen by its own organisation only; one open draft per
  firm and purchase (partial unique index); once submitted (with the bid it became) or discarded
  it never changes and is never deleted (trigger).

Revision ID: 0018_bid_drafts
Revises: 0017
Create Date: 2026-11-30 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from market.migrations.frozen import MONEY
from market.migrations.helpers import EVERY_COLUMN, frozen_when

revision = "0018_bid_drafts"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bid_drafts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("purchase_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("prepared_by", sa.Uuid(), nullable=True),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("service_days", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bid_id", sa.Uuid(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint("price > 0", name=op.f("ck_bid_drafts_price_positive")),
        sa.CheckConstraint("service_days > 0", name=op.f("ck_bid_drafts_service_days_positive")),
        sa.CheckConstraint("status IN ('draft', 'submitted', 'discarded')", name=op.f("ck_bid_drafts_status")),
        sa.CheckConstraint(
            "(status = 'submitted') = (bid_id IS NOT NULL AND submitted_at IS NOT NULL)",
            name=op.f("ck_bid_drafts_submitted_has_bid"),
        ),
        sa.ForeignKeyConstraint(["bid_id"], ["bids.id"], name=op.f("fk_bid_drafts_bid_id_bids")),
        sa.ForeignKeyConstraint(["prepared_by"], ["users.id"], name=op.f("fk_bid_drafts_prepared_by_users")),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["organizations.id"], name=op.f("fk_bid_drafts_provider_id_organizations")
        ),
        sa.ForeignKeyConstraint(["purchase_id"], ["purchases.id"], name=op.f("fk_bid_drafts_purchase_id_purchases")),
        sa.ForeignKeyConstraint(["submitted_by"], ["users.id"], name=op.f("fk_bid_drafts_submitted_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bid_drafts")),
    )
    with op.batch_alter_table("bid_drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bid_drafts_purchase_id"), ["purchase_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bid_drafts_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(
            "uq_bid_drafts_one_open",
            ["purchase_id", "provider_id"],
            unique=True,
            sqlite_where=sa.text("status = 'draft'"),
            postgresql_where=sa.text("status = 'draft'"),
        )
    frozen_when("bid_drafts", "OLD.status <> 'draft'", "a submitted or discarded bid draft never changes", frozen=EVERY_COLUMN)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS bid_drafts_frozen_update ON bid_drafts")
        op.execute("DROP TRIGGER IF EXISTS bid_drafts_frozen_delete ON bid_drafts")
    else:
        op.execute("DROP TRIGGER IF EXISTS bid_drafts_frozen_update")
        op.execute("DROP TRIGGER IF EXISTS bid_drafts_frozen_delete")
    with op.batch_alter_table("bid_drafts", schema=None) as batch_op:
        batch_op.drop_index("uq_bid_drafts_one_open")
        batch_op.drop_index(batch_op.f("ix_bid_drafts_provider_id"))
        batch_op.drop_index(batch_op.f("ix_bid_drafts_purchase_id"))
    op.drop_table("bid_drafts")
