"""listings: firms' credit records (issue 13)

* ``credit_facts``: the facts a firm's score counts (ratings, late or returned deliveries, upheld
  objections, refusals to sign, violation points…), pushed by the package where each happens; one
  per kind and source; every column but ``counts`` frozen, no row deleted;
* ``credit_records``: each firm's score and grade as last computed, with the time of its next
  change (a fact ageing out after three years; at most a day, since the platform mean moves);
* ``credit_grade_changes``: each move of a firm's grade (append-only), for the finance bureau;
* ``purchases.min_grade``: the lowest credit grade a purchase admits (a published term: the frozen
  triggers of 0017 are re-created with it); ``bids.credit_grade``: the bidder's grade at the deadline,
  snapshotted at the opening with ``credit_score``.

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

GRADES = "('A', 'B', 'C', 'D')"
TERMS = (
    "id", "ref", "round", "previous_id", "owner_id", "created_by", "catalog_item_id", "catalog_code",
    "title", "description", "budget_cap", "price_floor", "funding", "investment_code", "method",
    "bid_deadline", "service_days", "min_bids", "weight_price", "weight_quality", "weight_credit",
    "published_at", "created_at",
)  # fmt: skip  (as 0017 froze them)
AMENDABLE = ("description", "budget_cap", "bid_deadline", "service_days")
FACT_FROZEN = (
    "id", "provider_id", "kind", "occurred_at", "value", "source_id", "link", "note", "created_at",
)  # fmt: skip


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _drop(name: str, table: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if _postgres() else f"DROP TRIGGER IF EXISTS {name}")


def _update_trigger(name: str, condition: str, columns: tuple[str, ...], message: str) -> None:
    if _postgres():
        same = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in columns)
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


def _purchase_triggers(terms: tuple[str, ...]) -> None:
    _drop("purchases_open_terms_update", "purchases")
    _drop("purchases_frozen_update", "purchases")
    _update_trigger(
        "purchases_frozen_update", "OLD.status NOT IN ('draft', 'open')", terms, "a published purchase is frozen"
    )
    _update_trigger(
        "purchases_open_terms_update",
        "OLD.status = 'open'",
        tuple(c for c in terms if c not in AMENDABLE),
        "an open purchase changes only by a change notice",
    )


def upgrade() -> None:
    # plain ALTER TABLE (a batch would rebuild the tables and lose their triggers), the CHECK inline
    op.execute(
        f"ALTER TABLE purchases ADD COLUMN min_grade VARCHAR(1) "
        f"CONSTRAINT ck_purchases_min_grade CHECK (min_grade IN {GRADES})"
    )
    op.execute(
        f"ALTER TABLE bids ADD COLUMN credit_grade VARCHAR(1) "
        f"CONSTRAINT ck_bids_credit_grade CHECK (credit_grade IN {GRADES})"
    )
    _purchase_triggers((*TERMS, "min_grade"))
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
    _drop("purchases_open_terms_update", "purchases")
    _drop("purchases_frozen_update", "purchases")
    op.execute("ALTER TABLE bids DROP COLUMN credit_grade")
    op.execute("ALTER TABLE purchases DROP COLUMN min_grade")
    _purchase_triggers(TERMS)
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
