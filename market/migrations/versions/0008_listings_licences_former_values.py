"""listings: business licences, former values of the linking data, registration counters, English names

* ``business_licences``: the 营业执照 a provider uploads with its registration;
* ``former_values``: the legal representatives, phone numbers and practitioners' keyed ID hashes
  an organisation no longer has (append-only in the database itself), which the red flags read;
* ``registration_counters``: registrations accepted per client address and hour (the rate limit);
* ``catalog_items.name_en``: an item's optional English name.

Revision ID: 0008
Revises: 0005
Create Date: 2026-11-30 02:36:44.931280
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from market.migrations.helpers import append_only


revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registration_counters",
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.CheckConstraint("accepted >= 0", name=op.f("ck_registration_counters_accepted_not_negative")),
        sa.PrimaryKeyConstraint("client", "window_start", name=op.f("pk_registration_counters")),
    )
    op.create_table(
        "business_licences",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_business_licences_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["sha256"], ["stored_files.sha256"], name=op.f("fk_business_licences_sha256_stored_files")
        ),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"], name=op.f("fk_business_licences_uploaded_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_licences")),
    )
    with op.batch_alter_table("business_licences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_business_licences_org_id"), ["org_id"], unique=False)

    op.create_table(
        "former_values",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("replaced_by_value", sa.String(length=200), nullable=True),
        sa.Column("held_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_by", sa.Uuid(), nullable=True),
        sa.Column("after_approval", sa.Boolean(), nullable=False),
        sa.CheckConstraint("field IN ('legal_rep', 'phone', 'practitioner')", name=op.f("ck_former_values_field")),
        sa.ForeignKeyConstraint(["ended_by"], ["users.id"], name=op.f("fk_former_values_ended_by_users")),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_former_values_org_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_former_values")),
    )
    with op.batch_alter_table("former_values", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_former_values_org_id"), ["org_id"], unique=False)
    append_only("former_values")

    with op.batch_alter_table("catalog_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_en", sa.String(length=200), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("catalog_items", schema=None) as batch_op:
        batch_op.drop_column("name_en")

    with op.batch_alter_table("former_values", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_former_values_org_id"))

    op.drop_table("former_values")
    with op.batch_alter_table("business_licences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_business_licences_org_id"))

    op.drop_table("business_licences")
    op.drop_table("registration_counters")
