"""The minimum bidding period counts China working days (holidays off, adjusted weekends on)."""

from __future__ import annotations

from datetime import datetime

from market import clock
from tests.integration.helpers import assert_problem, make_catalog_item, owner, purchase_body


async def test_minimum_bidding_period_skips_national_day_and_counts_the_adjusted_saturday(client, factory):
    # Wednesday 30 September 2026, 10:00 in China; 1–7 October are holidays, Saturday 10 October is worked
    clock.freeze(datetime.fromisoformat("2026-09-30T10:00:00+08:00"))
    await make_catalog_item(factory, "ZJ-HP-01")
    headers, _ = await owner(client, factory, "hbj")
    too_early = purchase_body("ZJ-HP-01", deadline=datetime.fromisoformat("2026-10-09T17:00:00+08:00"))
    body = assert_problem(await client.post("/api/v1/purchases", headers=headers, json=too_early), 422, "bid_deadline")
    assert "2026-10-10 10:00" in body["errors"][0]["message"]
    ok = purchase_body("ZJ-HP-01", bid_deadline="2026-10-10T10:00:00")  # no zone: China time
    r = await client.post("/api/v1/purchases", headers=headers, json=ok)
    assert r.status_code == 201, r.text
    draft = (await client.get(f"/api/v1/purchases/{r.json()['id']}", headers=headers)).json()
    assert draft["bid_deadline"].startswith("2026-10-10T02:00:00")  # stored and answered in UTC
