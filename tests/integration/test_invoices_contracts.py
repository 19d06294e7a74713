"""Contracts: drafted from the award event with the parties snapshotted, signed by both parties
(who, when, from where), gap-free numbers, the signing period, due dates in China working days,
supplementary agreements, and immutability enforced by the database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Uuid, bindparam, func, select, text
from sqlalchemy.exc import DBAPIError

from invoices.contracts import award_handler
from invoices.models import Contract
from market import clock, events
from market.audit.models import AuditEvent
from market.clock import LOCAL_TZ
from market.identity.models import Organization
from tests.integration.helpers import (
    account,
    actor_of,
    assert_problem,
    award,
    awarded_purchase,
    draft_contract,
    login,
    make_parties,
    signed_contract,
)


async def test_award_drafts_the_contract_with_parties_snapshotted(app, factory, settings):
    from bidding.models import Bid, Purchase

    owner, provider = await make_parties(factory)
    purchase = await awarded_purchase(factory, settings, owner, provider)
    async with factory() as session:
        rows = (await session.scalars(select(Contract))).all()
        assert len(rows) == 1
        c = rows[0]
        assert c.number == f"HT-{clock.today_local().year}-000001" and c.status == "draft"
        assert c.purchase_id == purchase.id and c.purchase_ref == purchase.ref
        assert (c.owner_name, c.owner_legal_rep, c.owner_address) == ("云岭县自然资源局", "刘洋", "云岭县人民路 66 号")
        assert c.provider_name == "云南地勘工程咨询有限公司" and len(c.provider_uscc) == 18
        assert c.amount == Decimal("12800.00") and c.amount_in_words == "壹万贰仟捌佰元整"
        assert c.service_days == 11 and c.payment_days == settings.payment_days
        assert c.method == "random" and c.draw_seed and len(c.draw_seed) == 64
        # the purchase shows its contract (SPEC §6: an awarded purchase also shows its contract_id)
        assert (await session.get(Purchase, purchase.id)).contract_id == c.id
        # the snapshot does not follow later edits of the organisation
        org = await session.get(Organization, owner.org_id)
        org.name = "云岭县自然资源和规划局"
        await session.commit()
        await session.refresh(c)
        assert c.owner_name == "云岭县自然资源局"
        drafted = await session.scalar(select(func.count()).where(AuditEvent.action == "contract.drafted"))
        assert drafted == 1
        bid = await session.scalar(select(Bid).where(Bid.purchase_id == purchase.id))
    # the same event again drafts nothing more
    async with factory() as session:
        await events.emit(session, award(purchase, provider_id=provider.org_id, bid_id=bid.id))
        await session.commit()
    async with factory() as session:
        assert await session.scalar(select(func.count()).select_from(Contract)) == 1


async def test_award_with_the_parties_swapped_is_refused(factory, settings):
    from market.errors import InvalidInput

    owner, provider = await make_parties(factory)
    purchase = await awarded_purchase(factory, settings, owner, provider)
    # another award than the one that already has its contract (that one would be answered as is)
    the_award = award(
        purchase,
        purchase_id=uuid.uuid4(),
        owner_id=provider.org_id,
        provider_id=owner.org_id,
        bid_id=uuid.uuid4(),
    )
    async with factory() as session:
        with pytest.raises(InvalidInput) as swapped:
            await award_handler(settings)(session, the_award)
        assert swapped.value.errors[0].field == "owner_id"


async def test_contract_numbers_are_consecutive(factory, settings):
    owner, provider = await make_parties(factory)
    numbers = [(await draft_contract(factory, settings, owner, provider)).number for _ in range(3)]
    year = clock.today_local().year
    assert numbers == [f"HT-{year}-00000{i}" for i in (1, 2, 3)]


async def test_both_parties_sign_with_user_time_and_address(client, factory, settings):
    owner, provider = await make_parties(factory)
    contract = await draft_contract(factory, settings, owner, provider)
    owner_h = await login(client, "owner1")
    provider_h = await login(client, "prov1")
    outsider_h = await account(client, factory, "provider", "other", "别的咨询公司")
    finance_h = await account(client, factory, "finance", "fin")
    admin_h = await account(client, factory, "admin", "ops")
    url = f"/api/v1/contracts/{contract.id}"

    assert_problem(await client.get(url, headers=outsider_h), 404)
    assert_problem(await client.post(f"{url}/sign", headers=outsider_h), 404)
    assert_problem(await client.post(f"{url}/sign", headers=finance_h), 403)
    assert (await client.get(url, headers=finance_h)).status_code == 200
    assert (await client.get(url, headers=admin_h)).status_code == 200
    assert_problem(await client.get(url), 401)

    purchase_url = f"/api/v1/purchases/{contract.purchase_id}"
    assert (await client.get(purchase_url)).json()["status"] == "awarded"
    r = await client.post(f"{url}/sign", headers=owner_h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "draft" and body["owner"]["signed_ip"] == "203.0.113.7"
    assert body["owner"]["signed_by"] == str(owner.id) and body["provider"]["signed_at"] is None
    assert_problem(await client.post(f"{url}/sign", headers=owner_h), 409)
    assert (await client.get(purchase_url)).json()["status"] == "awarded"

    r = await client.post(f"{url}/sign", headers=provider_h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "signed" and body["signed_at"] and body["due_at"] == body["due_at_current"]
    assert body["amount"] == "12800.00" and body["amount_in_words"] == "壹万贰仟捌佰元整"
    # both signatures: the purchase is contracted and shows its contract
    purchase = (await client.get(purchase_url)).json()
    assert purchase["status"] == "contracted" and purchase["contract_id"] == str(contract.id)
    assert_problem(await client.post(f"{url}/sign", headers=provider_h), 409)

    # parties list their own; another provider sees none; finance sees all
    mine = (await client.get("/api/v1/contracts", headers=provider_h)).json()
    assert mine["total"] == 1 and mine["items"][0]["number"] == contract.number
    assert (await client.get("/api/v1/contracts", headers=outsider_h)).json()["total"] == 0
    assert (await client.get(f"/api/v1/contracts?purchase_id={contract.purchase_id}", headers=finance_h)).json()[
        "total"
    ] == 1
    async with factory() as session:
        actions = (
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.entity_id == str(contract.id)).order_by(AuditEvent.seq)
            )
        ).all()
    assert actions == ["contract.drafted", "contract.signature", "contract.signature", "contract.signed"]


async def test_signing_period_in_working_days_and_the_flags(client, factory, settings):
    # drafted Friday 2026-09-18 10:00 in China: 5 working days (Sunday 09-20 is a working day,
    # Friday 09-25 the Mid-Autumn holiday) end on Thursday 09-24 at 10:00
    clock.freeze(datetime(2026, 9, 18, 10, 0, tzinfo=LOCAL_TZ))
    owner, provider = await make_parties(factory)
    contract = await draft_contract(factory, settings, owner, provider)
    assert clock.to_local(contract.sign_by) == datetime(2026, 9, 24, 10, 0, tzinfo=LOCAL_TZ)
    await account(client, factory, "finance", "fin")

    # (sessions last 12 hours, so each moment signs in afresh)
    clock.freeze(datetime(2026, 9, 24, 9, 59, tzinfo=LOCAL_TZ))
    owner_h = await login(client, "owner1")
    assert (await client.get(f"/api/v1/contracts/{contract.id}", headers=owner_h)).json()["flags"] == []
    clock.freeze(datetime(2026, 9, 24, 10, 1, tzinfo=LOCAL_TZ))
    owner_h, provider_h, finance_h = [await login(client, u) for u in ("owner1", "prov1", "fin")]
    body = (await client.get(f"/api/v1/contracts/{contract.id}", headers=owner_h)).json()
    assert body["flags"] == ["signing_overdue"]
    flagged = (await client.get("/api/v1/contracts?flag=signing_overdue", headers=finance_h)).json()
    assert flagged["total"] == 1
    assert_problem(await client.get("/api/v1/contracts?flag=nonsense", headers=finance_h), 422, "flag")

    # a late signature is still recorded, and stays flagged as late
    await client.post(f"/api/v1/contracts/{contract.id}/sign", headers=owner_h)
    body = (await client.post(f"/api/v1/contracts/{contract.id}/sign", headers=provider_h)).json()
    assert body["status"] == "signed" and body["flags"] == ["signed_late"]


async def test_due_date_of_a_contract_signed_the_friday_before_national_day(factory, settings):
    # signed Friday 2026-09-18: Sunday 09-20 and Saturday 10-10 are adjusted working days,
    # 09-25 (Mid-Autumn) and 10-01…10-07 are holidays: the 11th working day is Saturday 10-10
    clock.freeze(datetime(2026, 9, 18, 15, 30, tzinfo=LOCAL_TZ))
    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider, service_days=11)
    due = clock.to_local(contract.due_at)
    assert due.date().isoformat() == "2026-10-10" and (due.hour, due.minute) == (23, 59)
    assert contract.due_at_current == contract.due_at


async def test_due_date_is_accelerated(factory, settings):

    fast = settings.with_(accelerator=86400)  # as MARKET_ACCELERATOR=86400 would
    owner, provider = await make_parties(factory)
    clock.freeze(datetime(2026, 9, 18, 7, 0, tzinfo=UTC))
    contract = await signed_contract(factory, fast, owner, provider, service_days=11)
    assert contract.due_at == datetime(2026, 9, 18, 7, 0, 11, tzinfo=UTC)
    assert contract.sign_by == datetime(2026, 9, 18, 7, 0, 5, tzinfo=UTC)


def sql_on(statement: str):
    """Raw SQL on one row by id (typed, so that SQLite gets its UUID encoding)."""
    return text(statement).bindparams(bindparam("id", type_=Uuid()))


CONTRACT_FROZEN = "contracts: a contract signed by both parties is immutable"
AGREEMENT_FROZEN = "contract_agreements: a signed or withdrawn supplementary agreement is immutable"


async def _expect_refused(factory, sql: str, message: str, **params) -> None:
    async with factory() as session:
        with pytest.raises(DBAPIError) as refused:
            await session.execute(sql_on(sql), params)
        assert message in str(refused.value)
        await session.rollback()


async def test_the_database_refuses_to_change_a_signed_contract(factory, settings):
    owner, provider = await make_parties(factory)
    draft = await draft_contract(factory, settings, owner, provider)
    signed = await signed_contract(factory, settings, owner, provider)
    # a draft may still change (e.g. be withdrawn by the platform)
    async with factory() as session:
        result = await session.execute(sql_on("UPDATE contracts SET title = 'x' WHERE id = :id"), {"id": draft.id})
        assert result.rowcount == 1
        await session.rollback()
    # a signed one may not: terms, parties, signatures; nor be deleted
    for sql in (
        "UPDATE contracts SET amount = amount + 1 WHERE id = :id",
        "UPDATE contracts SET provider_name = 'Someone else' WHERE id = :id",
        "UPDATE contracts SET owner_signed_at = NULL WHERE id = :id",
        "UPDATE contracts SET signed_at = NULL, status = 'draft' WHERE id = :id",
        "DELETE FROM contracts WHERE id = :id",
    ):
        await _expect_refused(factory, sql, CONTRACT_FROZEN, id=signed.id)
    # its progress may move (that is how delivery, invoices and payments are recorded)
    async with factory() as session:
        result = await session.execute(
            sql_on("UPDATE contracts SET status = 'delivered' WHERE id = :id"), {"id": signed.id}
        )
        assert result.rowcount == 1
        await session.rollback()


async def test_supplementary_agreement_changes_price_and_time_limit_once_both_sign(client, factory, settings):
    clock.freeze(datetime(2026, 9, 18, 15, 30, tzinfo=LOCAL_TZ))
    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider, service_days=11)
    owner_h = await login(client, "owner1")
    provider_h = await login(client, "prov1")
    url = f"/api/v1/contracts/{contract.id}/agreements"

    assert_problem(await client.post(url, headers=owner_h, json={"text": "改", "extra_days": -1}), 422, "extra_days")
    r = await client.post(
        url,
        headers=owner_h,
        json={"text": "增加 3.2 公顷评估范围，价款与期限相应调整。", "new_amount": "15000", "extra_days": 2},
    )
    assert r.status_code == 201, r.text
    agreement = r.json()
    assert agreement["number"] == f"{contract.number}-BC1" and agreement["status"] == "proposed"
    assert_problem(await client.post(url, headers=provider_h, json={"text": "another change"}), 409)
    a_url = f"/api/v1/agreements/{agreement['id']}"
    assert (await client.post(f"{a_url}/sign", headers=owner_h)).json()["status"] == "proposed"
    # the contract is unchanged until both have signed
    body = (await client.get(f"/api/v1/contracts/{contract.id}", headers=owner_h)).json()
    assert body["amount_current"] == "12800.00"
    signed = (await client.post(f"{a_url}/sign", headers=provider_h)).json()
    assert signed["status"] == "signed" and signed["signed_at"]
    body = (await client.get(f"/api/v1/contracts/{contract.id}", headers=owner_h)).json()
    assert body["amount"] == "12800.00" and body["amount_current"] == "15000.00"
    assert (
        body["due_at"].startswith("2026-10-10")
        and clock.to_local(datetime.fromisoformat(body["due_at_current"])).date().isoformat() == "2026-10-13"
    )  # Sun 10-11 is off; Mon 10-12, Tue 10-13
    # a withdrawn proposal changes nothing
    r = await client.post(url, headers=provider_h, json={"text": "延长一个工作日以便补测", "extra_days": 1})
    w = await client.post(f"/api/v1/agreements/{r.json()['id']}/withdraw", headers=owner_h, json={"reason": "不同意"})
    assert w.json()["status"] == "withdrawn"
    assert_problem(await client.post(f"/api/v1/agreements/{r.json()['id']}/sign", headers=provider_h), 409)
    # a signed agreement is frozen in the database too
    await _expect_refused(
        factory,
        "UPDATE contract_agreements SET new_amount = 1 WHERE id = :id",
        AGREEMENT_FROZEN,
        id=uuid.UUID(agreement["id"]),
    )


async def test_draft_cannot_be_amended_or_invoiced(client, factory, settings):
    owner, provider = await make_parties(factory)
    contract = await draft_contract(factory, settings, owner, provider)
    provider_h = await login(client, "prov1")
    # well-formed requests, refused by the rule alone
    body = assert_problem(
        await client.post(
            f"/api/v1/contracts/{contract.id}/agreements", headers=provider_h, json={"text": "调整合同价款。"}
        ),
        422,
    )
    assert body["type"] == "/problems/rule-violation" and "errors" not in body
    body = assert_problem(
        await client.post(f"/api/v1/contracts/{contract.id}/invoices", headers=provider_h, json={"amount": "100"}),
        422,
    )
    assert body["type"] == "/problems/rule-violation" and "errors" not in body


async def test_overdue_service_is_flagged_for_every_party_and_oversight(client, factory, settings):
    clock.freeze(datetime(2026, 9, 18, 15, 30, tzinfo=LOCAL_TZ))
    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider, service_days=11)
    await account(client, factory, "finance", "fin")
    clock.freeze(datetime(2026, 10, 10, 23, 0, tzinfo=LOCAL_TZ))
    finance_h = await login(client, "fin")
    assert (await client.get("/api/v1/contracts?flag=overdue", headers=finance_h)).json()["total"] == 0
    clock.freeze(datetime(2026, 10, 11, 0, 1, tzinfo=LOCAL_TZ))
    for headers in (await login(client, "owner1"), await login(client, "prov1"), finance_h):
        body = (await client.get(f"/api/v1/contracts/{contract.id}", headers=headers)).json()
        assert body["flags"] == ["overdue"]
    assert (await client.get("/api/v1/contracts?flag=overdue", headers=finance_h)).json()["total"] == 1
    clock.advance(timedelta(days=1))
    # the actor's view via the service, without HTTP
    from invoices import contracts

    async with factory() as session:
        rows, total = await contracts.list_contracts(
            session, actor_of(owner, "owner"), settings, flag="overdue", limit=10
        )
        assert total == 1 and rows[0].id == contract.id
