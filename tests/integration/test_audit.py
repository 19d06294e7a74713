"""The audit trail: append-only in the database, hash-chained, verifiable, fork-free under load."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from market import audit
from market.actor import SYSTEM
from market.audit.models import AuditEvent
from tests.integration.helpers import account, make_user


async def _record(factory, n: int) -> None:
    async with factory() as session:
        for i in range(n):
            audit.record(session, SYSTEM, "test.event", "thing", f"t{i}", {"i": i, "note": "审计"})
        await session.commit()


async def _verify(factory) -> audit.VerifyResult:
    async with factory() as session:
        return await audit.verify(session)


async def _tamper(factory, backend: str, statement: str) -> None:
    """What an operator with SQL access could do: switch off the guard, then edit (one row)."""
    async with factory() as session:
        if backend == "postgresql":
            await session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            await session.execute(text("DROP TRIGGER audit_events_no_update"))
            await session.execute(text("DROP TRIGGER audit_events_no_delete"))
        result = await session.execute(text(statement))
        assert result.rowcount == 1, statement
        await session.commit()


async def test_chain_verifies_via_api(client, factory):
    headers = await account(client, factory, "finance", "auditor")
    await _record(factory, 5)
    r = await client.get("/api/v1/audit/verify", headers=headers)
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is True and body["first_bad_seq"] is None
    async with factory() as session:  # the account's organisation, user and sign-in, and ours
        assert body["events"] == await session.scalar(select(func.count()).select_from(AuditEvent))
        assert body["events"] == 3 + 5
    events = (await client.get("/api/v1/audit/events?entity_type=thing&limit=3", headers=headers)).json()
    assert events["total"] == 5 and len(events["items"]) == 3
    assert events["items"][0]["data"] == {"i": 4, "note": "审计"}


async def test_events_are_append_only_in_the_database(factory):
    await _record(factory, 2)
    for statement in ("UPDATE audit_events SET action = 'x' WHERE seq = 1", "DELETE FROM audit_events WHERE seq = 2"):
        async with factory() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))
            await session.rollback()
    assert (await _verify(factory)).ok


async def test_edited_event_is_named(factory, backend):
    await _record(factory, 6)
    await _tamper(factory, backend, "UPDATE audit_events SET data = replace(data, '\"i\"', '\"j\"') WHERE seq = 4")
    result = await _verify(factory)
    assert (result.ok, result.first_bad_seq, result.events) == (False, 4, 3)


async def test_edited_actor_is_named(factory, backend):
    await _record(factory, 3)
    await _tamper(factory, backend, "UPDATE audit_events SET actor_role = 'admin' WHERE seq = 2")
    assert (await _verify(factory)).first_bad_seq == 2


async def test_deleted_event_is_named(factory, backend):
    await _record(factory, 6)
    await _tamper(factory, backend, "DELETE FROM audit_events WHERE seq = 3")
    result = await _verify(factory)
    assert (result.ok, result.first_bad_seq) == (False, 3)


async def test_deleted_last_event_is_named(factory, backend):
    await _record(factory, 4)
    await _tamper(factory, backend, "DELETE FROM audit_events WHERE seq = 4")
    result = await _verify(factory)
    assert (result.ok, result.first_bad_seq) == (False, 4)


async def test_rolled_back_work_leaves_no_event(factory):
    async with factory() as session:
        audit.record(session, SYSTEM, "test.event", "thing", "gone")
        await session.rollback()
        await session.commit()
    async with factory() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEvent)) == 0


async def test_fifty_parallel_writers_leave_one_chain(client, factory, backend):
    """50 requests at once, each appending events in its own transaction: no fork, no loss."""
    await make_user(factory, "admin", "云岭县政务服务管理局", "ops")
    from tests.integration.helpers import login

    headers = await login(client, "ops")
    before = (await _verify(factory)).events

    async def create(i: int):
        return await client.post(
            "/api/v1/admin/organizations",
            headers=headers,
            json={
                "kind": "owner",
                "org_type": "government",
                "name": f"云岭县第{i}号业主单位",
                "uscc": _uscc(i),
                "legal_rep": "张三",
                "address": "云岭县",
                "phone": "0871-6000000",
                "email": f"o{i}@example.com",
                "username": f"owner{i}",
                "password": "Secret-2026-pass",
            },
        )

    responses = await asyncio.gather(*(create(i) for i in range(50)))
    assert [r.status_code for r in responses] == [201] * 50, [r.text for r in responses if r.status_code != 201]
    result = await _verify(factory)
    assert result.ok, result
    assert result.events == before + 100  # an organisation and a user each
    async with factory() as session:
        seqs = list(await session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert seqs == list(range(1, len(seqs) + 1))


async def test_parallel_sessions_without_http(factory, backend):
    """The same guarantee for services used directly (worker, CLI)."""
    await asyncio.gather(*(_record(factory, 3) for _ in range(20)))
    result = await _verify(factory)
    assert result.ok and result.events == 60


def _uscc(i: int) -> str:
    from stdnum.cn import uscc

    body = f"11530100MB{i:07d}"
    return body + uscc.calc_check_digit(body)


async def test_the_audit_page_pages_through_the_whole_chain_newest_first(app, factory):
    from tests.integration.helpers import browser

    await make_user(factory, "finance", "云岭县财政局", "auditor")
    page_client = await browser(app, "auditor")
    try:
        await _record(factory, 120)
        total = (await _verify(factory)).events  # ours, plus the account's and its sign-in
        pages = -(-total // 50)
        assert pages >= 3

        def seqs(html: str) -> list[int]:
            return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', html)]

        first = await page_client.get("/finance/audit")
        assert first.status_code == 200 and f"哈希链共有 {total} 个事件" in first.text
        verified = await page_client.get("/finance/audit/verify")  # recomputed on request only
        assert f"哈希链完整：已校验 {total} 个事件。" in verified.text
        assert seqs(first.text) == list(range(total, total - 50, -1))
        assert 'rel="next" href="/finance/audit?page=2"' in first.text and 'rel="prev"' not in first.text
        last = await page_client.get(f"/finance/audit?page={pages}")
        assert seqs(last.text) == list(range(total - 50 * (pages - 1), 0, -1))
        assert 'rel="next"' not in last.text and f'href="/finance/audit?page={pages - 1}"' in last.text
        # every event is on exactly one page
        shown = [s for n in range(1, pages + 1) for s in seqs((await page_client.get(f"/finance/audit?page={n}")).text)]
        assert shown == list(range(total, 0, -1))
        # a page beyond the end shows the last; a nonsensical one the first
        assert seqs((await page_client.get("/finance/audit?page=999")).text) == seqs(last.text)
        assert seqs((await page_client.get("/finance/audit?page=abc")).text) == seqs(first.text)
    finally:
        await page_client.aclose()
