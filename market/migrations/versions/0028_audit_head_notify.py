"""audit: the chain head announces itself (PostgreSQL ``NOTIFY``)

A trigger on ``audit_head`` sends the head's new number on the channel ``market_audit_head`` when a
commit advances it. ``NOTIFY`` is delivered when that commit lands, in commit order, so a process
listening (``market.audit.headwatch``) knows the head without asking for it per request; the fast
read path answers repeated reads from it (``market.web.fastpath``). SQLite has no notifications:
nothing there (the fast path stays off).

Revision ID: 0028_audit_head_notify
Revises: 0027_purchase_search_cover
Create Date: 2026-11-30 13:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0028_audit_head_notify"
down_revision = "0027_purchase_search_cover"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION market_audit_head_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('market_audit_head', NEW.seq::text);
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_head_notify AFTER INSERT OR UPDATE OF seq ON audit_head
        FOR EACH ROW EXECUTE FUNCTION market_audit_head_notify()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS audit_head_notify ON audit_head")
    op.execute("DROP FUNCTION IF EXISTS market_audit_head_notify()")
