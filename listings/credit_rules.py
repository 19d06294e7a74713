"""The credit formula (issue 13.1): pure, no database; its weights and grade bounds are published.

A firm's score (0–100) is a *baseline* plus one signed effect per fact that counts, clamped to
0–100 and rounded to two decimals; each fact's effect is shown on the firm's page, so that the
score can be checked line by line.

* **Ratings** (owners rate a firm 1–5 after acceptance; a fact's value is that rating's average)
  are averaged with shrinkage toward the platform mean ``m`` (a Bayesian average): the firm's
  rating is ``B = (k·m + Σr) / (k + n)`` with ``k`` = :attr:`CreditPolicy.prior_ratings`
  imaginary ratings at the platform mean. The ratings are worth ``rating_points × (B − 1) / 4``;
  so the baseline is ``base_points + rating_points × (m − 1) / 4`` and each rating ``r`` adds
  ``rating_points / 4 × (r − m) / (k + n)`` (positive above the mean, negative below). One
  rating of a new firm thus moves its score ``k + 1`` times less than the unshrunk average would,
  and a firm's record leans on its own ratings more the more of them it has.
* **Every other fact** subtracts a fixed number of points (:attr:`CreditPolicy.penalties`), and a
  violation subtracts its points (the fact's value) times :attr:`CreditPolicy.violation_factor`.
* A fact counts from the moment it occurred until three years later (:func:`window_start`), and
  only while ``counts`` holds (a violation under appeal does not).

Grades: A from :attr:`CreditPolicy.grade_a`, B from ``grade_b``, C from ``grade_c``, D below.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class CreditFactKind(StrEnum):
    rating = "rating"  # an owner's rating after acceptance (value: its average, 1–5)
    delivery_late = "delivery_late"  # a service delivered after its due date
    delivery_returned = "delivery_returned"  # a delivery returned by the owner with reasons
    objection_upheld = "objection_upheld"  # an objection upheld against a selection the firm won
    refused_to_sign = "refused_to_sign"  # an award voided because the winner did not sign in time
    abnormally_low_unexplained = "abnormally_low_unexplained"  # an abnormally low bid not explained in time
    violation = "violation"  # the operator's violation points (value: the points)


class Grade(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


GRADES: tuple[Grade, ...] = (Grade.A, Grade.B, Grade.C, Grade.D)  # best first
YEARS_COUNTED = 3
RATING_MIN = Decimal(1)
RATING_MAX = Decimal(5)
SCORE_MIN = Decimal(0)
SCORE_MAX = Decimal(100)
HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True)
class CreditPolicy:
    """The published weights and grade bounds (shown on ``/credit/formula``)."""

    base_points: Decimal = Decimal(60)  # what a firm without any fact holds besides its ratings
    rating_points: Decimal = Decimal(40)  # what ratings are worth: a firm rated 5 holds all of it, rated 1 none
    prior_ratings: int = 5  # k: imaginary ratings at the platform mean that every firm starts with
    default_mean: Decimal = Decimal(4)  # the platform mean while the platform holds no rating
    penalties: dict[CreditFactKind, Decimal] = field(
        default_factory=lambda: {
            CreditFactKind.delivery_late: Decimal(5),
            CreditFactKind.delivery_returned: Decimal(3),
            CreditFactKind.objection_upheld: Decimal(10),
            CreditFactKind.refused_to_sign: Decimal(15),
            CreditFactKind.abnormally_low_unexplained: Decimal(5),
        }
    )
    violation_factor: Decimal = Decimal(1)  # points subtracted per violation point
    grade_a: Decimal = Decimal(85)
    grade_b: Decimal = Decimal(70)
    grade_c: Decimal = Decimal(55)


DEFAULT_POLICY = CreditPolicy()


def grade_of(score: Decimal, policy: CreditPolicy = DEFAULT_POLICY) -> Grade:
    if score >= policy.grade_a:
        return Grade.A
    if score >= policy.grade_b:
        return Grade.B
    if score >= policy.grade_c:
        return Grade.C
    return Grade.D


def grade_at_least(grade: str, minimum: str) -> bool:
    """Whether ``grade`` is ``minimum`` or better (A is the best)."""
    return GRADES.index(Grade(grade)) <= GRADES.index(Grade(minimum))


def grade_floor(grade: Grade, policy: CreditPolicy = DEFAULT_POLICY) -> Decimal:
    """The lowest score of ``grade``."""
    return {Grade.A: policy.grade_a, Grade.B: policy.grade_b, Grade.C: policy.grade_c, Grade.D: SCORE_MIN}[grade]


def years_later(moment: datetime, years: int) -> datetime:
    """The same moment ``years`` later (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def window_start(at: datetime) -> datetime:
    """Facts that occurred at or before this moment no longer count at ``at``."""
    return years_later(at, -YEARS_COUNTED)


def expires_at(occurred_at: datetime) -> datetime:
    """When a fact stops counting."""
    return years_later(occurred_at, YEARS_COUNTED)


def in_window(occurred_at: datetime, at: datetime) -> bool:
    return occurred_at <= at < expires_at(occurred_at)


@dataclass(frozen=True)
class FactIn:
    """What the formula needs of one fact."""

    kind: CreditFactKind
    occurred_at: datetime
    value: Decimal = Decimal(1)
    counts: bool = True


@dataclass(frozen=True)
class Computed:
    score: Decimal  # 0–100, two decimals
    grade: Grade
    baseline: Decimal  # base points + the ratings' worth at the platform mean
    mean: Decimal  # the platform mean used
    ratings: int  # how many ratings count
    rating_average: Decimal | None  # the firm's own average (unshrunk), None without ratings
    shrunk_average: Decimal  # B, the average with shrinkage toward the mean
    effects: tuple[Decimal | None, ...]  # per fact given, in order: its effect, or None when it does not count
    next_change_at: datetime | None  # when the next counting fact stops counting


def _q(value: Decimal) -> Decimal:
    return value.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def clamp_rating(value: Decimal) -> Decimal:
    return min(RATING_MAX, max(RATING_MIN, value))


def compute(
    facts: Sequence[FactIn],
    at: datetime,
    mean: Decimal | None,
    policy: CreditPolicy = DEFAULT_POLICY,
) -> Computed:
    """The firm's score at ``at`` from its facts and the platform's mean rating at that moment."""
    m = clamp_rating(policy.default_mean if mean is None else mean)
    counting = [f.counts and in_window(f.occurred_at, at) for f in facts]
    ratings = [clamp_rating(f.value) for f, c in zip(facts, counting, strict=True) if c and f.kind == "rating"]
    n = len(ratings)
    k = Decimal(policy.prior_ratings)
    per_point = policy.rating_points / (RATING_MAX - RATING_MIN)
    baseline = policy.base_points + per_point * (m - RATING_MIN)
    effects: list[Decimal | None] = []
    total = baseline
    for fact, counts in zip(facts, counting, strict=True):
        if not counts:
            effects.append(None)
            continue
        if fact.kind == CreditFactKind.rating:
            effect = per_point * (clamp_rating(fact.value) - m) / (k + n)
        elif fact.kind == CreditFactKind.violation:
            effect = -max(Decimal(0), fact.value) * policy.violation_factor
        else:
            effect = -policy.penalties.get(fact.kind, Decimal(0))
        total += effect
        effects.append(_q(effect))
    score = _q(min(SCORE_MAX, max(SCORE_MIN, total)))
    shrunk = (k * m + sum(ratings, Decimal(0))) / (k + n)
    ends = [expires_at(f.occurred_at) for f, c in zip(facts, counting, strict=True) if c]
    return Computed(
        score=score,
        grade=grade_of(score, policy),
        baseline=_q(baseline),
        mean=_q(m),
        ratings=n,
        rating_average=_q(sum(ratings, Decimal(0)) / n) if n else None,
        shrunk_average=_q(shrunk),
        effects=tuple(effects),
        next_change_at=min(ends) if ends else None,
    )


def platform_mean(values: Iterable[Decimal]) -> Decimal | None:
    """The mean of the counting ratings of every firm (None when there is none)."""
    items = [clamp_rating(v) for v in values]
    return _q(sum(items, Decimal(0)) / len(items)) if items else None
