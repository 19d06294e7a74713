"""Events the bidding package emits; later layers subscribe to them (``market.events``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bidding.models import Method
from market.events import Event


@dataclass(frozen=True)
class PurchaseAwarded(Event):
    """The publicity period ended without a pending objection: the selection stands. Emitted in
    the awarding transaction; the contracts package drafts the contract from it."""

    purchase_id: uuid.UUID
    purchase_ref: str
    title: str
    scope: str
    catalog_code: str
    catalog_name: str
    owner_id: uuid.UUID
    provider_id: uuid.UUID
    bid_id: uuid.UUID
    amount: Decimal
    service_days: int
    method: Method
    draw_seed: str | None
    awarded_at: datetime
