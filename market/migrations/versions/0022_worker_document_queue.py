"""invoices: the documents queue of the worker; purchases indexed for the split-purchase flag

* ``document_queue``: one row per final document (a contract or an agreement signed by both
  parties, an invoice, a credit note) whose Chinese PDF is still to be rendered, added in the
  transaction that makes it final and removed when the PDF is stored; ``claimed_until`` while a
  worker renders it. The worker reads this small table instead of scanning every contract and
  invoice for a missing document each second. Backfill: every final document without a Chinese
  PDF today.
* ``ix_purchases_owner_id_catalog_code_published_at``: the red flag of split purchases looks for
  purchases of one owner and catalog item published within a window of each other (an indexed
  self-join, ``oversight.candidates``).

Revision ID: 0018_worker_document_queue
Revises: 0017
Create Date: 2026-11-30 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_worker_document_queue"
down_revision = "0018_walkaway"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_queue",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('contract', 'agreement', 'invoice', 'credit_note')", name=op.f("ck_document_queue_kind")
        ),
        sa.PrimaryKeyConstraint("kind", "entity_id", name=op.f("pk_document_queue")),
    )
    op.create_index(op.f("ix_document_queue_enqueued_at"), "document_queue", ["enqueued_at"], unique=False)
    op.create_index(
        "ix_purchases_owner_id_catalog_code_published_at",
        "purchases",
        ["owner_id", "catalog_code", "published_at"],
        unique=False,
    )
    # every final document without its Chinese PDF, oldest first
    op.execute(
        """
        INSERT INTO document_queue (kind, entity_id, enqueued_at)
        SELECT 'contract', c.id, c.signed_at FROM contracts c
        WHERE c.signed_at IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM documents d WHERE d.kind = 'contract' AND d.entity_id = c.id AND d.lang = 'zh')
        UNION ALL
        SELECT 'agreement', a.id, a.signed_at FROM contract_agreements a
        WHERE a.signed_at IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM documents d WHERE d.kind = 'agreement' AND d.entity_id = a.id AND d.lang = 'zh')
        UNION ALL
        SELECT i.kind, i.id, i.issued_at FROM invoices i
        WHERE NOT EXISTS (
            SELECT 1 FROM documents d WHERE d.kind = i.kind AND d.entity_id = i.id AND d.lang = 'zh')
        """
    )


def downgrade() -> None:
    op.drop_index("ix_purchases_owner_id_catalog_code_published_at", table_name="purchases")
    op.drop_index(op.f("ix_document_queue_enqueued_at"), table_name="document_queue")
    op.drop_table("document_queue")
