"""bidding + invoices: an award voided because its winner did not sign (issue 13.4)

* ``selections``: status ``voided`` with ``voided_at`` and ``void_reason`` (a CHECK keeps the three
  together); the frozen-row trigger stays as it was (the new columns may be set with the status),
  and a second trigger keeps a voided selection whole;
* ``contracts``: status ``void`` with ``voided_at``, ``voided_by`` and ``void_reason`` (a CHECK:
  only an unsigned contract, and never one the provider has signed, is void, with its reason);
  a voided draft stays beside the contract of the rerun's award, so the unique ``purchase_id``
  becomes a partial unique index over the contracts that are not void (plus a plain index).
  The new columns are frozen once both parties have signed (the frozen-row trigger is re-created
  with them), and a second trigger keeps a void contract whole.

On SQLite the two tables are rebuilt (CHECK constraints change), which drops their triggers: they
are created again as they are declared in ``market.migrations.guards``.

Downgrade refuses while a voided selection or contract exists (its data has no place before).

Revision ID: 0018_walkaway
Revises: 0018_credit
Create Date: 2026-11-30 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from market.migrations.helpers import create_refuse_function, frozen_when

revision = "0018_walkaway"
down_revision = "0018_sanctions"
branch_labels = None
depends_on = None

SELECTION_FROZEN = (
    "id", "purchase_id", "round", "method", "winner_bid_id", "price", "reason", "evaluation",
    "draw_commitment", "draw_secret", "draw_seed", "draw_candidates", "draw_index", "selected_at",
    "selected_by", "publicity_ends_at",
)  # fmt: skip
CONTRACT_FROZEN = (
    "id", "number", "purchase_id", "purchase_ref", "bid_id", "title", "scope", "catalog_code", "catalog_name",
    "method", "draw_seed", "awarded_at", "owner_id", "owner_name", "owner_uscc", "owner_address",
    "owner_legal_rep", "provider_id", "provider_name", "provider_uscc", "provider_address", "provider_legal_rep",
    "amount", "amount_in_words", "service_days", "payment_days", "template", "drafted_at", "sign_by",
    "owner_signed_at", "owner_signed_by", "owner_signed_ip", "provider_signed_at", "provider_signed_by",
    "provider_signed_ip", "signed_at", "due_at",
)  # fmt: skip
VOID_COLUMNS = ("voided_at", "voided_by", "void_reason")

SELECTION_STATUS_OLD = "status IN ('current', 'overturned')"
SELECTION_STATUS_NEW = "status IN ('current', 'overturned', 'voided')"
SELECTION_VOIDED = (
    "(status = 'voided' AND voided_at IS NOT NULL AND void_reason IS NOT NULL) "
    "OR (status <> 'voided' AND voided_at IS NULL AND void_reason IS NULL)"
)
CONTRACT_STATUS_OLD = "status IN ('draft', 'signed', 'delivered', 'returned', 'accepted')"
CONTRACT_STATUS_NEW = "status IN ('draft', 'signed', 'delivered', 'returned', 'accepted', 'void')"
CONTRACT_PROGRESS_OLD = "status = 'draft' OR signed_at IS NOT NULL"
CONTRACT_PROGRESS_NEW = "status IN ('draft', 'void') OR signed_at IS NOT NULL"
CONTRACT_VOID = (
    "(status = 'void' AND voided_at IS NOT NULL AND voided_by IS NOT NULL AND void_reason IS NOT NULL "
    "AND signed_at IS NULL AND provider_signed_at IS NULL) "
    "OR (status <> 'void' AND voided_at IS NULL AND voided_by IS NULL AND void_reason IS NULL)"
)
LIVE = "status <> 'void'"


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _drop_trigger(name: str, table: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if _postgres() else f"DROP TRIGGER IF EXISTS {name}")


def _drop_frozen(table: str) -> None:
    _drop_trigger(f"{table}_frozen_update", table)
    _drop_trigger(f"{table}_frozen_delete", table)


def _void_trigger(table: str, condition: str, message: str) -> None:
    """A second guard: the whole row once ``condition`` holds (named ``<table>_void_*``)."""
    postgres = _postgres()
    if postgres:
        create_refuse_function()
    for verb in ("UPDATE", "DELETE"):
        name = f"{table}_void_{verb.lower()}"
        if postgres:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {verb} ON {table} FOR EACH ROW "
                f"WHEN ({condition}) EXECUTE FUNCTION market_refuse_change('{message}')"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {verb} ON {table} FOR EACH ROW "
                f"WHEN {condition} BEGIN SELECT RAISE(ABORT, '{table}: {message}'); END"
            )


def _selection_guards() -> None:
    frozen_when("selections", "1 = 1", "a published selection never changes", frozen=SELECTION_FROZEN)


def _contract_guards(frozen: tuple[str, ...]) -> None:
    frozen_when(
        "contracts",
        "OLD.signed_at IS NOT NULL",
        "a contract signed by both parties is immutable; change it by a supplementary agreement",
        frozen=frozen,
    )


def upgrade() -> None:
    sqlite = not _postgres()
    with op.batch_alter_table("selections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("void_reason", sa.Text(), nullable=True))
        batch_op.drop_constraint(op.f("ck_selections_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_selections_status"), SELECTION_STATUS_NEW)
        batch_op.create_check_constraint(op.f("ck_selections_voided_with_reason"), SELECTION_VOIDED)
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("voided_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("void_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_contracts_voided_by_users"), "users", ["voided_by"], ["id"])
        batch_op.drop_constraint(op.f("ck_contracts_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_contracts_status"), CONTRACT_STATUS_NEW)
        batch_op.drop_constraint(op.f("ck_contracts_signed_before_progress"), type_="check")
        batch_op.create_check_constraint(op.f("ck_contracts_signed_before_progress"), CONTRACT_PROGRESS_NEW)
        batch_op.create_check_constraint(op.f("ck_contracts_void_unsigned_with_reason"), CONTRACT_VOID)
        batch_op.drop_constraint(op.f("uq_contracts_purchase_id"), type_="unique")
        batch_op.create_index(batch_op.f("ix_contracts_purchase_id"), ["purchase_id"], unique=False)
        batch_op.create_index(
            "uq_contracts_live_purchase_id",
            ["purchase_id"],
            unique=True,
            sqlite_where=sa.text(LIVE),
            postgresql_where=sa.text(LIVE),
        )
    if sqlite:  # the rebuilt tables lost their triggers
        _drop_frozen("selections")
        _selection_guards()
    _drop_frozen("contracts")
    _contract_guards(CONTRACT_FROZEN + VOID_COLUMNS)
    _void_trigger("selections", "OLD.status = 'voided'", "a voided selection never changes")
    _void_trigger("contracts", "OLD.status = 'void'", "a voided contract never changes")


def downgrade() -> None:
    bind = op.get_bind()
    for table, status in (("selections", "voided"), ("contracts", "void")):
        if bind.execute(sa.text(f"SELECT count(*) FROM {table} WHERE status = '{status}'")).scalar():
            raise RuntimeError(f"{table}: voided rows exist; they cannot be kept before 0018_walkaway")
    sqlite = not _postgres()
    for table in ("selections", "contracts"):
        _drop_trigger(f"{table}_void_update", table)
        _drop_trigger(f"{table}_void_delete", table)
    _drop_frozen("contracts")  # it names the void columns, which go now
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_contracts_live_purchase_id", sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE)
        )
        batch_op.drop_index(batch_op.f("ix_contracts_purchase_id"))
        batch_op.create_unique_constraint(op.f("uq_contracts_purchase_id"), ["purchase_id"])
        batch_op.drop_constraint(op.f("ck_contracts_void_unsigned_with_reason"), type_="check")
        batch_op.drop_constraint(op.f("ck_contracts_signed_before_progress"), type_="check")
        batch_op.create_check_constraint(op.f("ck_contracts_signed_before_progress"), CONTRACT_PROGRESS_OLD)
        batch_op.drop_constraint(op.f("ck_contracts_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_contracts_status"), CONTRACT_STATUS_OLD)
        batch_op.drop_constraint(op.f("fk_contracts_voided_by_users"), type_="foreignkey")
        batch_op.drop_column("void_reason")
        batch_op.drop_column("voided_by")
        batch_op.drop_column("voided_at")
    with op.batch_alter_table("selections", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_selections_voided_with_reason"), type_="check")
        batch_op.drop_constraint(op.f("ck_selections_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_selections_status"), SELECTION_STATUS_OLD)
        batch_op.drop_column("void_reason")
        batch_op.drop_column("voided_at")
    if sqlite:
        _drop_frozen("selections")
        _selection_guards()
        _drop_frozen("contracts")
    _contract_guards(CONTRACT_FROZEN)
