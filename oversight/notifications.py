"""The finance bureau's daily digest of new high-severity red flags (issue 11.2).

Once a day (China time; a mark per day), the worker takes the high red flags' subjects as the
flags page counts them (:func:`oversight.counts.flagged_subjects`: per code, without building
every candidate's facts), and the flags not reported before (a mark per code and subject) go to
every finance user in one message with the count and the first few subjects — only those few are
built (:func:`oversight.flagpages.build`) for their names."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from market import clock, notify
from market.identity.models import OrgKind
from market.settings import Settings
from market.terms import N_
from oversight import counts, flagpages, rules
from oversight.facts import Period
from oversight.services import FlagReport

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
    period = Period()
    flagged = await counts.flagged_subjects(session, settings, period)
    keys = {  # in the flags list's order
        f"oversight.flag:{code}:{subject_id}": (code, subject_id)
        for code in flagpages.codes_of(None, None, rules.HIGH)
        for subject_id in flagged.subjects[code]
    }
    new = [keys[key] for key in await notify.once_each(session, keys)]  # the day's mark is ours
    if new:
        wanted: dict[str, set[uuid.UUID]] = defaultdict(set)
        for code, subject_id in new[:SHOWN]:
            wanted[code].add(subject_id)
        built, snapshot = await flagpages.build(session, settings, period, flagged, wanted, flagged.now)
        report = FlagReport(snapshot, built, built)
        first = {(f.code, f.subject_id): f for f in reversed(built)}
        subjects = []
        for code, subject_id in new[:SHOWN]:
            flag = first.get((code, subject_id))
            name, ref = report.subject(flag) if flag is not None else (str(subject_id), None)
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
