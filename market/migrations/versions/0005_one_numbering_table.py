"""one numbering table: purchase references join the number_counters of contracts and invoices

The purchase references (CG-) had a counter table of their own; every gap-free series now lives
in ``number_counters`` (series, scope, year). The counts carry over, so the next reference of a
year follows the last one issued.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO number_counters (series, scope, year, value) "
        "SELECT 'purchase', '-', year, last FROM purchase_ref_counters"
    )
    op.drop_table("purchase_ref_counters")


def downgrade() -> None:
    op.create_table(
        "purchase_ref_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.CheckConstraint("last >= 0", name=op.f("ck_purchase_ref_counters_last_not_negative")),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_purchase_ref_counters")),
    )
    op.execute(
        "INSERT INTO purchase_ref_counters (year, last) "
        "SELECT year, value FROM number_counters WHERE series = 'purchase' AND scope = '-'"
    )
    op.execute("DELETE FROM number_counters WHERE series = 'purchase'")
