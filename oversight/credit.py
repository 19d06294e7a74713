"""The finance bureau's view of firms' credit grades (issue 13.6): every move of a grade, newest
first, with what moved it (``listings.credit`` keeps the history; this module only reads it)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from listings import credit
from listings import labels as _labels  # noqa: F401  (the labels of the credit facts and causes)
from listings.credit_rules import Grade
from market.terms import label
from oversight.facts import Period
from oversight.schemas import GradeChangeOut

GRADES = [g.value for g in Grade]


def change_out(row: credit.GradeChangeRow) -> GradeChangeOut:
    c = row.change
    return GradeChangeOut(
        id=c.id,
        provider_id=c.provider_id,
        provider_name=row.provider_name,
        changed_at=c.changed_at,
        old_score=f"{c.old_score:.2f}",
        new_score=f"{c.new_score:.2f}",
        old_grade=c.old_grade.value,
        new_grade=c.new_grade.value,
        cause=c.cause.value,
        cause_label=label(c.cause, "credit_cause"),
        fact_id=c.fact_id,
        fact_kind=row.fact_kind.value if row.fact_kind is not None else None,
        fact_label=label(row.fact_kind, "credit_fact_kind") if row.fact_kind is not None else None,
        url=f"/providers/{c.provider_id}#credit",
    )


async def changes(
    session: AsyncSession, period: Period, grade: str | None, limit: int, offset: int
) -> tuple[list[GradeChangeOut], int]:
    since, until = period.bounds()
    rows, total = await credit.grade_changes(
        session,
        grade=Grade(grade) if grade in GRADES else None,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return [change_out(r) for r in rows], total
