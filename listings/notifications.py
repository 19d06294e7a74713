"""What the listings package tells people (issue 11.2), in the transaction of the fact: the
operator that a registration or a qualification waits for review; the firm or owner the
decision."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from listings.models import Violation
from market import clock, notify
from market.identity.models import Organization, OrgKind, OrgStatus
from market.settings import Settings
from market.terms import N_
from market.workdays import add_period

REVIEW_TARGET_WORKING_DAYS = 2

KINDS = [
    notify.Kind(
        "listings.registration_approved",
        N_("Your registration is approved"),
        N_("The operator approved the registration of %(name)s. You can now use the platform."),
        "provider owner",
        label=N_("My registration is approved"),
    ),
    notify.Kind(
        "listings.registration_rejected",
        N_("Your registration was rejected"),
        N_("The operator rejected the registration of %(name)s: %(reason)s. Correct it and submit it again."),
        "provider owner",
        label=N_("My registration is rejected"),
    ),
    notify.Kind(
        "listings.registration_to_review",
        N_("Registration to review: %(name)s"),
        N_("%(name)s has registered and waits for your review (within 2 working days)."),
        "admin",
        label=N_("A registration to review"),
    ),
    notify.Kind(
        "listings.qualification_to_review",
        N_("Qualification to review: %(name)s"),
        N_("%(name)s submitted the qualification “%(qualification)s” for review."),
        "admin",
        label=N_("A qualification to review"),
    ),
    notify.Kind(
        "listings.qualification_approved",
        N_("Qualification approved: %(qualification)s"),
        N_("The operator approved your qualification “%(qualification)s”."),
        "provider",
        label=N_("My firm's qualification is approved"),
    ),
    notify.Kind(
        "listings.qualification_rejected",
        N_("Qualification rejected: %(qualification)s"),
        N_("The operator rejected your qualification “%(qualification)s”: %(reason)s"),
        "provider",
        label=N_("My firm's qualification is rejected"),
    ),
]
KINDS += [
    notify.Kind(
        "listings.registration_overdue",
        N_("Registration review overdue: %(name)s"),
        N_("The registration of %(name)s has waited past the 2-working-day review target (due %(due)s)."),
        "admin",
        label=N_("A registration past its review target"),
    ),
]
KINDS += [
    notify.Kind(
        "listings.violation_recorded",
        N_("A violation was recorded against %(name)s"),
        N_(
            "The operator recorded a violation (%(category)s, %(points)s points): %(reason)s. The points count "
            "once final. You may appeal once, in writing, until %(due)s."
        ),
        "provider",
        translated=("category",),
    ),
    notify.Kind(
        "listings.violation_appealed",
        N_("Appeal to decide: %(name)s"),
        N_("%(name)s appealed the violation recorded on %(recorded)s (%(points)s points). Decide it in writing."),
        "admin",
    ),
    notify.Kind(
        "listings.appeal_decided",
        N_("Your appeal is decided: %(outcome)s"),
        N_("The operator decided the appeal of %(name)s against the violation of %(recorded)s: %(outcome)s."),
        "provider",
        translated=("outcome",),
    ),
    notify.Kind(
        "listings.sanction_applied",
        N_("%(name)s: %(sanction)s"),
        N_(
            "%(name)s has %(points)s counting violation points in 12 months and reached a published threshold: "
            "%(sanction)s."
        ),
        "provider",
        translated=("sanction",),
    ),
]
for _kind in KINDS:
    notify.register_kind(_kind)


async def registration_decided(session: AsyncSession, org: Organization, approved: bool) -> None:
    await notify.send(
        session,
        kind="listings.registration_approved" if approved else "listings.registration_rejected",
        params={"name": org.name, "reason": org.status_reason or ""},
        link="/workspace/profile",
        to_org_id=org.id,
    )


async def registration_filed(session: AsyncSession, org: Organization) -> None:
    await notify.send(
        session,
        kind="listings.registration_to_review",
        params={"name": org.name},
        link=f"/admin/organizations/{org.id}",
        to_org_kind=OrgKind.operator,
    )


async def qualification_filed(session: AsyncSession, provider: Organization, name: str) -> None:
    await notify.send(
        session,
        kind="listings.qualification_to_review",
        params={"name": provider.name, "qualification": name},
        link="/admin/reviews",
        to_org_kind=OrgKind.operator,
    )


async def qualification_decided(
    session: AsyncSession, provider_id: uuid.UUID, qualification_id: uuid.UUID, name: str, reason: str | None
) -> None:
    await notify.send(
        session,
        kind="listings.qualification_approved" if reason is None else "listings.qualification_rejected",
        params={"qualification": name, "reason": reason or ""},
        link=f"/workspace/qualifications/{qualification_id}",
        to_org_id=provider_id,
    )


async def overdue_tick(factory: async_sessionmaker[AsyncSession], settings: Settings, now: datetime) -> int:
    """The worker job: a registration waiting past the review target is reported to the operator
    once (per submission)."""
    sent = 0
    async with factory() as session:
        pending = await session.scalars(
            select(Organization)
            .where(col(Organization.status) == OrgStatus.pending)
            .order_by(col(Organization.updated_at))
        )
        for org in list(pending):
            due = add_period(org.updated_at, REVIEW_TARGET_WORKING_DAYS, settings.accelerator)
            if due >= now:
                break  # oldest first: the rest are within the target
            if await notify.once(session, f"listings.overdue:{org.id}:{due.isoformat()}"):
                await notify.send(
                    session,
                    kind="listings.registration_overdue",
                    params={"name": org.name, "due": clock.to_local(due).strftime("%Y-%m-%d %H:%M")},
                    link=f"/admin/organizations/{org.id}",
                    to_org_kind=OrgKind.operator,
                )
                sent += 1
        await session.commit()
    return sent


def _local(moment: datetime) -> str:
    return clock.to_local(moment).strftime("%Y-%m-%d %H:%M")


async def violation_recorded(session: AsyncSession, org: Organization, violation: Violation, category: str) -> None:
    await notify.send(
        session,
        kind="listings.violation_recorded",
        params={
            "name": org.name,
            "category": category,
            "points": violation.points,
            "reason": violation.reason,
            "due": _local(violation.appeal_due_at),
        },
        link=f"/workspace/violations/{violation.id}",
        to_org_id=org.id,
    )


async def violation_appealed(session: AsyncSession, org: Organization, violation: Violation) -> None:
    await notify.send(
        session,
        kind="listings.violation_appealed",
        params={"name": org.name, "recorded": _local(violation.recorded_at), "points": violation.points},
        link=f"/admin/violations/{violation.id}",
        to_org_kind=OrgKind.operator,
    )


async def appeal_decided(session: AsyncSession, org: Organization, violation: Violation, upheld: bool) -> None:
    outcome = N_("upheld, the points are removed") if upheld else N_("dismissed, the points count")
    await notify.send(
        session,
        kind="listings.appeal_decided",
        params={"name": org.name, "recorded": _local(violation.recorded_at), "outcome": outcome},
        link=f"/workspace/violations/{violation.id}",
        to_org_id=org.id,
    )


async def sanction_applied(session: AsyncSession, org: Organization, sanction: str, points: int) -> None:
    what = N_("blacklisted until the operator reinstates it") if sanction == "blacklist" else N_("suspended")
    await notify.send(
        session,
        kind="listings.sanction_applied",
        params={"name": org.name, "sanction": what, "points": points},
        link=f"/providers/{org.id}",
        to_org_id=org.id,
    )
