"""The open data feed as a changes feed: paged by an opaque cursor on the purchases' change
sequence, a purchase changed while a harvester pages comes again later and is never skipped;
bids do not move a purchase in the feed; repeated reads of public pages and feeds get 304."""

from __future__ import annotations

from sqlalchemy import func, select

from bidding.models import Purchase
from market.audit.models import AuditHead
from tests.integration.bidding_world import make_world
from tests.integration.helpers import assert_problem, login, make_parties, signed_contract
from tests.integration.ocds_schema import assert_valid_package

FEED = "/api/v1/ocds/releases"


async def _harvest(client, url: str) -> tuple[list[dict], str]:
    """Follow links.next until a page comes back empty; the releases seen and where to poll next."""
    seen = []
    while True:
        package = (await client.get(url)).json()
        if not package["releases"]:
            return seen, url
        assert_valid_package(package)
        assert len(package["releases"]) <= 5
        seen += package["releases"]
        url = package["links"]["next"]


async def test_paging_while_purchases_change_sees_every_latest_change(client, factory, settings):
    w = await make_world(client, factory, settings, providers=1)
    published = [await w.published(title=f"环境影响评价第{i}号") for i in range(8)]

    first = (await client.get(f"{FEED}?limit=5")).json()
    assert [r["tender"]["id"] for r in first["releases"]] == [p["ref"] for p in published[:5]]
    # between pages: one purchase already seen and one not yet seen are cancelled; a bid changes nothing
    for p in (published[1], published[6]):
        r = await client.post(f"/api/v1/purchases/{p['id']}/cancel", headers=w.owner, json={"reason": "预算调整取消"})
        assert r.status_code == 200, r.text
    assert (await w.bid(published[7]["id"], 0, "40000.00")).status_code == 201
    rest, poll = await _harvest(client, first["links"]["next"])
    assert [r["tender"]["id"] for r in rest] == [published[i]["ref"] for i in (5, 7, 1, 6)]

    latest: dict[str, dict] = {}
    for release in first["releases"] + rest:
        latest[release["ocid"]] = release
    everything = (await client.get(f"{FEED}?limit=500")).json()["releases"]
    assert {r["ocid"]: r for r in everything} == latest
    assert {latest[r["ocid"]]["tender"]["status"] for r in everything if r["tender"]["id"] == published[6]["ref"]} == {
        "cancelled"
    }

    # polling where the harvest ended: nothing, until a purchase changes again
    assert (await client.get(poll)).json()["releases"] == []
    r = await client.post(
        f"/api/v1/purchases/{published[0]['id']}/cancel", headers=w.owner, json={"reason": "需求变更取消"}
    )
    assert r.status_code == 200, r.text
    again, _ = await _harvest(client, poll)
    assert [(x["tender"]["id"], x["tender"]["status"]) for x in again] == [(published[0]["ref"], "cancelled")]

    # the change sequence is the number of the commit's last audit event (taken under the chain lock)
    async with factory() as session:
        head = await session.scalar(select(AuditHead.seq))
        assert await session.scalar(select(func.max(Purchase.change_seq))) == head


