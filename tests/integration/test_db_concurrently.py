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
