"""The finance bureau's daily digest of new high-severity red flags (issue 11.2).

Once a day (China time; a mark per day), the worker computes the red flags as the flags page
does, and the high ones not reported before (a mark per flag) go to every finance user in one
message with the count and the first few subjects."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from market import clock, notify
from market.identity.models import OrgKind
from market.settings import Settings
from market.terms import N_
from oversight import rules
from oversight.facts import Period
from oversight.services import FlagFilter, red_flags

SHOWN = 5

KINDS = [
    notify.Kind(
        "oversight.high_flags",
        N_("%(n)s new high red flags"),
        N_("%(n)s new high-severity red flags were raised since the last digest: %(subjects)s"),
        "finance admin",
        label=N_("Daily digest of new high-severity red flags"),
    ),
]
for _kind in KINDS:
    notify.register_kind(_kind)


async def digest(session: AsyncSession, settings: Settings, day_key: str) -> int:
    """Send today's digest unless it went already; returns how many new flags it reported."""
    if not await notify.once(session, f"oversight.digest:{day_key}"):
        return 0
    report = await red_flags(session, settings, Period(), FlagFilter(severity=rules.HIGH))
    new = []
    for flag in report.chosen:
        if await notify.once(session, f"oversight.flag:{flag.code}:{flag.subject_id}"):
            new.append(flag)
    if new:
        subjects = []
        for flag in new[:SHOWN]:
            name, ref = report.subject(flag)
            subjects.append(f"{ref} {name}" if ref else name)
        more = f" (+{len(new) - SHOWN})" if len(new) > SHOWN else ""
        await notify.send(
            session,
            kind="oversight.high_flags",
            params={"n": len(new), "subjects": "; ".join(subjects) + more},
            link="/finance/flags?severity=high",
            to_org_kind=OrgKind.finance,
        )
    return len(new)


async def digest_tick(factory: async_sessionmaker[AsyncSession], settings: Settings, now: datetime) -> int:
    """The worker job: the day's digest, once per local day (the first tick of the day)."""
    day_key = clock.to_local(now).date().isoformat()
    async with factory() as session:
        if await session.get(notify.NotificationMark, f"oversight.digest:{day_key}") is not None:
            return 0
        reported = await digest(session, settings, day_key)
        await session.commit()
    return reported
