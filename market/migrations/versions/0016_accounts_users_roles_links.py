"""identity: several users per organisation, invitations and password resets

* ``users.org_role``: the user's role within its organisation (``admin`` — its first user, who
  manages the others and is an approver —, ``approver`` 负责人 or ``clerk`` 经办); every existing
  user is its organisation's administrator;
* ``users.email``: where invitation and reset links go (lower-cased), the organisation's e-mail
  for existing users;
* ``account_links``: one-time links (invitation, password reset), only the SHA-256 of the token;
* ``forgot_attempts``: password-reset requests, counted per address for throttling.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 05:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("org_role", sa.String(length=16), server_default="admin", nullable=False))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_email"), ["email"], unique=False)
        batch_op.create_check_constraint("org_role", "org_role IN ('admin', 'approver', 'clerk')")
    op.execute(
        "UPDATE users SET email = (SELECT lower(organizations.email) FROM organizations "
        "WHERE organizations.id = users.org_id AND organizations.email LIKE '%@%')"
    )
    op.create_table(
        "account_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('invitation', 'reset')", name=op.f("ck_account_links_kind")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_account_links_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_links_token_hash")),
    )
    with op.batch_alter_table("account_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_links_user_id"), ["user_id"], unique=False)
    op.create_table(
        "forgot_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forgot_attempts")),
    )
    with op.batch_alter_table("forgot_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forgot_attempts_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_forgot_attempts_email"), ["email"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("forgot_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forgot_attempts_email"))
        batch_op.drop_index(batch_op.f("ix_forgot_attempts_at"))
    op.drop_table("forgot_attempts")
    with op.batch_alter_table("account_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_links_user_id"))
    op.drop_table("account_links")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("org_role", type_="check")
        batch_op.drop_index(batch_op.f("ix_users_email"))
        batch_op.drop_column("email")
        batch_op.drop_column("org_role")
