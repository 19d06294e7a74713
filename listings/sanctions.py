"""Violation points with appeal, sanctions by published thresholds, and the public lists (issue 13.2, 13.6).

The rules are in :mod:`listings.violation_rules` (pure, published on ``/credit``). Here:

* the operator records a violation against a firm (:func:`record_violation`); the firm sees it on
  its workspace at once and is notified;
* the firm appeals once in writing within the appeal window (:func:`appeal`); a second appeal,
  or one after a decision, is a 409; one after the window is refused (422);
* the operator decides the appeal in writing (:func:`decide_appeal`): upheld removes the points,
  dismissed makes them count;
* a violation whose window closed without an appeal becomes final (:func:`finalize_due`, the
  worker job ``listings.violations``);
* whenever points start to count, the published thresholds are applied
  (:func:`apply_thresholds`): a suspension or a blacklisting through
  :mod:`listings.organizations`, with an audit event of its own naming the points;
* the black list (suspended and blacklisted firms with period and reason) and every sanction
  period of a firm come from the organisations and their audit trail (:func:`black_list`,
  :func:`sanction_periods`).

Every change is an audit event; services never commit.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col, select

from listings import credit, notifications, organizations
from listings.credit import CreditRecord
from listings.credit_rules import CreditFactKind, Grade
from listings.models import FileUpload, Violation, ViolationAppeal
from listings.violation_rules import (
    APPEAL_WORKING_DAYS,
    BLACKLIST_POINTS,
    MAX_POINTS,
    MAX_REASON,
    MIN_REASON,
    SUSPENSION_DAYS,
    SUSPENSION_POINTS,
    WINDOW_DAYS,
    PointsState,
    Sanction,
    ViolationStatus,
    category,
    counting_points,
    counts_at,
    may_appeal,
    sanction_for,
)
from market import audit, clock, workdays
from market.actor import SYSTEM, Actor, require_approver
from market.audit.models import AuditEvent
from market.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RuleViolation
from market.i18n import gettext as _
from market.identity.models import Organization, OrgKind, OrgStatus
from market.settings import Settings
from market.terms import N_, label

PUBLIC_STATUSES = (ViolationStatus.final, ViolationStatus.dismissed)


def state(v: Violation) -> PointsState:
    return PointsState(points=v.points, status=v.status, recorded_at=v.recorded_at, appeal_due_at=v.appeal_due_at)


def _text(value: str | None, field: str) -> str:
    text = (value or "").strip()
    if len(text) < MIN_REASON:
        raise InvalidInput.field(field, _("At least %(n)s characters.", n=MIN_REASON))
    if len(text) > MAX_REASON:
        raise InvalidInput.field(field, _("At most %(n)d characters.", n=MAX_REASON))
    return text


def _admin(actor: Actor) -> None:
    if actor.role != "admin":
        raise PermissionDenied(_("Only the platform operator may do this."))


# --- recording ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ViolationInput:
    category: str
    points: int | None
    reason: str
    evidence_sha256: str | None = None


async def _evidence(session: AsyncSession, actor: Actor, sha256: str | None) -> tuple[str, str] | None:
    """The evidence file (sha256, name) the operator uploaded (``POST /api/v1/files`` or the form)."""
    if not sha256:
        return None
    digest = sha256.strip().lower()
    upload = None
    if len(digest) == 64 and actor.org_id is not None:
        upload = await session.scalar(
            select(FileUpload)
            .where(col(FileUpload.sha256) == digest, col(FileUpload.org_id) == actor.org_id)
            .order_by(col(FileUpload.created_at).desc())
            .limit(1)
        )
    if upload is None:
        raise InvalidInput.field("evidence_sha256", _("Upload the evidence first, then refer to it."))
    return digest, upload.filename


async def record_violation(
    session: AsyncSession, actor: Actor, settings: Settings, provider_id: uuid.UUID, data: ViolationInput
) -> Violation:
    """The operator records a violation against a firm; it may be appealed within
    :data:`APPEAL_WORKING_DAYS` working days, and its points count only once final."""
    _admin(actor)
    found = category(data.category)
    if found is None:
        raise InvalidInput.field("category", _("Choose a category from the published list."))
    points = found.points if data.points is None else data.points
    if not 1 <= points <= MAX_POINTS:
        raise InvalidInput.field("points", _("From 1 to %(n)d points.", n=MAX_POINTS))
    reason = _text(data.reason, "reason")
    evidence = await _evidence(session, actor, data.evidence_sha256)
    org = await organizations.locked_org(session, provider_id)
    if org.kind != OrgKind.provider:
        raise Conflict(_("Violation points apply to intermediary firms only."))
    if org.status in (OrgStatus.pending, OrgStatus.rejected):
        raise RuleViolation(
            _("Violation points apply to firms admitted to the platform."),
            _("The organisation's status is: %(status)s.", status=label(org.status, "org_status")),
        )
    now = clock.now()
    violation = Violation(
        provider_id=org.id,
        category=found.code,
        points=points,
        reason=reason,
        evidence_sha256=evidence[0] if evidence else None,
        evidence_filename=evidence[1] if evidence else None,
        recorded_at=now,
        recorded_by=actor.user_id,
        appeal_due_at=workdays.add_period(now, APPEAL_WORKING_DAYS, settings.accelerator),
    )
    session.add(violation)
    await session.flush()
    audit.record(
        session,
        actor,
        "violation.recorded",
        "violation",
        violation.id,
        {
            "provider_id": org.id,
            "category": found.code,
            "points": points,
            "default_points": found.points,
            "reason": reason,
            "evidence_sha256": violation.evidence_sha256,
            "appeal_due_at": violation.appeal_due_at,
        },
    )
    await notifications.violation_recorded(session, org, violation, found.label)
    # the credit record holds it from now on, not counting until final
    await credit.record_fact(
        session,
        provider_id=org.id,
        kind=CreditFactKind.violation,
        occurred_at=now,
        value=points,
        source_id=violation.id,
        link=violation_link(violation),
        note="",  # language-neutral: the credit table links to the violation
        counts=False,
    )
    return violation


def violation_link(violation: Violation) -> str:
    """Where the public sees a violation once its points count (the firm's public page)."""
    return f"/providers/{violation.provider_id}#violation-{violation.id}"


# --- reading -----------------------------------------------------------------------------------


async def get_violation(session: AsyncSession, violation_id: uuid.UUID) -> tuple[Violation, ViolationAppeal | None]:
    violation = await session.get(Violation, violation_id)
    if violation is None:
        raise NotFound(_("No such violation."))
    appeal_row = await session.scalar(select(ViolationAppeal).where(col(ViolationAppeal.violation_id) == violation_id))
    return violation, appeal_row


def may_see_all(actor: Actor, provider_id: uuid.UUID) -> bool:
    """The firm itself, the operator and the finance bureau see every violation (pending, upheld,
    the evidence); the public sees only those whose points count (final or dismissed)."""
    return actor.role in ("admin", "finance") or actor.org_id == provider_id


async def readable_violation(
    session: AsyncSession, actor: Actor, violation_id: uuid.UUID
) -> tuple[Violation, ViolationAppeal | None]:
    violation, appeal_row = await get_violation(session, violation_id)
    if not may_see_all(actor, violation.provider_id) and violation.status not in PUBLIC_STATUSES:
        raise NotFound(_("No such violation."))
    return violation, appeal_row


async def provider_violations(
    session: AsyncSession, actor: Actor, provider_id: uuid.UUID
) -> list[tuple[Violation, ViolationAppeal | None]]:
    """A firm's violations, newest first, with their appeals (what ``actor`` may see of them)."""
    stmt = select(Violation).where(col(Violation.provider_id) == provider_id)
    if not may_see_all(actor, provider_id):
        stmt = stmt.where(col(Violation.status).in_(PUBLIC_STATUSES))
    rows = list(await session.scalars(stmt.order_by(col(Violation.recorded_at).desc())))
    appeals = {
        a.violation_id: a
        for a in await session.scalars(
            select(ViolationAppeal).where(col(ViolationAppeal.violation_id).in_([v.id for v in rows]))
        )
    }
    return [(v, appeals.get(v.id)) for v in rows]


async def points_of(session: AsyncSession, provider_id: uuid.UUID, at: datetime) -> int:
    """The firm's counting points at ``at`` (violations recorded in the last 12 months, final)."""
    since = at - timedelta(days=WINDOW_DAYS)
    rows = await session.scalars(
        select(Violation).where(col(Violation.provider_id) == provider_id, col(Violation.recorded_at) > since)
    )
    return counting_points((state(v) for v in rows), at)


async def appeals_to_decide(session: AsyncSession) -> list[tuple[Violation, ViolationAppeal, Organization]]:
    """Appeals waiting for the operator, oldest first."""
    rows = await session.execute(
        select(Violation, ViolationAppeal, Organization)
        .join(ViolationAppeal, col(ViolationAppeal.violation_id) == col(Violation.id))
        .join(Organization, col(Organization.id) == col(Violation.provider_id))
        .where(col(Violation.status) == ViolationStatus.under_appeal)
        .order_by(col(ViolationAppeal.filed_at))
    )
    return [(v, a, o) for v, a, o in rows.all()]


async def recent_violations(session: AsyncSession, limit: int = 50) -> list[tuple[Violation, Organization]]:
    rows = await session.execute(
        select(Violation, Organization)
        .join(Organization, col(Organization.id) == col(Violation.provider_id))
        .order_by(col(Violation.recorded_at).desc())
        .limit(limit)
    )
    return [(v, o) for v, o in rows.all()]


# --- the appeal --------------------------------------------------------------------------------


async def _locked(session: AsyncSession, violation_id: uuid.UUID) -> Violation:
    violation = await session.scalar(
        select(Violation)
        .where(col(Violation.id) == violation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if violation is None:
        raise NotFound(_("No such violation."))
    return violation


async def appeal(session: AsyncSession, actor: Actor, violation_id: uuid.UUID, text: str) -> ViolationAppeal:
    """The firm appeals once, in writing, before the appeal window ends."""
    violation = await _locked(session, violation_id)
    if actor.org_id != violation.provider_id:
        raise NotFound(_("No such violation."))  # another firm learns nothing
    require_approver(actor)
    body = _text(text, "text")
    if violation.status != ViolationStatus.appealable:
        raise Conflict(
            _("This violation cannot be appealed again."),
            _(
                "A violation may be appealed once; its appeal is %(status)s.",
                status=label(violation.status, "violation_status"),
            ),
        )
    now = clock.now()
    if not may_appeal(state(violation), now):
        raise RuleViolation(
            _("The appeal window has closed."),
            _(
                "An appeal must be filed within %(n)d working days, by %(due)s.",
                n=APPEAL_WORKING_DAYS,
                due=clock.to_local(violation.appeal_due_at).strftime("%Y-%m-%d %H:%M"),
            ),
        )
    filed = ViolationAppeal(violation_id=violation.id, text=body, filed_at=now, filed_by=actor.user_id)
    session.add(filed)
    violation.status = ViolationStatus.under_appeal
    await session.flush()
    audit.record(
        session,
        actor,
        "violation.appealed",
        "violation",
        violation.id,
        {"provider_id": violation.provider_id, "appeal_id": filed.id, "text": body},
    )
    org = await session.get(Organization, violation.provider_id)
    if org is not None:
        await notifications.violation_appealed(session, org, violation)
    return filed


async def decide_appeal(
    session: AsyncSession, actor: Actor, violation_id: uuid.UUID, *, upheld: bool, decision: str
) -> ViolationAppeal:
    """The operator decides the appeal in writing: upheld removes the points, dismissed makes them
    count (and the thresholds apply). A decided appeal is never decided or appealed again (409)."""
    _admin(actor)
    text = _text(decision, "decision")
    violation = await _locked(session, violation_id)
    found = await session.scalar(select(ViolationAppeal).where(col(ViolationAppeal.violation_id) == violation.id))
    if found is None or violation.status != ViolationStatus.under_appeal or found.decided_at is not None:
        raise Conflict(
            _("There is no pending appeal to decide."),
            _("The violation's status is: %(status)s.", status=label(violation.status, "violation_status")),
        )
    now = clock.now()
    found.upheld, found.decision, found.decided_at, found.decided_by = upheld, text, now, actor.user_id
    violation.status = ViolationStatus.upheld if upheld else ViolationStatus.dismissed
    violation.closed_at = now
    audit.record(
        session,
        actor,
        "violation.appeal_decided",
        "violation",
        violation.id,
        {"provider_id": violation.provider_id, "upheld": upheld, "decision": text, "points": violation.points},
    )
    org = await session.get(Organization, violation.provider_id)
    if org is not None:
        await notifications.appeal_decided(session, org, violation, upheld)
    if not upheld:
        await became_final(session, violation)
    return found


# --- final points and thresholds ---------------------------------------------------------------


async def became_final(session: AsyncSession, violation: Violation) -> Sanction:
    """The violation's points count from now on: in the credit record, and the thresholds apply."""
    await credit.set_counts(session, kind=CreditFactKind.violation, source_id=violation.id, counts=True)
    return await apply_thresholds(session, violation.provider_id, violation)


async def finalize_due(session: AsyncSession, now: datetime, limit: int = 100) -> int:
    """Violations whose appeal window closed without an appeal become final (their points count)."""
    stmt = (
        select(Violation)
        .where(col(Violation.status) == ViolationStatus.appealable, col(Violation.appeal_due_at) <= now)
        .order_by(col(Violation.appeal_due_at))
        .limit(limit)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    count = 0
    for violation in list(await session.scalars(stmt)):
        violation.status = ViolationStatus.final
        violation.closed_at = now
        audit.record(
            session,
            SYSTEM,
            "violation.final",
            "violation",
            violation.id,
            {
                "provider_id": violation.provider_id,
                "points": violation.points,
                "appeal_due_at": violation.appeal_due_at,
            },
        )
        await became_final(session, violation)
        count += 1
    return count


async def violations_tick(factory: async_sessionmaker[AsyncSession], settings: Settings, now: datetime) -> int:
    """The worker job ``listings.violations``."""
    async with factory() as session:
        count = await finalize_due(session, now)
        await session.commit()
    return count


def threshold_reason(points: int, sanction: Sanction) -> str:
    threshold = BLACKLIST_POINTS if sanction == Sanction.blacklist else SUSPENSION_POINTS
    return _(
        "Published threshold reached: %(points)d counting violation points in 12 months (at least %(threshold)d).",
        points=points,
        threshold=threshold,
    )


async def apply_thresholds(session: AsyncSession, provider_id: uuid.UUID, cause: Violation | None = None) -> Sanction:
    """Suspend or blacklist the firm when its counting points reach a published threshold. A
    suspension applies to a firm in good standing (an existing suspension or blacklisting stays
    as it is); a blacklisting to any firm not blacklisted yet."""
    now = clock.now()
    points = await points_of(session, provider_id, now)
    sanction = sanction_for(points)
    if sanction == Sanction.none:
        return sanction
    org = await organizations.locked_org(session, provider_id)
    if sanction == Sanction.blacklist and org.status != OrgStatus.blacklisted:
        await organizations.blacklist(session, SYSTEM, org.id, threshold_reason(points, sanction))
    elif sanction == Sanction.suspension and org.status == OrgStatus.approved:
        until = clock.today_local() + timedelta(days=SUSPENSION_DAYS - 1)
        await organizations.suspend(session, SYSTEM, org.id, threshold_reason(points, sanction), until)
    else:
        return Sanction.none
    audit.record(
        session,
        SYSTEM,
        "violation.threshold_reached",
        "organization",
        org.id,
        {
            "points": points,
            "sanction": sanction,
            "violation_id": cause.id if cause else None,
            "suspension_points": SUSPENSION_POINTS,
            "blacklist_points": BLACKLIST_POINTS,
            "until": org.suspended_until,
        },
    )
    await notifications.sanction_applied(session, org, sanction, points)
    return sanction


# --- sanction periods and the black list -------------------------------------------------------

SANCTION_ACTIONS = (
    "organization.suspended",
    "organization.blacklisted",
    "organization.reinstated",
    "organization.suspension_ended",
)


@dataclass
class Period:
    """A suspension or a blacklisting, from its decision to its end (``None``: still running;
    a suspension's ``until`` is its last day)."""

    org_id: uuid.UUID
    kind: str  # suspended | blacklisted
    reason: str
    start: datetime
    until: date | None  # a suspension's last day (inclusive)
    ended_at: datetime | None = None
    automatic: bool = False  # applied by the published thresholds


async def sanction_periods(session: AsyncSession, org_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Period]]:
    """Every suspension and blacklisting of the organisations, newest first, from the audit trail."""
    rows = await session.scalars(
        select(AuditEvent)
        .where(
            col(AuditEvent.entity_type) == "organization",
            col(AuditEvent.entity_id).in_([str(i) for i in org_ids]),
            col(AuditEvent.action).in_(SANCTION_ACTIONS),
        )
        .order_by(col(AuditEvent.seq))
    )
    found: dict[uuid.UUID, list[Period]] = {i: [] for i in org_ids}
    for event in rows:
        org_id = uuid.UUID(event.entity_id)
        periods = found[org_id]
        data: dict[str, Any] = json.loads(event.data)
        at = clock.ensure_aware(event.occurred_at)
        if periods and periods[-1].ended_at is None:
            periods[-1].ended_at = at
        if event.action in ("organization.suspended", "organization.blacklisted"):
            until = data.get("until")
            periods.append(
                Period(
                    org_id=org_id,
                    kind=event.action.split(".", 1)[1],
                    reason=str(data.get("reason") or ""),
                    start=at,
                    until=date.fromisoformat(until) if isinstance(until, str) else None,
                    automatic=event.actor_role == "system",
                )
            )
    return {org_id: list(reversed(periods)) for org_id, periods in found.items()}


@dataclass
class Listed:
    org: Organization
    period: Period | None
    points: int


async def black_list(session: AsyncSession, at: datetime) -> list[Listed]:
    """The black list: firms blacklisted or suspended now, each with its period and reason
    (blacklisted first, then by the start of the period, newest first)."""
    orgs = list(
        await session.scalars(
            select(Organization).where(
                col(Organization.kind) == OrgKind.provider,
                col(Organization.status).in_((OrgStatus.blacklisted, OrgStatus.suspended)),
            )
        )
    )
    periods = await sanction_periods(session, [o.id for o in orgs])
    listed = []
    for org in orgs:
        current = next((p for p in periods[org.id] if p.ended_at is None), None)
        listed.append(Listed(org=org, period=current, points=await points_of(session, org.id, at)))
    listed.sort(
        key=lambda item: (
            item.org.status != OrgStatus.blacklisted,
            -(item.period.start.timestamp() if item.period else 0),
        )
    )
    return listed


RED_MIN_RATINGS = 3
RED_DEFINITION = N_(
    "Red list (good standing): intermediary firms approved on the platform and neither suspended nor "
    "blacklisted, whose credit grade is A, rated by owners at least 3 times in the last three years, "
    "with no violation points counting in the last 12 months. Ordered by score."
)
BLACK_DEFINITION = N_(
    "Black list: intermediary firms blacklisted (until the operator reinstates them) or suspended (through "
    "the last day shown), by the published thresholds of violation points or by the operator's decision "
    "with its reason. Blacklisted firms first, then the newest sanctions."
)


@dataclass
class RedListed:
    org: Organization
    grade: str
    score: Decimal
    ratings: int
    points: int = 0


async def red_list(session: AsyncSession, at: datetime) -> list[RedListed]:
    """The red list (see :data:`RED_DEFINITION`), best score first."""
    rows = await session.execute(
        select(Organization, CreditRecord)
        .join(CreditRecord, col(CreditRecord.provider_id) == col(Organization.id))
        .where(
            col(Organization.kind) == OrgKind.provider,
            col(Organization.status) == OrgStatus.approved,
            col(CreditRecord.grade) == Grade.A,
            # at least as many counting facts as the ratings asked for (firms without a record of
            # their own, A by the baseline alone, are not read one by one)
            col(CreditRecord.facts) >= RED_MIN_RATINGS,
        )
    )
    listed = []
    for org, _record in rows.all():
        if await points_of(session, org.id, at) > 0:
            continue
        now = await credit.standing(session, org.id, at)
        if now.grade != Grade.A or now.ratings < RED_MIN_RATINGS:
            continue
        listed.append(RedListed(org=org, grade=now.grade, score=now.score, ratings=now.ratings))
    listed.sort(key=lambda x: (-x.score, x.org.name))
    return listed


def counts_now(v: Violation, at: datetime) -> bool:
    return counts_at(state(v), at)
