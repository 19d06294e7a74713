"""Column types as the migrations wrote them, frozen.

A migration must create the same schema forever, whatever later happens to the application's
own types (``market.money.MoneyType``, ``market.db.UTCDateTime``, SQLModel's strings). So the
migrations never import them; they use these plain SQLAlchemy types, which describe the same
columns: NUMERIC(14,2) (integer cents on SQLite) and timestamps with a time zone.
"""

from __future__ import annotations

import sqlalchemy as sa

MONEY = sa.Numeric(14, 2).with_variant(sa.BigInteger(), "sqlite")
