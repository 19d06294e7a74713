"""A firm's credit record on both databases: facts pushed in a transaction recompute the record,
a grade that moves is appended to the history and audited, a fact under appeal stops counting,
a fact three years old is forgotten by the worker at its time, the database keeps facts frozen."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from listings import credit
from listings.credit import CreditFact, CreditFactKind, CreditGradeChange, CreditRecord
from market import clock
from market.audit.models import AuditEvent
from tests.integration.helpers import make_parties

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock():
    with clock.frozen(NOW):
        yield


async def _record(session, provider_id, kind, occurred_at, value=1, counts=True):
    return await credit.record_fact(
        session,
        provider_id=provider_id,
        kind=kind,
        occurred_at=occurred_at,
        value=value,
        source_id=uuid.uuid4(),
        link=f"/contracts/{uuid.uuid4()}",
        note="测试",
        counts=counts,
    )


async def test_facts_recompute_the_record_and_a_moved_grade_is_history(factory, settings):
    _, provider = await make_parties(factory)
    firm = provider.org_id
    async with factory() as session:
        fresh = await credit.standing(session, firm, NOW)
        assert (fresh.score, fresh.grade, fresh.lines) == (Decimal("90.00"), "A", ())
        await _record(session, firm, CreditFactKind.delivery_late, NOW - timedelta(days=10))
        record = await session.get(CreditRecord, firm)
        assert (record.score, record.grade, record.facts) == (Decimal("85.00"), "A", 1)
        refused = await _record(session, firm, CreditFactKind.refused_to_sign, NOW - timedelta(days=2))
        await session.commit()
    async with factory() as session:
        record = await session.get(CreditRecord, firm)
        assert (record.score, record.grade) == (Decimal("70.00"), "B")
        assert record.next_change_at == NOW + timedelta(days=1)  # the daily refresh comes first
        changes = list(await session.scalars(select(CreditGradeChange)))
        assert [(c.old_grade, c.new_grade, c.cause, c.fact_id) for c in changes] == [
            ("A", "B", "fact_recorded", refused.id)
        ]
        actions = list(await session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
        assert actions.count("credit.fact_recorded") == 2 and actions.count("credit.grade_changed") == 1
        now = await credit.standing(session, firm, NOW)
        assert [(line.kind, line.effect) for line in now.lines] == [
            ("refused_to_sign", Decimal("-15.00")),
            ("delivery_late", Decimal("-5.00")),
        ]
        # as of before either fact: the firm stood at the baseline
        assert (await credit.standing(session, firm, NOW - timedelta(days=11))).score == Decimal("90.00")


async def test_the_same_fact_twice_is_one_fact_and_set_counts_recomputes(factory, settings):
    _, provider = await make_parties(factory)
    firm = provider.org_id
    source = uuid.uuid4()
    async with factory() as session:
        for _ in range(2):
            fact = await credit.record_fact(
                session,
                provider_id=firm,
                kind=CreditFactKind.violation,
                occurred_at=NOW - timedelta(days=1),
                value=Decimal(40),
                source_id=source,
                link="/providers/x",
                counts=False,  # under appeal
            )
        await session.commit()
    async with factory() as session:
        assert len(list(await session.scalars(select(CreditFact)))) == 1
        assert (await session.get(CreditRecord, firm)).grade == "A"
        await credit.set_counts(session, kind=CreditFactKind.violation, source_id=source, counts=True)
        await session.commit()
    async with factory() as session:
        record = await session.get(CreditRecord, firm)
        assert (record.score, record.grade) == (Decimal("50.00"), "D")
        assert (await session.get(CreditFact, fact.id)).counts is True


async def test_ratings_are_shrunk_toward_the_platform_mean(factory, settings):
    _, provider = await make_parties(factory)
    other = (await make_parties(factory, owner="owner2", provider="prov2", provider_org="昆明测绘有限公司"))[1]
    async with factory() as session:
        for _ in range(3):
            await _record(session, other.org_id, CreditFactKind.rating, NOW - timedelta(days=5), value=Decimal(5))
        await _record(session, provider.org_id, CreditFactKind.rating, NOW - timedelta(days=1), value=Decimal(1))
        await session.commit()
    async with factory() as session:
        mean = await credit.platform_mean_at(session, NOW)
        assert mean == Decimal(4)  # (5 + 5 + 5 + 1) / 4
        low = await credit.standing(session, provider.org_id, NOW)
        # 60 + 10 × (4 − 1) + 10 × (1 − 4) / (5 + 1)
        assert (low.score, low.ratings, low.rating_average, low.shrunk_average) == (
            Decimal("85.00"),
            1,
            Decimal("1.00"),
            Decimal("3.50"),
        )


async def test_a_fact_ages_out_when_the_worker_reaches_its_time(factory, settings):
    _, provider = await make_parties(factory)
    firm = provider.org_id
    occurred = credit.window_start(NOW) + timedelta(hours=1)  # ends in an hour
    async with factory() as session:
        await _record(session, firm, CreditFactKind.refused_to_sign, occurred)
        await session.commit()
    async with factory() as session:
        record = await session.get(CreditRecord, firm)
        assert record.grade == "B" and record.next_change_at == credit.expires_at(occurred)
    assert await credit.tick(factory, settings, clock.now()) == 0  # not due yet
    clock.freeze(NOW + timedelta(hours=2))
    assert await credit.tick(factory, settings, clock.now()) == 1
    async with factory() as session:
        record = await session.get(CreditRecord, firm)
        assert (record.score, record.grade, record.facts, record.next_change_at) == (Decimal("90.00"), "A", 0, None)
        change = await session.scalar(select(CreditGradeChange).where(CreditGradeChange.cause == "recomputed"))
        assert (change.old_grade, change.new_grade) == ("B", "A")


async def test_the_database_keeps_facts_and_history(factory, settings):
    _, provider = await make_parties(factory)
    async with factory() as session:
        fact = await _record(session, provider.org_id, CreditFactKind.refused_to_sign, NOW)
        await session.commit()
    for statement in (
        update(CreditFact).where(CreditFact.id == fact.id).values(note="改过"),
        text("DELETE FROM credit_facts"),
        text("DELETE FROM credit_grade_changes"),
    ):
        async with factory() as session:
            with pytest.raises(IntegrityError):
                await session.execute(statement)
            await session.rollback()
