"""Firms' credit records (issue 13.1): facts pushed where they happen, a score by a published formula.

The package where a fact happens calls :func:`record_fact` in its own transaction — the contracts
package for a rating, a late or returned delivery; bidding for an upheld objection, a refusal to
sign; listings for the operator's violation points — and :func:`set_counts` when a fact stops or
starts counting (violation points under appeal). Facts are kept in ``credit_facts`` (every column
but ``counts`` frozen by the database, no row deleted), each with the link of the page that shows
it. Both functions recompute the firm's stored record (``credit_records``) in the same transaction
and append a row to ``credit_grade_changes`` when its grade moves, which the finance bureau reads.

The formula is :mod:`listings.credit_rules` (pure, published on ``/credit/formula``).
:func:`standing` computes a firm's score at any moment from the facts that counted then: the
``scored`` method snapshots it at the bid deadline. Facts stop counting three years after they
occurred, and the platform's mean rating moves: each record keeps ``next_change_at`` (the next
fact's end, at most a day ahead), and the worker job ``listings.credit`` (:func:`tick`)
recomputes the records that are due — Prozorro's next-check idea.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, ColumnElement, Text, UniqueConstraint, func
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel, col, select

from listings.credit_rules import (
    DEFAULT_POLICY,
    GRADES,
    CreditFactKind,
    CreditPolicy,
    FactIn,
    Grade,
    compute,
    expires_at,
    grade_floor,
    in_window,
    window_start,
)
from market import audit, clock
from market.actor import SYSTEM
from market.db import StrEnumType, UTCDateTime, new_id, one_of
from market.errors import InvalidInput, NotFound
from market.i18n import gettext as _
from market.identity.models import Organization, OrgKind, OrgStatus
from market.money import MoneyType
from market.settings import Settings

__all__ = [
    "CreditFact",
    "CreditFactKind",
    "CreditGradeChange",
    "CreditLine",
    "CreditRecord",
    "CreditStanding",
    "Grade",
    "recompute",
    "record_fact",
    "set_counts",
    "standing",
    "tick",
]

LINK_MAX = 300
NOTE_MAX = 2000
REFRESH = timedelta(days=1)  # the platform mean moves: every record is recomputed at least daily
TICK_BATCH = 200


class CreditCause(StrEnum):
    fact_recorded = "fact_recorded"  # a new fact
    counts_changed = "counts_changed"  # a fact started or stopped counting (an appeal)
    recomputed = "recomputed"  # time: a fact aged out, or the platform mean moved


class CreditFact(SQLModel, table=True):
    """One fact about a firm that its credit score counts (every column but ``counts`` frozen)."""

    __tablename__ = "credit_facts"
    __table_args__ = (
        CheckConstraint(one_of("kind", CreditFactKind), name="kind"),
        CheckConstraint("value >= 0", name="value_not_negative"),
        UniqueConstraint("kind", "source_id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    provider_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    kind: CreditFactKind = Field(sa_type=StrEnumType(CreditFactKind, 32))
    occurred_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    value: Decimal = Field(sa_type=MoneyType)  # a rating's average 1–5, violation points, 1 otherwise
    source_id: uuid.UUID  # the record behind the fact (a rating, a delivery, an objection…)
    link: str = Field(max_length=LINK_MAX)  # the page that shows it
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    counts: bool = True
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)


class CreditRecord(SQLModel, table=True):
    """A firm's current score and grade, as last computed (one row per firm with a fact)."""

    __tablename__ = "credit_records"
    __table_args__ = (
        CheckConstraint(one_of("grade", Grade), name="grade"),
        CheckConstraint("score >= 0", name="score_not_negative"),
    )

    provider_id: uuid.UUID = Field(foreign_key="organizations.id", primary_key=True)
    score: Decimal = Field(sa_type=MoneyType)
    grade: Grade = Field(sa_type=StrEnumType(Grade, 1))
    facts: int = 0  # how many facts count
    computed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    next_change_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class CreditGradeChange(SQLModel, table=True):
    """A firm's grade moved (append-only): what the finance bureau watches."""

    __tablename__ = "credit_grade_changes"
    __table_args__ = (
        CheckConstraint(one_of("old_grade", Grade), name="old_grade"),
        CheckConstraint(one_of("new_grade", Grade), name="new_grade"),
        CheckConstraint(one_of("cause", CreditCause), name="cause"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    provider_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    changed_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    old_score: Decimal = Field(sa_type=MoneyType)
    new_score: Decimal = Field(sa_type=MoneyType)
    old_grade: Grade = Field(sa_type=StrEnumType(Grade, 1))
    new_grade: Grade = Field(sa_type=StrEnumType(Grade, 1))
    cause: CreditCause = Field(sa_type=StrEnumType(CreditCause, 16))
    fact_id: uuid.UUID | None = Field(default=None, foreign_key="credit_facts.id")


@dataclass(frozen=True)
class CreditLine:
    """One fact as the firm's page shows it."""

    id: uuid.UUID
    kind: CreditFactKind
    occurred_at: datetime
    value: Decimal
    link: str
    note: str
    counts: bool  # counts now (False: under appeal, annulled, or past three years)
    effect: Decimal | None  # points it adds (negative: takes), None when it does not count
    expires_at: datetime


@dataclass(frozen=True)
class CreditStanding:
    provider_id: uuid.UUID
    at: datetime
    score: Decimal  # 0–100, two decimals
    grade: Grade
    baseline: Decimal
    mean: Decimal  # the platform mean rating used
    ratings: int
    rating_average: Decimal | None
    shrunk_average: Decimal
    lines: tuple[CreditLine, ...]  # every fact of the last three years, newest first; effect None: not counted
    next_change_at: datetime | None

    @property
    def moved_by(self) -> tuple[CreditLine, ...]:
        """The facts that moved the score."""
        return tuple(line for line in self.lines if line.effect is not None)


def whole_score(score: Decimal) -> int:
    """The score rounded to a whole number, as a bid keeps it for the ``scored`` method."""
    return int(score.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def grade_choices(policy: CreditPolicy = DEFAULT_POLICY) -> list[tuple[str, str]]:
    """The grades as a form offers them, each with its published lower bound."""
    return [
        (str(g), _("%(grade)s (score %(floor)s or more)", grade=str(g), floor=f"{grade_floor(g, policy):g}"))
        if g != Grade.D
        else (str(g), _("%(grade)s (below %(bound)s)", grade=str(g), bound=f"{policy.grade_c:g}"))
        for g in GRADES
    ]


async def platform_mean_at(session: AsyncSession, at: datetime) -> Decimal | None:
    """The mean of every firm's ratings that count at ``at``."""
    value = await session.scalar(
        select(func.avg(col(CreditFact.value))).where(
            col(CreditFact.kind) == CreditFactKind.rating,
            col(CreditFact.counts).is_(True),
            col(CreditFact.occurred_at) <= at,
            col(CreditFact.occurred_at) > window_start(at),
        )
    )
    if value is None:
        return None
    mean = Decimal(str(value))
    if session.get_bind().dialect.name == "sqlite":
        mean = mean / 100  # MoneyType keeps cents on SQLite
    return mean.quantize(Decimal("0.0001"))


async def _facts_of(session: AsyncSession, provider_id: uuid.UUID, at: datetime) -> list[CreditFact]:
    return list(
        await session.scalars(
            select(CreditFact)
            .where(
                col(CreditFact.provider_id) == provider_id,
                col(CreditFact.occurred_at) <= at,
                col(CreditFact.occurred_at) > window_start(at),
            )
            .order_by(col(CreditFact.occurred_at).desc(), col(CreditFact.created_at).desc())
        )
    )


async def standing(
    session: AsyncSession, provider_id: uuid.UUID, at: datetime, policy: CreditPolicy = DEFAULT_POLICY
) -> CreditStanding:
    """The firm's score and grade at ``at``, with every fact of the three years before it."""
    facts = await _facts_of(session, provider_id, at)
    mean = await platform_mean_at(session, at)
    result = compute([FactIn(f.kind, f.occurred_at, f.value, f.counts) for f in facts], at, mean, policy)
    lines = tuple(
        CreditLine(
            id=f.id,
            kind=f.kind,
            occurred_at=f.occurred_at,
            value=f.value,
            link=f.link,
            note=f.note,
            counts=f.counts and in_window(f.occurred_at, at),
            effect=effect,
            expires_at=expires_at(f.occurred_at),
        )
        for f, effect in zip(facts, result.effects, strict=True)
    )
    return CreditStanding(
        provider_id=provider_id,
        at=at,
        score=result.score,
        grade=result.grade,
        baseline=result.baseline,
        mean=result.mean,
        ratings=result.ratings,
        rating_average=result.rating_average,
        shrunk_average=result.shrunk_average,
        lines=lines,
        next_change_at=result.next_change_at,
    )


async def standings(
    session: AsyncSession, provider_ids: Sequence[uuid.UUID], at: datetime
) -> dict[uuid.UUID, CreditStanding]:
    """Several firms' standings at one moment (a handful: the bids of one purchase)."""
    return {pid: await standing(session, pid, at) for pid in dict.fromkeys(provider_ids)}


async def recompute(
    session: AsyncSession,
    provider_id: uuid.UUID,
    *,
    cause: CreditCause = CreditCause.recomputed,
    fact_id: uuid.UUID | None = None,
) -> CreditRecord:
    """Store the firm's standing now; a grade that moves is appended to the history and audited."""
    now = clock.now()
    current = await standing(session, provider_id, now)
    record = await session.get(CreditRecord, provider_id, with_for_update=True, populate_existing=True)
    if record is None:
        # a firm without a record stood at the baseline (no fact yet)
        baseline = compute([], now, current.mean)
        old_score, old_grade = baseline.score, baseline.grade
        record = CreditRecord(provider_id=provider_id, score=current.score, grade=current.grade, computed_at=now)
        session.add(record)
    else:
        old_score, old_grade = record.score, record.grade
    counted = sum(1 for line in current.lines if line.effect is not None)
    ahead = now + REFRESH
    record.score, record.grade, record.facts, record.computed_at = current.score, current.grade, counted, now
    record.next_change_at = (
        min(current.next_change_at, ahead) if current.next_change_at else (ahead if counted else None)
    )
    if old_grade != current.grade:
        change = CreditGradeChange(
            provider_id=provider_id,
            changed_at=now,
            old_score=old_score,
            new_score=current.score,
            old_grade=old_grade,
            new_grade=current.grade,
            cause=cause,
            fact_id=fact_id,
        )
        session.add(change)
        audit.record(
            session,
            SYSTEM,
            "credit.grade_changed",
            "organization",
            provider_id,
            {
                "old_grade": old_grade,
                "new_grade": current.grade,
                "old_score": str(old_score),
                "new_score": str(current.score),
                "cause": cause,
                "fact_id": fact_id,
            },
        )
    await session.flush()
    return record


async def record_fact(
    session: AsyncSession,
    *,
    provider_id: uuid.UUID,
    kind: CreditFactKind,
    occurred_at: datetime,
    value: Decimal | int,
    source_id: uuid.UUID,
    link: str,
    note: str = "",
    counts: bool = True,
) -> CreditFact:
    """Add a fact about a firm (in the caller's transaction) and recompute its record.

    ``source_id`` is the record behind the fact; one fact per kind and source (recording it again
    answers the fact already there). ``value``: a rating's average (1–5), violation points, else 1."""
    amount = Decimal(value)
    if kind == CreditFactKind.rating and not Decimal(1) <= amount <= Decimal(5):
        raise InvalidInput.field("value", _("A rating is from 1 to 5."))
    if amount < 0 or amount > Decimal(1000):
        raise InvalidInput.field("value", _("A fact's value is from 0 to 1000."))
    if len(link) > LINK_MAX or len(note) > NOTE_MAX:
        raise InvalidInput.field("link" if len(link) > LINK_MAX else "note", _("This text is too long."))
    existing = await session.scalar(
        select(CreditFact).where(col(CreditFact.kind) == kind, col(CreditFact.source_id) == source_id)
    )
    if existing is not None:
        return existing
    fact = CreditFact(
        provider_id=provider_id,
        kind=kind,
        occurred_at=occurred_at,
        value=amount,
        source_id=source_id,
        link=link,
        note=note,
        counts=counts,
    )
    session.add(fact)
    await session.flush()
    audit.record(
        session,
        SYSTEM,
        "credit.fact_recorded",
        "organization",
        provider_id,
        {
            "fact_id": fact.id,
            "kind": kind,
            "occurred_at": occurred_at.isoformat(),
            "value": str(fact.value),
            "source_id": source_id,
            "counts": counts,
        },
    )
    await recompute(session, provider_id, cause=CreditCause.fact_recorded, fact_id=fact.id)
    return fact


async def set_counts(session: AsyncSession, *, kind: CreditFactKind, source_id: uuid.UUID, counts: bool) -> None:
    """Let a fact count or not (violation points under appeal, an appeal upheld), and recompute."""
    fact = await session.scalar(
        select(CreditFact)
        .where(col(CreditFact.kind) == kind, col(CreditFact.source_id) == source_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if fact is None:
        raise NotFound(_("No such credit fact."))
    if fact.counts == counts:
        return
    fact.counts = counts
    session.add(fact)
    await session.flush()
    audit.record(
        session,
        SYSTEM,
        "credit.fact_counts_changed",
        "organization",
        fact.provider_id,
        {"fact_id": fact.id, "kind": kind, "source_id": source_id, "counts": counts},
    )
    await recompute(session, fact.provider_id, cause=CreditCause.counts_changed, fact_id=fact.id)


async def record_of(session: AsyncSession, provider_id: uuid.UUID) -> CreditRecord | None:
    return await session.get(CreditRecord, provider_id)


async def grades_of(session: AsyncSession, provider_ids: Sequence[uuid.UUID], at: datetime) -> dict[uuid.UUID, Grade]:
    """Many firms' grades at once, as a list shows them: a firm's kept record (recomputed whenever a
    fact changes and by the worker when one is due), else the starting point's grade (no fact)."""
    ids = list(dict.fromkeys(provider_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(col(CreditRecord.provider_id), col(CreditRecord.grade)).where(col(CreditRecord.provider_id).in_(ids))
    )
    kept: dict[uuid.UUID, str] = {pid: grade for pid, grade in rows}
    missing = [pid for pid in ids if pid not in kept]
    if missing:
        baseline = compute([], at, await platform_mean_at(session, at)).grade
        kept.update(dict.fromkeys(missing, baseline))
    return {pid: Grade(kept[pid]) for pid in ids}


async def tick(factory: async_sessionmaker[AsyncSession], settings: Settings, now: datetime) -> int:
    """Worker job: recompute the records whose next change is due (a fact aged out, a day passed)."""
    done = 0
    async with factory() as session:
        query = (
            select(col(CreditRecord.provider_id))
            .where(col(CreditRecord.next_change_at) <= now)
            .order_by(col(CreditRecord.next_change_at))
            .limit(TICK_BATCH)
        )
        if not settings.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        due = list(await session.scalars(query))
        for provider_id in due:
            await recompute(session, provider_id)
            done += 1
        await session.commit()
    return done


# --- reads for the pages and the API -------------------------------------------------------------

PUBLIC_STATUSES = (OrgStatus.approved, OrgStatus.suspended, OrgStatus.blacklisted)


async def public_provider(session: AsyncSession, provider_id: uuid.UUID) -> Organization:
    """A firm whose credit is public: registered as a provider and approved (or sanctioned since)."""
    org = await session.get(Organization, provider_id)
    if org is None or org.kind != OrgKind.provider or org.status not in PUBLIC_STATUSES:
        raise NotFound(_("No such provider in the directory."))
    return org


@dataclass(frozen=True)
class GradeChangeRow:
    change: CreditGradeChange
    provider_name: str
    fact_kind: CreditFactKind | None


async def grade_changes(
    session: AsyncSession,
    *,
    grade: Grade | None = None,
    provider_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[GradeChangeRow], int]:
    """Moves of firms' grades, newest first (the finance bureau's view); ``grade``: moves to or from it."""
    conditions: list[ColumnElement[bool]] = []
    if grade is not None:
        conditions.append((col(CreditGradeChange.new_grade) == grade) | (col(CreditGradeChange.old_grade) == grade))
    if provider_id is not None:
        conditions.append(col(CreditGradeChange.provider_id) == provider_id)
    if since is not None:
        conditions.append(col(CreditGradeChange.changed_at) >= since)
    if until is not None:
        conditions.append(col(CreditGradeChange.changed_at) < until)
    total = int(await session.scalar(select(func.count()).select_from(CreditGradeChange).where(*conditions)) or 0)
    rows = await session.execute(
        select(CreditGradeChange, col(Organization.name), col(CreditFact.kind))
        .join(Organization, col(Organization.id) == col(CreditGradeChange.provider_id))
        .outerjoin(CreditFact, col(CreditFact.id) == col(CreditGradeChange.fact_id))
        .where(*conditions)
        .order_by(col(CreditGradeChange.changed_at).desc(), col(CreditGradeChange.id))
        .limit(limit)
        .offset(offset)
    )
    return [GradeChangeRow(change, name, kind) for change, name, kind in rows.all()], total
