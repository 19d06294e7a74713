"""bidding: blind quality marks of scored selection; the draw secret encrypted at rest

* ``quality_marks``: the owner's mark (0-100) and written reason per bid, given before the prices
  are opened to the owner; once locked a row never changes nor goes, and no mark is added to a
  purchase whose marks are locked;
* ``purchases.marks_locked_at`` / ``marks_locked_by``: when (and by whom) the marks were locked,
  which cannot be undone;
* ``purchases.draw_secret``: now the AES-GCM ciphertext of the secret (``bidding.sealing``,
  64 characters as before); a secret stored in clear by an earlier version is encrypted here, with
  the key derived from ``MARKET_SECRET_KEY`` (the code below is a frozen copy of the format).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 04:30:00
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import uuid

import sqlalchemy as sa
from alembic import op
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from market.migrations.helpers import EVERY_COLUMN, create_refuse_function, frozen_when

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

DEV_SECRET_KEY = "dev-insecure-secret-change-me"  # noqa: S105 - market.settings' development default, frozen
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _key() -> bytes:
    secret_key = os.environ.get("MARKET_SECRET_KEY") or DEV_SECRET_KEY
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"market draw secret v1").derive(
        secret_key.encode("utf-8")
    )


def _seal(key: bytes, purchase_id: uuid.UUID, secret_hex: str) -> str:
    secret = bytes.fromhex(secret_hex)
    nonce = hashlib.sha256(secret).digest()[:12]
    return base64.urlsafe_b64encode(AESGCM(key).encrypt(nonce, secret, purchase_id.bytes)).decode("ascii")


def _unseal(key: bytes, purchase_id: uuid.UUID, stored: str, commitment: str) -> str:
    nonce = bytes.fromhex(commitment)[:12]
    return AESGCM(key).decrypt(nonce, base64.urlsafe_b64decode(stored.encode("ascii")), purchase_id.bytes).hex()


def _as_uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    # plain ALTER TABLE (no batch copy on SQLite, which would drop the purchases' triggers)
    op.add_column("purchases", sa.Column("marks_locked_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("purchases", sa.Column("marks_locked_by", sa.Uuid(), nullable=True))

    op.create_table(
        "quality_marks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("bid_id", sa.Uuid(), nullable=False),
        sa.Column("purchase_id", sa.Uuid(), nullable=False),
        sa.Column("mark", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("marked_by", sa.Uuid(), nullable=True),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("length(reason) >= 10", name=op.f("ck_quality_marks_reason_given")),
        sa.CheckConstraint("mark >= 0 AND mark <= 100", name=op.f("ck_quality_marks_mark_range")),
        sa.ForeignKeyConstraint(["bid_id"], ["bids.id"], name=op.f("fk_quality_marks_bid_id_bids")),
        sa.ForeignKeyConstraint(["marked_by"], ["users.id"], name=op.f("fk_quality_marks_marked_by_users")),
        sa.ForeignKeyConstraint(["purchase_id"], ["purchases.id"], name=op.f("fk_quality_marks_purchase_id_purchases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_marks")),
        sa.UniqueConstraint("bid_id", name=op.f("uq_quality_marks_bid_id")),
    )
    with op.batch_alter_table("quality_marks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_marks_purchase_id"), ["purchase_id"], unique=False)

    # a locked mark never changes nor goes
    frozen_when("quality_marks", "OLD.locked_at IS NOT NULL", "locked quality marks never change", frozen=EVERY_COLUMN)
    # no mark is added once the purchase's marks are locked, and the lock is never undone
    if postgres:
        create_refuse_function()
        op.execute(
            """
            CREATE OR REPLACE FUNCTION market_quality_marks_open() RETURNS trigger AS $$
            BEGIN
              IF EXISTS (SELECT 1 FROM purchases WHERE id = NEW.purchase_id AND marks_locked_at IS NOT NULL) THEN
                RAISE EXCEPTION 'quality_marks: the marks of this purchase are locked'
                  USING ERRCODE = 'restrict_violation';
              END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER quality_marks_locked_insert BEFORE INSERT ON quality_marks FOR EACH ROW "
            "EXECUTE FUNCTION market_quality_marks_open()"
        )
        op.execute(
            "CREATE TRIGGER purchases_marks_locked BEFORE UPDATE ON purchases FOR EACH ROW "
            "WHEN (OLD.marks_locked_at IS NOT NULL AND (NEW.marks_locked_at IS DISTINCT FROM OLD.marks_locked_at "
            "OR NEW.marks_locked_by IS DISTINCT FROM OLD.marks_locked_by)) "
            "EXECUTE FUNCTION market_refuse_change('the quality marks stay locked')"
        )
    else:
        op.execute(
            "CREATE TRIGGER quality_marks_locked_insert BEFORE INSERT ON quality_marks FOR EACH ROW "
            "WHEN (SELECT marks_locked_at FROM purchases WHERE id = NEW.purchase_id) IS NOT NULL "
            "BEGIN SELECT RAISE(ABORT, 'quality_marks: the marks of this purchase are locked'); END"
        )
        op.execute(
            "CREATE TRIGGER purchases_marks_locked BEFORE UPDATE ON purchases FOR EACH ROW "
            "WHEN OLD.marks_locked_at IS NOT NULL AND (NEW.marks_locked_at IS NOT OLD.marks_locked_at "
            "OR NEW.marks_locked_by IS NOT OLD.marks_locked_by) "
            "BEGIN SELECT RAISE(ABORT, 'purchases: the quality marks stay locked'); END"
        )

    # secrets stored in clear by an earlier version: encrypt them (the commitment stays as published)
    bind = op.get_bind()
    purchases = sa.table("purchases", sa.column("id", sa.Uuid()), sa.column("draw_secret", sa.String(64)))
    key = _key()
    for row_id, secret in bind.execute(sa.select(purchases.c.id, purchases.c.draw_secret)).all():
        if secret is not None and HEX64.match(secret):
            bind.execute(
                purchases.update()
                .where(purchases.c.id == row_id)
                .values(draw_secret=_seal(key, _as_uuid(row_id), secret))
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    bind = op.get_bind()
    purchases = sa.table(
        "purchases",
        sa.column("id", sa.Uuid()),
        sa.column("draw_secret", sa.String(64)),
        sa.column("draw_commitment", sa.String(64)),
    )
    key = _key()
    rows = bind.execute(sa.select(purchases.c.id, purchases.c.draw_secret, purchases.c.draw_commitment)).all()
    for row_id, secret, commitment in rows:
        if secret is not None and commitment is not None and not HEX64.match(secret):
            clear = _unseal(key, _as_uuid(row_id), secret, commitment)
            bind.execute(purchases.update().where(purchases.c.id == row_id).values(draw_secret=clear))
    op.execute("DROP TRIGGER IF EXISTS purchases_marks_locked" + (" ON purchases" if postgres else ""))
    op.execute("DROP TRIGGER IF EXISTS quality_marks_locked_insert" + (" ON quality_marks" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS market_quality_marks_open()")
    with op.batch_alter_table("quality_marks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_marks_purchase_id"))
    op.drop_table("quality_marks")
    op.drop_column("purchases", "marks_locked_by")
    op.drop_column("purchases", "marks_locked_at")
