"""The time-based messages go once, by the worker, with a persisted mark: a signing deadline one
working day away, a payment term ending within 5 days and one passed, a registration waiting past
the 2-working-day review target."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from invoices import billing, delivery
from invoices import notifications as invoices_notifications
from listings import notifications as listings_notifications
from market import clock
from market.clock import LOCAL_TZ
from market.identity.models import User
from market.notify.models import Notification
from tests.integration.helpers import actor_of, draft_contract, make_parties, make_user, signed_contract
from tests.integration.listings_helpers import post_provider, registration


async def _sent(factory, kind: str) -> list[tuple[object, dict]]:
    async with factory() as session:
        rows = (
            await session.execute(
                select(User.org_id, Notification.params)
                .join(User, User.id == Notification.user_id)
                .where(Notification.kind == kind)
            )
        ).all()
    return [(org, json.loads(params)) for org, params in rows]


async def test_signing_deadline_tomorrow_goes_once_to_each_party_not_signed(factory, settings):
    clock.freeze(datetime(2026, 12, 1, 9, 0, tzinfo=LOCAL_TZ))  # a Tuesday
    owner, provider = await make_parties(factory)
    contract = await draft_contract(factory, settings, owner, provider)
    from invoices.contracts import sign_contract

    async with factory() as session:
        await sign_contract(session, actor_of(owner, "owner"), settings, contract.id)
        await session.commit()
    clock.freeze(contract.sign_by - timedelta(days=3))  # two working days before
    assert await invoices_notifications.reminders_tick(factory, settings, clock.now()) == 0  # not yet
    clock.freeze(contract.sign_by - timedelta(hours=2))
    assert await invoices_notifications.reminders_tick(factory, settings, clock.now()) == 1
    assert await invoices_notifications.reminders_tick(factory, settings, clock.now()) == 0  # once
    [(org, params)] = await _sent(factory, "contracts.sign_tomorrow")
    assert org == provider.org_id and params["number"] == contract.number  # the owner has signed


async def test_payment_due_in_five_days_then_overdue_each_once(factory, settings):
    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider, amount=Decimal("9000"))
    async with factory() as session:
        await delivery.submit(
            session,
            actor_of(provider, "provider"),
            settings,
            contract.id,
            note="",
            files=[delivery.Upload("report.pdf", b"%PDF-1.4\n% deliverable\n")],
        )
        accepted = await delivery.accept(session, actor_of(owner, "owner"), contract.id)
        await billing.issue_invoice(session, actor_of(provider, "provider"), contract.id, amount=Decimal("9000"))
        await session.commit()
    accepted_at = accepted.decided_at
    assert accepted_at is not None
    clock.freeze(accepted_at + timedelta(days=20))
    assert await invoices_notifications.reminders_tick(factory, settings, clock.now()) == 0
    clock.freeze(accepted_at + timedelta(days=27))
    assert await invoices_notifications.reminders_tick(factory, settings, clock.now()) == 1
    assert await invoices_notifications.reminders_tick(factory, settings, clock.now()) == 0
    [(org, params)] = await _sent(factory, "invoices.payment_due_soon")
    assert org == owner.org_id and params["outstanding"] == "9000.00"
    clock.freeze(accepted_at + timedelta(days=32))
    assert await invoices_notifications.reminders_tick(factory, settings, clock.now()) == 1
    assert await invoices_notifications.reminders_tick(factory, settings, clock.now()) == 0
    assert [org for org, _ in await _sent(factory, "invoices.payment_overdue")] == [owner.org_id]


async def test_registration_past_the_review_target_is_reported_once(client, factory, settings):
    admin = await make_user(factory, "admin", "平台管理机构", "ops")
    assert (await post_provider(client, registration("late"))).status_code == 201
    assert await listings_notifications.overdue_tick(factory, settings, clock.now()) == 0
    clock.advance(timedelta(days=5))  # past two working days whatever the weekday
    assert await listings_notifications.overdue_tick(factory, settings, clock.now()) == 1
    assert await listings_notifications.overdue_tick(factory, settings, clock.now()) == 0
    [(org, params)] = await _sent(factory, "listings.registration_overdue")
    assert org == admin.org_id and params["name"] == "云南late工程咨询有限公司"
