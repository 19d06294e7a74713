"""invoices: the payment term's end stored on the contract

* ``contracts.payment_due_at``: the end of the payment term after acceptance
  (``invoices.rules.payment_deadline``), set by the acceptance service, indexed, so that the finance
  reports and the contract flags filter on it in SQL instead of computing it per row. A progress
  column: it may change after signing (``market.migrations.guards``), so the contracts' frozen-row
  trigger, which names its frozen columns, stays as it is.
* Backfill: every contract accepted before this revision gets its term's end, computed by a frozen
  copy of the rule (calendar days after the acceptance date, to the end of that China day; with
  ``MARKET_ACCELERATOR`` above 1, that many days divided by the accelerator, in seconds), read from
  the environment as the running deployment has it, as 0012 reads ``MARKET_SECRET_KEY``.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 05:50:00
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # market.clock.LOCAL_TZ, frozen
SECONDS_PER_DAY = 86400


def _accelerator() -> int:
    try:
        return max(1, int(os.environ.get("MARKET_ACCELERATOR") or "1"))
    except ValueError:
        return 1


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def payment_deadline(accepted_at: datetime, days: int, accelerator: int) -> datetime:
    """Frozen copy of invoices.rules.payment_deadline (market.workdays.calendar_due_date)."""
    start = _aware(accepted_at)
    if accelerator > 1:
        return start + timedelta(seconds=days * SECONDS_PER_DAY / accelerator)
    local_day = start.astimezone(LOCAL_TZ).date()
    return datetime.combine(local_day + timedelta(days=days), time.max, tzinfo=LOCAL_TZ)


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    # plain ALTER TABLE (no batch copy on SQLite, which would drop the contracts' triggers)
    op.add_column("contracts", sa.Column("payment_due_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_contracts_payment_due_at"), "contracts", ["payment_due_at"], unique=False)

    contracts = sa.table(
        "contracts",
        sa.column("id", sa.Uuid()),
        sa.column("accepted_at", sa.DateTime(timezone=True)),
        sa.column("payment_days", sa.Integer()),
        sa.column("payment_due_at", sa.DateTime(timezone=True)),
    )
    accelerator = _accelerator()
    rows = bind.execute(
        sa.select(contracts.c.id, contracts.c.accepted_at, contracts.c.payment_days).where(
            contracts.c.accepted_at.is_not(None)
        )
    ).all()
    for contract_id, accepted_at, days in rows:
        due = payment_deadline(accepted_at, days, accelerator).astimezone(UTC)
        bind.execute(
            contracts.update()
            .where(contracts.c.id == contract_id)
            .values(payment_due_at=due.replace(tzinfo=None) if sqlite else due)
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_contracts_payment_due_at"), table_name="contracts")
    op.drop_column("contracts", "payment_due_at")
