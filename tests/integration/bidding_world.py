"""A small marketplace for bidding tests: one catalog item, an owner, qualified providers.

Tests that use it run with an accelerated clock (one working day = one second, SPEC §4) that is
frozen and moved by hand, so that deadlines and publicity pass without waiting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from bidding import timeline
from market import clock
from market.settings import Settings
from tests.integration.helpers import make_catalog_item, owner, provider, purchase_body

ACCELERATOR = 86400  # a working day lasts one second
START = datetime.fromisoformat("2026-03-02T09:00:00+08:00")
CODE = "ZJ-HP-01"


@dataclass
class World:
    client: httpx.AsyncClient
    factory: Any
    settings: Settings
    owner: dict[str, str]
    owner_id: Any
    providers: list[tuple[dict[str, str], Any]] = field(default_factory=list)
    outsider: dict[str, str] = field(default_factory=dict)  # approved provider, not qualified

    async def draft(self, **changes: Any) -> dict[str, Any]:
        r = await self.client.post(
            "/api/v1/purchases", headers=self.owner, json=purchase_body(CODE, settings=self.settings, **changes)
        )
        assert r.status_code == 201, r.text
        return r.json()

    async def published(self, **changes: Any) -> dict[str, Any]:
        created = await self.draft(**changes)
        r = await self.client.post(f"/api/v1/purchases/{created['id']}/publish", headers=self.owner)
        assert r.status_code == 200, r.text
        return (await self.client.get(f"/api/v1/purchases/{created['id']}")).json()

    async def bid(self, purchase_id: str, who: int, price: str, days: int = 10, note: str = "") -> httpx.Response:
        headers = self.providers[who][0]
        return await self.client.post(
            f"/api/v1/purchases/{purchase_id}/bids",
            headers=headers,
            json={"price": price, "service_days": days, "note": note},
        )

    def past_deadline(self, purchase: dict[str, Any], seconds: float = 1) -> None:
        clock.freeze(datetime.fromisoformat(purchase["bid_deadline"]) + timedelta(seconds=seconds))

    async def tick(self) -> int:
        """One round of the worker's time engine (reads never apply due transitions: only the
        worker and state-changing requests do)."""
        return await timeline.tick(self.factory, self.settings, clock.now())


async def make_world(client: httpx.AsyncClient, factory: Any, settings: Settings, providers: int = 4) -> World:
    clock.freeze(START)
    await make_catalog_item(factory, CODE)
    owner_headers, owner_id = await owner(client, factory, "hbj", "云岭县生态环境分局")
    world = World(client, factory, settings, owner_headers, owner_id)
    for i in range(providers):
        world.providers.append(
            await provider(client, factory, f"firm{i + 1}", [CODE], f"云南第{i + 1}环境咨询有限公司")
        )
    world.outsider, _ = await provider(client, factory, "outsider", None, "云南无资质咨询有限公司")
    return world