async def test_public_reads_answer_if_none_match_with_304(client, factory, settings):
    w = await make_world(client, factory, settings, providers=1)
    p = await w.published()
    for path in (FEED, "/purchases", "/api/v1/purchases"):
        first = await client.get(path)
        tag = first.headers["etag"]
        assert first.status_code == 200 and first.headers["last-modified"], path
        again = await client.get(path, headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag, path
        # another language is another answer
        assert (await client.get(path, headers={"If-None-Match": tag, "Accept-Language": "en"})).status_code in (200,)
    tags = {path: (await client.get(path)).headers["etag"] for path in (FEED, "/purchases", "/api/v1/purchases")}
    r = await client.post(f"/api/v1/purchases/{p['id']}/cancel", headers=w.owner, json={"reason": "预算调整取消"})
    assert r.status_code == 200, r.text
    for path, tag in tags.items():
        after = await client.get(path, headers={"If-None-Match": tag})
        assert after.status_code == 200 and after.headers["etag"] != tag and after.content, path


async def _seq(factory, purchase_id) -> tuple[int, int]:
    async with factory() as session:
        change = await session.scalar(select(Purchase.change_seq).where(Purchase.id == purchase_id))
        head = await session.scalar(select(AuditHead.seq))
        return change, head


async def test_signing_and_invoicing_a_contract_move_its_purchase_in_the_feed(client, factory, settings):
    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider)
    signed, head = await _seq(factory, contract.purchase_id)
    assert signed == head  # the signature was the last change
    tail = (await client.get(f"{FEED}?limit=500")).json()["links"]["next"]
    assert (await client.get(tail)).json()["releases"] == []

    provider_h = await login(client, "prov1")
    r = await client.post(f"/api/v1/contracts/{contract.id}/invoices", headers=provider_h, json={"amount": "1000"})
    assert r.status_code == 201, r.text
    invoiced, head = await _seq(factory, contract.purchase_id)
    assert signed < invoiced == head
    again = (await client.get(tail)).json()["releases"]
    assert [r["contracts"][0]["id"] for r in again] == [contract.number]


async def test_the_public_purchase_list_pages_deeply_by_cursor(client, factory, settings):
    w = await make_world(client, factory, settings, providers=1)
    for i in range(7):
        await w.published(title=f"水土保持方案编制第{i}号")
    everything = [p["ref"] for p in (await client.get("/api/v1/purchases?limit=100")).json()["items"]]
    assert len(everything) == 7
    seen, url = [], "/api/v1/purchases?limit=3"
    while url:
        r = await client.get(url)
        assert r.status_code == 200, r.text
        seen += [p["ref"] for p in r.json()["items"]]
        link = r.headers.get("link")
        url = link[1 : link.index(">")] if link else None
    assert seen == everything
    assert_problem(await client.get("/api/v1/purchases?cursor=nope"), 422, "cursor")


async def test_a_release_links_the_rounds_and_says_whether_there_were_questions(client, factory, settings):
    """Asked questions and the previous and next rounds' references come with the page's own query."""
    w = await make_world(client, factory, settings, providers=1)
    first = await w.published(title="环境影响评价第一轮")
    asked = await w.published(title="水土保持方案编制")
    r = await client.post(
        f"/api/v1/purchases/{asked['id']}/questions", headers=w.providers[0][0], json={"question": "是否需要驻场？"}
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/purchases/{first['id']}/cancel", headers=w.owner, json={"reason": "预算调整取消"})
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/purchases/{first['id']}/republish", headers=w.owner, json={})
    assert r.status_code == 201, r.text
    second = r.json()
    assert (await client.post(f"/api/v1/purchases/{second['id']}/publish", headers=w.owner)).status_code == 200
    second_ref = (await client.get(f"/api/v1/purchases/{second['id']}")).json()["ref"]

    package = (await client.get(FEED)).json()
    assert_valid_package(package)
    by_ref = {r["tender"]["id"]: r for r in package["releases"]}
    assert set(by_ref) == {first["ref"], asked["ref"], second_ref}
    prefix = settings.ocds_prefix
    assert by_ref[first["ref"]]["relatedProcesses"] == [
        {
            "id": "next",
            "relationship": ["replacementProcess"],
            "title": second_ref,
            "scheme": "ocid",
            "identifier": f"{prefix}-{second_ref}",
        }
    ]
    assert by_ref[second_ref]["relatedProcesses"] == [
        {
            "id": "previous",
            "relationship": ["unsuccessfulProcess"],
            "title": first["ref"],
            "scheme": "ocid",
            "identifier": f"{prefix}-{first['ref']}",
        }
    ]
    assert "relatedProcesses" not in by_ref[asked["ref"]]
    assert [by_ref[ref]["tender"]["hasEnquiries"] for ref in (first["ref"], asked["ref"], second_ref)] == [
        False,
        True,
        False,
    ]
