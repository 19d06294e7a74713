"""audit anchors: signed statements of the chain head, published outside the database

``audit_anchors``: one row per slot (an hour; the midnight one ends a day in China), each the
chain head's seq and hash signed with Ed25519; append-only in the database itself, like
``audit_events``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from market.migrations.helpers import append_only

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_anchors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("slot", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.CheckConstraint("kind IN ('hour', 'day')", name=op.f("ck_audit_anchors_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchors")),
        sa.UniqueConstraint("slot", name=op.f("uq_audit_anchors_slot")),
    )
    append_only("audit_anchors")


def downgrade() -> None:
    op.drop_table("audit_anchors")
