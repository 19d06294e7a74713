"""The data the red flags link firms on (legal representative, phone, practitioners) changes only
visibly: a former value is kept (in an append-only table), a change after approval is an audit
event the finance bureau sees on the firm's page, and the linked-firms flags still link on it."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from listings.models import FormerValue, LinkedField, Practitioner
from market.audit.models import AuditEvent
from market.db import sync_url
from tests.integration.helpers import account
from tests.integration.listings_helpers import browser, new_client, register_provider

OLD_PHONE = "0871-65123456"
NEW_PHONE = "0871-65999999"


async def _approved(client, admin, username: str, **changes) -> tuple[str, dict[str, str]]:
    org_id, me = await register_provider(client, username, **changes)
    r = await client.post(f"/api/v1/admin/organizations/{org_id}/approve", headers=admin)
    assert r.status_code == 200, r.text
    return org_id, me


async def _linked(client, finance, firm_id: str) -> list[dict]:
    flags = (
        await client.get("/api/v1/finance/flags", params={"kind": "firm", "code": "linked_firms"}, headers=finance)
    ).json()
    return [link for f in flags["items"] if f["subject"]["id"] == firm_id for link in f["data"]["links"]]


async def test_a_firm_that_changes_its_phone_after_approval_stays_linked_and_finance_sees_the_change(
    app, client, factory
):
    admin = await account(client, factory, "admin", "ops")
    finance = await account(client, factory, "finance", "fin")
    a_id, a = await _approved(client, admin, "firm-a", legal_rep="张三", phone=OLD_PHONE)
    b_id, _b = await _approved(client, admin, "firm-b", legal_rep="李四", phone="0871 6512 3456")  # the same number
    assert [link["kind"] for link in await _linked(client, finance, a_id)] == ["phone"]

    r = await client.patch("/api/v1/me/organization", headers=a, json={"phone": NEW_PHONE})
    assert r.status_code == 200 and r.json()["phone"] == NEW_PHONE
    # the same number written another way is no change
    r = await client.patch("/api/v1/me/organization", headers=a, json={"phone": "0871 6599 9999"})
    assert r.status_code == 200

    async with factory() as session:
        former = list(await session.scalars(select(FormerValue).where(FormerValue.org_id == uuid.UUID(a_id))))
        assert [(f.field, f.value, f.replaced_by_value, f.after_approval) for f in former] == [
            (LinkedField.phone, OLD_PHONE, NEW_PHONE, True)
        ]
        events = list(
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "organization.profile_updated", AuditEvent.entity_id == a_id
                )
            )
        )
        assert len(events) == 1 and '"after_approval":true' in events[0].data and NEW_PHONE in events[0].data

    # the flag still links the firm with the one that has its old number, saying until when it had it
    links = await _linked(client, finance, a_id)
    assert [(link["kind"], link["other"]["id"]) for link in links] == [("phone", b_id)]
    mine, theirs, mine_until, theirs_until = links[0]["detail"][0]
    assert (mine, theirs) == (OLD_PHONE, "0871-65123456") and mine_until and theirs_until is None
    flags = (await client.get("/api/v1/finance/flags", params={"kind": "firm"}, headers=finance)).json()
    explained = next(f["explanation"] for f in flags["items"] if f["subject"]["id"] == a_id)
    assert "曾有相同的联系电话" in explained and "至" in explained

    # the finance bureau sees the change on the firm's page
    async with new_client(app) as page:
        await browser(page, "fin")
        shown = (await page.get(f"/finance/firms/{a_id}")).text
    assert "关联信息变更记录" in shown and OLD_PHONE in shown and NEW_PHONE in shown and "审核通过后变更" in shown


async def test_a_practitioner_who_left_still_links_the_two_firms(client, factory):
    admin = await account(client, factory, "admin", "ops")
    finance = await account(client, factory, "finance", "fin")
    a_id, a = await _approved(client, admin, "firm-c", legal_rep="王五", phone="0877-8210001")
    b_id, b = await _approved(client, admin, "firm-d", legal_rep="赵六", phone="0877-8210002")
    person = {"name": "杨秀英", "certificate": "注册测绘师", "id_number": "53040219850312000X"}
    for org_id, me in ((a_id, a), (b_id, b)):
        r = await client.post(f"/api/v1/providers/{org_id}/practitioners", headers=me, json=person)
        assert r.status_code == 201, r.text
    async with factory() as session:
        shared = await session.scalar(select(Practitioner).where(Practitioner.provider_id == uuid.UUID(a_id)))
    assert (await client.delete(f"/api/v1/practitioners/{shared.id}", headers=a)).status_code == 204
    links = await _linked(client, finance, a_id)
    assert [(link["kind"], link["other"]["id"]) for link in links] == [("practitioner", b_id)]
    assert links[0]["detail"][0][2] is not None  # firm c no longer has the person
    async with factory() as session:
        former = await session.scalar(select(FormerValue).where(FormerValue.org_id == uuid.UUID(a_id)))
        assert former.field == LinkedField.practitioner and former.value == shared.id_hash and former.after_approval


async def test_former_values_are_append_only_in_the_database(client, factory, settings):
    admin = await account(client, factory, "admin", "ops")
    _a_id, a = await _approved(client, admin, "firm-e", phone=OLD_PHONE)
    await client.patch("/api/v1/me/organization", headers=a, json={"legal_rep": "新代表"})
    engine = create_engine(sync_url(settings.database_url))
    try:
        for statement in ("UPDATE former_values SET value = 'x'", "DELETE FROM former_values"):
            with pytest.raises(DBAPIError), engine.begin() as conn:
                conn.execute(text(statement))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT value FROM former_values")).scalars().all() == ["张三"]
    finally:
        engine.dispose()
