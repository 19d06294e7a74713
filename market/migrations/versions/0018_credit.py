"""listings: firms' credit records (issue 13)

* ``credit_facts``: the facts a firm's score counts (ratings, late or returned deliveries, upheld
  objections, refusals to sign, violation points…), pushed by the package where each happens; one
  per kind and source; every column but ``counts`` frozen, no row deleted;
* ``credit_records``: each firm's score and grade as last computed, with the time of its next
  change (a fact ageing out after three years; at most a day, since the platform mean moves);
* ``credit_grade_changes``: each move of a firm's grade (append-only), for the finance bureau.

Revision ID: 0018_credit
Revises: 0017
Create Date: 2026-11-30 07:34:38
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from market.migrations.frozen import MONEY
from market.migrations.helpers import append_only, frozen_when

revision = "0018_credit"
down_revision = "0017"
branch_labels = None
depends_on = None

FACT_FROZEN = (
    "id", "provider_id", "kind", "occurred_at", "value", "source_id", "link", "note", "created_at",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "credit_facts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", MONEY, nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("counts", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('rating', 'delivery_late', 'delivery_returned', 'objection_upheld', 'refused_to_sign', 'abnormally_low_unexplained', 'violation')",
            name=op.f("ck_credit_facts_kind"),
        ),
        sa.CheckConstraint("value >= 0", name=op.f("ck_credit_facts_value_not_negative")),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["organizations.id"], name=op.f("fk_credit_facts_provider_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_facts")),
        sa.UniqueConstraint("kind", "source_id", name=op.f("uq_credit_facts_kind_source_id")),
    )
    with op.batch_alter_table("credit_facts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_facts_provider_id"), ["provider_id"], unique=False)

    op.create_table(
        "credit_records",
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("score", MONEY, nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=False),
        sa.Column("facts", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_change_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("grade IN ('A', 'B', 'C', 'D')", name=op.f("ck_credit_records_grade")),
        sa.CheckConstraint("score >= 0", name=op.f("ck_credit_records_score_not_negative")),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["organizations.id"], name=op.f("fk_credit_records_provider_id_organizations")
        ),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_credit_records")),
    )
    with op.batch_alter_table("credit_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_records_next_change_at"), ["next_change_at"], unique=False)

    op.create_table(
        "credit_grade_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old_score", MONEY, nullable=False),
        sa.Column("new_score", MONEY, nullable=False),
        sa.Column("old_grade", sa.String(length=1), nullable=False),
        sa.Column("new_grade", sa.String(length=1), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("fact_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "cause IN ('fact_recorded', 'counts_changed', 'recomputed')", name=op.f("ck_credit_grade_changes_cause")
        ),
        sa.CheckConstraint("new_grade IN ('A', 'B', 'C', 'D')", name=op.f("ck_credit_grade_changes_new_grade")),
        sa.CheckConstraint("old_grade IN ('A', 'B', 'C', 'D')", name=op.f("ck_credit_grade_changes_old_grade")),
        sa.ForeignKeyConstraint(
            ["fact_id"], ["credit_facts.id"], name=op.f("fk_credit_grade_changes_fact_id_credit_facts")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["organizations.id"], name=op.f("fk_credit_grade_changes_provider_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_grade_changes")),
    )
    with op.batch_alter_table("credit_grade_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_grade_changes_changed_at"), ["changed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_grade_changes_provider_id"), ["provider_id"], unique=False)

    append_only("credit_grade_changes")
    frozen_when("credit_facts", "1 = 1", "a credit fact never changes but whether it counts", frozen=FACT_FROZEN)


def downgrade() -> None:
    with op.batch_alter_table("credit_grade_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_grade_changes_provider_id"))
        batch_op.drop_index(batch_op.f("ix_credit_grade_changes_changed_at"))

    op.drop_table("credit_grade_changes")
    with op.batch_alter_table("credit_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_records_next_change_at"))

    op.drop_table("credit_records")
    with op.batch_alter_table("credit_facts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_facts_provider_id"))

    op.drop_table("credit_facts")
