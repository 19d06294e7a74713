"""The published rules of violation points and sanctions (issue 13.2), pure: no database.

* The operator records a violation against a firm under one of :data:`CATEGORIES`, each with its
  default points (the operator may give from 1 to :data:`MAX_POINTS`, writing the reason).
* The firm may appeal once, in writing, within :data:`APPEAL_WORKING_DAYS` China working days of
  the recording. The operator decides the appeal in writing: upheld, the points are removed;
  dismissed, they count.
* **When points count.** A violation's points count only once it is final: its appeal window has
  closed without an appeal, or its appeal was dismissed. While it may still be appealed, and while
  an appeal is pending, its points do not count (the firm is not punished for points that may
  still fall away; the worker makes them count when the window closes, and the request-time
  reading :func:`counts_at` agrees with it even when the worker lags).
* **Thresholds.** Counting points of violations recorded in the last :data:`WINDOW_DAYS` days:
  at least :data:`SUSPENSION_POINTS` suspend the firm for :data:`SUSPENSION_DAYS` calendar days;
  at least :data:`BLACKLIST_POINTS` blacklist it until the operator reinstates it after review.
  Each applies when a violation becomes final, automatically, with an audit event; the operator
  may also suspend or blacklist by its own decision, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from market.clock import ensure_aware
from market.terms import N_

APPEAL_WORKING_DAYS = 10
WINDOW_DAYS = 365  # "in 12 months"
SUSPENSION_POINTS = 6
SUSPENSION_DAYS = 90
BLACKLIST_POINTS = 12
MAX_POINTS = 12
MIN_REASON = 5
MAX_REASON = 2000


class ViolationCategory(StrEnum):
    false_materials = "false_materials"
    collusion = "collusion"
    improper_benefit = "improper_benefit"
    fee_violation = "fee_violation"
    poor_quality = "poor_quality"
    overdue_service = "overdue_service"
    subcontracting = "subcontracting"
    broken_commitment = "broken_commitment"
    other = "other"


@dataclass(frozen=True)
class Category:
    code: ViolationCategory
    label: str  # msgid
    points: int  # the default points


C = ViolationCategory
CATEGORIES: tuple[Category, ...] = (
    Category(C.false_materials, N_("False or forged materials (qualifications, staff, performance)"), 8),
    Category(C.collusion, N_("Collusive or rigged bidding, or bidding in another firm's name"), 12),
    Category(C.improper_benefit, N_("Offering improper benefits to owners or officials"), 12),
    Category(C.fee_violation, N_("Charging above the fee standard or charging extra fees"), 6),
    Category(C.poor_quality, N_("Service of poor quality or a report that fails the standard"), 4),
    Category(C.overdue_service, N_("Service delivered after the time limit without good reason"), 2),
    Category(C.subcontracting, N_("Transferring or subcontracting the service without consent"), 6),
    Category(C.broken_commitment, N_("Breaking the commitment letter (e.g. ties to a government body)"), 6),
    Category(C.other, N_("Other breach of the platform's rules"), 2),
)
CATEGORY_CODES = tuple(c.code.value for c in CATEGORIES)


def category(code: str) -> Category | None:
    return next((c for c in CATEGORIES if c.code == code), None)


class ViolationStatus(StrEnum):
    appealable = "appealable"  # recorded; the firm may still appeal
    under_appeal = "under_appeal"  # appealed, waiting for the operator's decision
    upheld = "upheld"  # the appeal was upheld: the points are removed
    dismissed = "dismissed"  # the appeal was dismissed: the points count
    final = "final"  # the appeal window closed without an appeal: the points count


class Sanction(StrEnum):
    none = "none"
    suspension = "suspension"
    blacklist = "blacklist"


@dataclass(frozen=True)
class PointsState:
    """What the rules need of a violation."""

    points: int
    status: ViolationStatus
    recorded_at: datetime
    appeal_due_at: datetime


def counts_at(v: PointsState, at: datetime) -> bool:
    """Do the violation's points count at ``at``? Only when final (see the module's rules)."""
    if v.status in (ViolationStatus.final, ViolationStatus.dismissed):
        return True
    return v.status == ViolationStatus.appealable and ensure_aware(v.appeal_due_at) <= ensure_aware(at)


def may_appeal(v: PointsState, at: datetime) -> bool:
    return v.status == ViolationStatus.appealable and ensure_aware(at) < ensure_aware(v.appeal_due_at)


def counting_points(violations: Iterable[PointsState], at: datetime) -> int:
    """The points that count at ``at``, of violations recorded in the :data:`WINDOW_DAYS` days up to it."""
    start = ensure_aware(at) - timedelta(days=WINDOW_DAYS)
    return sum(
        v.points for v in violations if start < ensure_aware(v.recorded_at) <= ensure_aware(at) and counts_at(v, at)
    )


def sanction_for(points: int) -> Sanction:
    """The sanction the published thresholds give for ``points`` counting points."""
    if points >= BLACKLIST_POINTS:
        return Sanction.blacklist
    if points >= SUSPENSION_POINTS:
        return Sanction.suspension
    return Sanction.none
