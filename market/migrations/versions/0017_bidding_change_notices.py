"""bidding: change notices (变更公告) and bid confirmations

* ``purchase_change_notices``: an owner's amendment of an open purchase before its deadline, with
  its written reason and each changed field before and after; append-only;
* ``bid_confirmations``: a bidder confirms its sealed bid after a material change; append-only;
* ``purchases``: the published terms stay frozen, except that while the purchase is open the
  amendable ones (description, price cap, deadline, service days) may change, which only a change
  notice does. The frozen trigger now applies from the opening on (status neither draft nor
  open); a second trigger keeps every other term of an open purchase.

Merges the two heads 0012 (bidding) and 0015 (notifications).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 05:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from market.migrations.helpers import append_only, create_refuse_function

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TERMS = (
    "id", "ref", "round", "previous_id", "owner_id", "created_by", "catalog_item_id", "catalog_code",
    "title", "description", "budget_cap", "price_floor", "funding", "investment_code", "method",
    "bid_deadline", "service_days", "min_bids", "weight_price", "weight_quality", "weight_credit",
    "published_at", "created_at",
)  # fmt: skip
AMENDABLE = ("description", "budget_cap", "bid_deadline", "service_days")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _drop(name: str, table: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if _postgres() else f"DROP TRIGGER IF EXISTS {name}")


def _update_trigger(name: str, condition: str, columns: tuple[str, ...], message: str) -> None:
    if _postgres():
        same = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in columns)
        create_refuse_function()
        op.execute(
            f"CREATE TRIGGER {name} BEFORE UPDATE ON purchases FOR EACH ROW "
            f"WHEN (({condition}) AND NOT ({same})) EXECUTE FUNCTION market_refuse_change('{message}')"
        )
    else:
        same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in columns)
        op.execute(
            f"CREATE TRIGGER {name} BEFORE UPDATE ON purchases FOR EACH ROW "
            f"WHEN ({condition}) AND NOT ({same}) BEGIN SELECT RAISE(ABORT, 'purchases: {message}'); END"
        )


def upgrade() -> None:
    op.create_table(
        "purchase_change_notices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("purchase_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("material", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint("length(reason) >= 5", name=op.f("ck_purchase_change_notices_reason_given")),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_purchase_change_notices_seq_positive")),
        sa.ForeignKeyConstraint(
            ["published_by"], ["users.id"], name=op.f("fk_purchase_change_notices_published_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"], ["purchases.id"], name=op.f("fk_purchase_change_notices_purchase_id_purchases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_change_notices")),
        sa.UniqueConstraint("purchase_id", "seq", name=op.f("uq_purchase_change_notices_purchase_id_seq")),
    )
    with op.batch_alter_table("purchase_change_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purchase_change_notices_purchase_id"), ["purchase_id"], unique=False)
    op.create_table(
        "bid_confirmations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("bid_id", sa.Uuid(), nullable=False),
        sa.Column("notice_id", sa.Uuid(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["bid_id"], ["bids.id"], name=op.f("fk_bid_confirmations_bid_id_bids")),
        sa.ForeignKeyConstraint(["confirmed_by"], ["users.id"], name=op.f("fk_bid_confirmations_confirmed_by_users")),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["purchase_change_notices.id"],
            name=op.f("fk_bid_confirmations_notice_id_purchase_change_notices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bid_confirmations")),
        sa.UniqueConstraint("bid_id", "notice_id", name=op.f("uq_bid_confirmations_bid_id_notice_id")),
    )
    with op.batch_alter_table("bid_confirmations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bid_confirmations_bid_id"), ["bid_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bid_confirmations_notice_id"), ["notice_id"], unique=False)
    append_only("purchase_change_notices")
    append_only("bid_confirmations")
    # the terms: frozen from the opening on; while open, all but the amendable ones
    _drop("purchases_frozen_update", "purchases")
    _update_trigger(
        "purchases_frozen_update", "OLD.status NOT IN ('draft', 'open')", TERMS, "a published purchase is frozen"
    )
    _update_trigger(
        "purchases_open_terms_update",
        "OLD.status = 'open'",
        tuple(c for c in TERMS if c not in AMENDABLE),
        "an open purchase changes only by a change notice",
    )


def downgrade() -> None:
    _drop("purchases_open_terms_update", "purchases")
    _drop("purchases_frozen_update", "purchases")
    _update_trigger("purchases_frozen_update", "OLD.status <> 'draft'", TERMS, "a published purchase is frozen")
    for table in ("bid_confirmations", "purchase_change_notices"):
        if _postgres():
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    with op.batch_alter_table("bid_confirmations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bid_confirmations_notice_id"))
        batch_op.drop_index(batch_op.f("ix_bid_confirmations_bid_id"))
    op.drop_table("bid_confirmations")
    with op.batch_alter_table("purchase_change_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchase_change_notices_purchase_id"))
    op.drop_table("purchase_change_notices")
