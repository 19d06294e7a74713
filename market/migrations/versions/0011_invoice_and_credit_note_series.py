"""invoices: invoices (FP-) and credit notes (HZ-) are two gap-free series per issuer and year

Until now both kinds took their numbers from one counter (series ``invoice``), so a credit note
left a "missing" invoice number. From now on credit notes count in a series of their own
(``credit_note``); ``invoices``' unique (issuer, year, seq) becomes (issuer, kind, year, seq).

Issued documents never change, so the numbers already issued stay as they are: each issuer's
credit-note counter starts at the highest HZ- number it has issued in the year, and the next
credit note follows it (no duplicate); the invoice counter carries on where it was.

Downgrade: the shared counter resumes after the highest number of either kind. It fails (by the
restored unique constraint) once an issuer has an invoice and a credit note with the same
number in a year, which only the new numbering allows.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

from market.migrations.helpers import append_only

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_invoices = sa.table(
    "invoices",
    sa.column("kind", sa.String(16)),
    sa.column("issuer_id", sa.Uuid()),
    sa.column("year", sa.Integer()),
    sa.column("seq", sa.Integer()),
)
_counters = sa.table(
    "number_counters",
    sa.column("series", sa.String(16)),
    sa.column("scope", sa.String(40)),
    sa.column("year", sa.Integer()),
    sa.column("value", sa.Integer()),
)


def _highest(kinds: tuple[str, ...]) -> list[tuple[uuid.UUID, int, int]]:
    rows = op.get_bind().execute(
        sa.select(_invoices.c.issuer_id, _invoices.c.year, sa.func.max(_invoices.c.seq))
        .where(_invoices.c.kind.in_(kinds))
        .group_by(_invoices.c.issuer_id, _invoices.c.year)
    )
    return [(issuer, year, top) for issuer, year, top in rows]


def _unique(constraint: str, columns: list[str], old: str) -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_constraint(old, type_="unique")
        batch_op.create_unique_constraint(constraint, columns)
    if op.get_bind().dialect.name == "sqlite":
        append_only("invoices")  # SQLite rebuilt the table, and its triggers went with it


def upgrade() -> None:
    _unique(
        op.f("uq_invoices_issuer_id_kind_year_seq"),
        ["issuer_id", "kind", "year", "seq"],
        op.f("uq_invoices_issuer_id_year_seq"),
    )
    for issuer, year, top in _highest(("credit_note",)):
        op.get_bind().execute(
            sa.insert(_counters).values(series="credit_note", scope=str(issuer), year=year, value=top)
        )


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.delete(_counters).where(_counters.c.series == "credit_note"))
    for issuer, year, top in _highest(("invoice", "credit_note")):
        bind.execute(
            sa.update(_counters)
            .where(_counters.c.series == "invoice", _counters.c.scope == str(issuer), _counters.c.year == year)
            .values(value=top)
        )
    _unique(
        op.f("uq_invoices_issuer_id_year_seq"),
        ["issuer_id", "year", "seq"],
        op.f("uq_invoices_issuer_id_kind_year_seq"),
    )
