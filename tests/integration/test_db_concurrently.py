"""market.db.concurrently: a report's independent parts on sessions of their own, at once."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from market import db as dbmod


async def test_jobs_run_at_once_on_their_own_sessions_and_answer_in_order(engine, factory):
    readers = dbmod.read_session_factory(engine)
    seen: list[object] = []
    running = 0
    most = 0

    def job(n: int):
        async def run(session):
            nonlocal running, most
            running += 1
            most = max(most, running)
            seen.append(session)
            await session.execute(text("SELECT 1"))
            await asyncio.sleep(0.05)  # all three are under way together
            running -= 1
            return n

        return run

    async with factory() as session:
        assert await dbmod.concurrently(session, readers, job(1), job(2), job(3)) == [1, 2, 3]
        assert most == 3 and seen[0] is session and len({id(s) for s in seen}) == 3
        assert all(dbmod.is_read_only(s) for s in seen[1:])
        seen.clear()
        most = 0
        # without readers: one after the other, on the request's session
        assert await dbmod.concurrently(session, None, job(1), job(2)) == [1, 2]
        assert most == 1 and all(s is session for s in seen)


async def test_distinct_values_walk_an_index_and_find_every_value(factory):
    """The audit page's filter choices: every distinct action, as SELECT DISTINCT finds them."""
    import pytest
    from sqlalchemy import select

    from market import audit
    from market.actor import SYSTEM
    from market.audit.models import AuditEvent

    async with factory() as session:
        for action in ("b.two", "a.one", "b.two", "c.three", "a.one"):
            audit.record(session, SYSTEM, action, "test", "x")
        await session.commit()
    async with factory() as session:
        walked = await dbmod.distinct_values(session, "audit_events", "action")
        assert walked == sorted(set(await session.scalars(select(AuditEvent.action).distinct())))
        assert {"a.one", "b.two", "c.three"} <= set(walked)
        with pytest.raises(ValueError):
            await dbmod.distinct_values(session, "audit_events; drop", "action")
