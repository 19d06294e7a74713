"""listings: violation points with appeal (issue 13.2)

* ``violations``: a violation the operator recorded against a firm: category from the published
  list, points (1–12), written reason, optional evidence (a stored file), when the firm's appeal
  window ends, and its status (appealable, under_appeal, upheld, dismissed, final);
* ``violation_appeals``: the firm's one appeal per violation (unique) and the operator's written
  decision, whole or absent.

A recorded violation never changes but its status (and when it closed); a decided appeal never
changes at all (frozen-row triggers, ``market/migrations/guards.py``).

Revision ID: 0018_sanctions
Revises: 0018_credit
Create Date: 2026-11-30 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from market.migrations.helpers import EVERY_COLUMN, frozen_when

revision = "0018_sanctions"
down_revision = "0018_credit"
branch_labels = None
depends_on = None

CATEGORIES = (
    "false_materials", "collusion", "improper_benefit", "fee_violation", "poor_quality", "overdue_service",
    "subcontracting", "broken_commitment", "other",
)  # fmt: skip
STATUSES = ("appealable", "under_appeal", "upheld", "dismissed", "final")
RECORD = (
    "id", "provider_id", "category", "points", "reason", "evidence_sha256", "evidence_filename", "recorded_at",
    "recorded_by", "appeal_due_at",
)  # fmt: skip


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "violations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=True),
        sa.Column("evidence_filename", sa.String(length=200), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("appeal_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(_one_of("status", STATUSES), name=op.f("ck_violations_status")),
        sa.CheckConstraint(_one_of("category", CATEGORIES), name=op.f("ck_violations_category")),
        sa.CheckConstraint("points >= 1 AND points <= 12", name=op.f("ck_violations_points_range")),
        sa.CheckConstraint("length(reason) >= 5", name=op.f("ck_violations_reason_given")),
        sa.CheckConstraint("appeal_due_at > recorded_at", name=op.f("ck_violations_appeal_window")),
        sa.CheckConstraint(
            "(evidence_sha256 IS NULL) = (evidence_filename IS NULL)", name=op.f("ck_violations_evidence_named")
        ),
        sa.CheckConstraint(
            "(status IN ('final', 'dismissed', 'upheld')) = (closed_at IS NOT NULL)",
            name=op.f("ck_violations_closed_when_decided"),
        ),
        sa.ForeignKeyConstraint(
            ["evidence_sha256"], ["stored_files.sha256"], name=op.f("fk_violations_evidence_sha256_stored_files")
        ),
        sa.ForeignKeyConstraint(["provider_id"], ["organizations.id"], name=op.f("fk_violations_provider_id_organizations")),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"], name=op.f("fk_violations_recorded_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_violations")),
    )
    with op.batch_alter_table("violations", schema=None) as batch_op:
        batch_op.create_index("ix_violations_provider_id_recorded_at", ["provider_id", "recorded_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_violations_status"), ["status"], unique=False)
    op.create_table(
        "violation_appeals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("violation_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_by", sa.Uuid(), nullable=True),
        sa.Column("upheld", sa.Boolean(), nullable=True),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint("length(text) >= 5", name=op.f("ck_violation_appeals_text_given")),
        sa.CheckConstraint(
            "(decided_at IS NULL) = (upheld IS NULL) AND (decided_at IS NULL) = (decision IS NULL)",
            name=op.f("ck_violation_appeals_decided_whole"),
        ),
        sa.CheckConstraint(
            "decision IS NULL OR length(decision) >= 5", name=op.f("ck_violation_appeals_decision_given")
        ),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_violation_appeals_decided_by_users")),
        sa.ForeignKeyConstraint(["filed_by"], ["users.id"], name=op.f("fk_violation_appeals_filed_by_users")),
        sa.ForeignKeyConstraint(
            ["violation_id"], ["violations.id"], name=op.f("fk_violation_appeals_violation_id_violations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_violation_appeals")),
        sa.UniqueConstraint("violation_id", name=op.f("uq_violation_appeals_violation_id")),
    )
    frozen_when("violations", "1 = 1", "a recorded violation never changes but its status", frozen=RECORD)
    frozen_when("violation_appeals", "OLD.decided_at IS NOT NULL", "a decided appeal never changes", frozen=EVERY_COLUMN)


def downgrade() -> None:
    op.drop_table("violation_appeals")
    with op.batch_alter_table("violations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_violations_status"))
        batch_op.drop_index("ix_violations_provider_id_recorded_at")
    op.drop_table("violations")
