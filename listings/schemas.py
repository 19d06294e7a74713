"""Request and response schemas of the listings package (never table models).

A request schema is the one input path of its capability: the JSON API validates its body with
it and the page form that mirrors the route parses into it (``market.web.forms.parse``), so both
accept and refuse the same input with the same field errors. Its bounds are the services' own
(``catalog.TEXT_LIMITS``, ``organizations.TEXT_BOUNDS``, …), which the services enforce again.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from litestar.datastructures import UploadFile
from pydantic import AfterValidator, EmailStr, Field

from listings.catalog import CODE_LENGTH, EDITABLE, MAX_NOTE, MAX_TIME_LIMIT_DAYS, TEXT_LIMITS, CatalogInput
from listings.organizations import MAX_REASON, PROFILE_FIELDS, TEXT_BOUNDS, Licence, Registration
from listings.qualifications import MAX_CODES, PRACTITIONER_LIMITS, QUALIFICATION_LIMITS, QualificationInput
from listings.violation_rules import MAX_POINTS as VIOLATION_MAX_POINTS
from listings.violation_rules import MAX_REASON as VIOLATION_MAX_TEXT
from listings.violation_rules import MIN_REASON as VIOLATION_MIN_TEXT
from listings.violation_rules import ViolationCategory
from market.i18n import gettext as _
from market.identity.models import OrgKind
from market.schemas import Money, Out, Schema

FeeTypeLiteral = Literal["government_priced", "government_guided", "market_regulated"]
ItemStatusLiteral = Literal["retained", "cancelled", "adjusted"]
OwnerTypeLiteral = Literal["government", "public_institution", "state_enterprise", "enterprise", "other"]


# --- catalog -----------------------------------------------------------------------------------


class CatalogItemIn(Schema):
    code: str = Field(min_length=CODE_LENGTH[0], max_length=CODE_LENGTH[1])
    name: str = Field(min_length=1, max_length=TEXT_LIMITS["name"])
    name_en: str = Field(default="", max_length=TEXT_LIMITS["name_en"])
    category: str = Field(min_length=1, max_length=TEXT_LIMITS["category"])
    approval: str = Field(min_length=1, max_length=TEXT_LIMITS["approval"])
    department: str = Field(min_length=1, max_length=TEXT_LIMITS["department"])
    legal_basis: str = Field(min_length=1, max_length=TEXT_LIMITS["legal_basis"])
    time_limit_days: int = Field(ge=1, le=MAX_TIME_LIMIT_DAYS)
    fee_type: FeeTypeLiteral
    fee_standard: str = Field(min_length=1, max_length=TEXT_LIMITS["fee_standard"])
    fee_cap: Money | None = None
    fee_basis: str = Field(default="", max_length=TEXT_LIMITS["fee_basis"])
    qualification_required: str = Field(default="", max_length=TEXT_LIMITS["qualification_required"])
    status: ItemStatusLiteral = "retained"
    effective_date: date
    in_services_catalog: bool = False
    note: str = Field(default="", max_length=MAX_NOTE)

    def as_input(self) -> CatalogInput:
        return CatalogInput(**self.model_dump(exclude={"note"}))


class CatalogItemPatch(Schema):
    """Only the fields sent change (``null`` clears the fee cap, basis and qualification text);
    ``version`` (the version you edited) detects a concurrent edit."""

    name: str | None = Field(default=None, min_length=1, max_length=TEXT_LIMITS["name"])
    name_en: str | None = Field(default=None, max_length=TEXT_LIMITS["name_en"])
    category: str | None = Field(default=None, min_length=1, max_length=TEXT_LIMITS["category"])
    approval: str | None = Field(default=None, min_length=1, max_length=TEXT_LIMITS["approval"])
    department: str | None = Field(default=None, min_length=1, max_length=TEXT_LIMITS["department"])
    legal_basis: str | None = Field(default=None, min_length=1, max_length=TEXT_LIMITS["legal_basis"])
    time_limit_days: int | None = Field(default=None, ge=1, le=MAX_TIME_LIMIT_DAYS)
    fee_type: FeeTypeLiteral | None = None
    fee_standard: str | None = Field(default=None, min_length=1, max_length=TEXT_LIMITS["fee_standard"])
    fee_cap: Money | None = None
    fee_basis: str | None = Field(default=None, max_length=TEXT_LIMITS["fee_basis"])
    qualification_required: str | None = Field(default=None, max_length=TEXT_LIMITS["qualification_required"])
    status: ItemStatusLiteral | None = None
    effective_date: date | None = None
    in_services_catalog: bool | None = None
    version: int | None = Field(default=None, ge=1)
    note: str = Field(default="", max_length=MAX_NOTE)

    def changes(self, fields: set[str]) -> dict[str, Any]:
        """The item's fields among ``fields`` with their new values (``None``: cleared)."""
        return {name: getattr(self, name) for name in EDITABLE if name in fields}


class CatalogItemOut(Out):
    id: uuid.UUID
    code: str
    name: str
    name_en: str
    category: str
    approval: str
    department: str
    legal_basis: str
    time_limit_days: int
    fee_type: str
    fee_standard: str
    fee_cap: Money | None
    fee_basis: str
    qualification_required: str
    status: str
    effective_date: date
    in_services_catalog: bool
    purchasable: bool
    version: int
    updated_at: datetime


class CatalogVersionOut(Out):
    version: int
    changed_at: datetime
    changed_by: uuid.UUID | None
    note: str
    data: dict[str, Any]


class ImportOut(Out):
    created: int
    updated: int
    unchanged: int
    sha256: str


# --- registration and review -------------------------------------------------------------------


def _text(name: str) -> Any:
    """The field of an organisation's text ``name`` with the bounds the service enforces."""
    shortest, longest = TEXT_BOUNDS[name]
    return Field(min_length=shortest, max_length=longest)


def _optional_text(name: str) -> Any:
    shortest, longest = TEXT_BOUNDS[name]
    return Field(default=None, min_length=shortest, max_length=longest)


class RegistrationIn(Schema):
    name: str = _text("name")
    uscc: str = _text("uscc")
    legal_rep: str = _text("legal_rep")
    address: str = _text("address")
    phone: str = _text("phone")
    email: EmailStr = Field(max_length=TEXT_BOUNDS["email"][1])
    username: str = _text("username")
    password: str = Field(min_length=8, max_length=256)
    display_name: str | None = Field(default=None, max_length=TEXT_BOUNDS["display_name"][1])
    commitment_accepted: bool

    def registration(self, kind: OrgKind, licence: Licence | None = None) -> Registration:
        return Registration(kind=kind, licence=licence, **self.model_dump())

    @staticmethod
    def unchecked(kind: OrgKind, values: Mapping[str, Any], licence: Licence | None = None) -> Registration:
        """The registration as sent, when this schema refused it: the service checks it again, so
        that its own problems (a credit code already registered, a username taken) are named
        together with the schema's."""

        def text(name: str) -> str:
            value = values.get(name)
            return value if isinstance(value, str) else ""

        accepted = values.get("commitment_accepted")
        return Registration(
            kind=kind,
            name=text("name"),
            uscc=text("uscc"),
            legal_rep=text("legal_rep"),
            address=text("address"),
            phone=text("phone"),
            email=text("email"),
            username=text("username"),
            password=text("password"),
            commitment_accepted=accepted is True or accepted in ("1", "true", "on"),
            org_type=text("org_type") or None,
            display_name=text("display_name") or None,
            licence=licence,
        )


class OwnerRegistrationIn(RegistrationIn):
    org_type: OwnerTypeLiteral


class RegisteredOut(Out):
    id: uuid.UUID
    status: str
    user_id: uuid.UUID


def _given_to_organisation(reason: str) -> str:
    if not reason:
        raise ValueError(_("Give the reason; the organisation will see it."))
    return reason


def _given_to_provider(reason: str) -> str:
    if not reason:
        raise ValueError(_("Give the reason; the provider will see it."))
    return reason


# a decision's reason: required, with the message the service gives too
OrgReason = Annotated[str, Field(max_length=MAX_REASON), AfterValidator(_given_to_organisation)]
ProviderReason = Annotated[str, Field(max_length=MAX_REASON), AfterValidator(_given_to_provider)]


class ReasonIn(Schema):
    """The reason of a decision about an organisation (rejection, blacklisting, reinstatement)."""

    reason: OrgReason


class SuspendIn(Schema):
    reason: OrgReason
    until: date


class QualificationRejectIn(Schema):
    reason: ProviderReason


class DecisionOut(Out):
    id: uuid.UUID
    status: str
    status_reason: str | None
    suspended_until: date | None


class ProfileOut(Out):
    id: uuid.UUID
    kind: str
    name: str
    uscc: str
    legal_rep: str
    address: str
    phone: str
    email: str
    org_type: str | None
    status: str
    status_reason: str | None
    suspended_until: date | None
    commitment_accepted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    business_licence_sha256: str | None = None  # a provider's current business licence (营业执照)


class ProfilePatch(Schema):
    name: str | None = _optional_text("name")
    uscc: str | None = _optional_text("uscc")
    legal_rep: str | None = _optional_text("legal_rep")
    address: str | None = _optional_text("address")
    phone: str | None = _optional_text("phone")
    email: EmailStr | None = Field(default=None, max_length=TEXT_BOUNDS["email"][1])
    org_type: OwnerTypeLiteral | None = None
    # a provider not approved yet replaces its business licence (a file it uploaded)
    business_licence_sha256: str | None = Field(default=None, min_length=64, max_length=64)

    def changes(self, fields: set[str]) -> dict[str, Any]:
        """The profile's fields among ``fields`` with their new values (``None``: emptied)."""
        return {name: getattr(self, name) for name in PROFILE_FIELDS if name in fields}


# --- qualifications, practitioners, files ------------------------------------------------------


def _some_codes(codes: list[str]) -> list[str]:
    if not [c for c in codes if c]:
        raise ValueError(_("Choose the catalog items this qualification covers."))
    if len(codes) > MAX_CODES:
        raise ValueError(_("At most %(n)d catalog items.", n=MAX_CODES))
    return codes


class QualificationIn(Schema):
    catalog_codes: Annotated[list[str], AfterValidator(_some_codes)]
    name: str = Field(min_length=1, max_length=QUALIFICATION_LIMITS["name"])
    grade: str = Field(default="", max_length=QUALIFICATION_LIMITS["grade"])
    certificate_no: str = Field(min_length=1, max_length=QUALIFICATION_LIMITS["certificate_no"])
    issuer: str = Field(min_length=1, max_length=QUALIFICATION_LIMITS["issuer"])
    valid_until: date
    document_sha256: str | None = Field(default=None, min_length=64, max_length=64)

    def as_input(self) -> QualificationInput:
        return QualificationInput(**self.model_dump())


class CoveredItemOut(Out):
    code: str
    name: str


class QualificationOut(Out):
    id: uuid.UUID
    provider_id: uuid.UUID
    name: str
    grade: str
    certificate_no: str
    issuer: str
    valid_until: date
    status: str
    review_reason: str | None
    document_sha256: str | None
    catalog_items: list[CoveredItemOut]
    updated_at: datetime


class PractitionerIn(Schema):
    name: str = Field(min_length=1, max_length=PRACTITIONER_LIMITS["name"])
    certificate: str = Field(default="", max_length=PRACTITIONER_LIMITS["certificate"])
    id_number: str = Field(min_length=15, max_length=24)


class PractitionerOut(Out):
    id: uuid.UUID
    name: str
    certificate: str
    id_masked: str


class FileOut(Out):
    sha256: str
    size: int
    content_type: str
    filename: str


@dataclass
class FileUploadForm:
    file: UploadFile


# --- directory ---------------------------------------------------------------------------------


class PublicQualificationOut(Out):
    name: str
    grade: str
    certificate_no: str
    issuer: str
    valid_until: date
    catalog_items: list[CoveredItemOut]


class RatingOut(Out):
    count: int
    average: Decimal | None
    aspects: dict[str, Decimal]


class ProviderOut(Out):
    id: uuid.UUID
    name: str
    uscc: str
    address: str
    phone: str
    email: str
    catalog_items: list[CoveredItemOut]
    qualifications: list[PublicQualificationOut]
    practitioners: int
    rating: RatingOut | None = None


class PublicPractitionerOut(Out):
    name: str
    certificate: str


class ProviderDetailOut(ProviderOut):
    legal_rep: str
    practitioner_list: list[PublicPractitionerOut]


# --- violations, appeals and the credit lists (issue 13.2, 13.6) --------------------------------

ViolationText = Annotated[str, Field(min_length=VIOLATION_MIN_TEXT, max_length=VIOLATION_MAX_TEXT)]


class ViolationIn(Schema):
    """A violation the operator records: the category from the published list, the points (the
    category's default when left out), the written reason and, optionally, the evidence (a file the
    operator uploaded with ``POST /api/v1/files``)."""

    category: ViolationCategory
    points: int | None = Field(default=None, ge=1, le=VIOLATION_MAX_POINTS)
    reason: ViolationText
    evidence_sha256: str | None = Field(default=None, max_length=64)


class AppealIn(Schema):
    """The firm's one written appeal."""

    text: ViolationText


class AppealDecisionIn(Schema):
    """The operator's written decision: upheld (the points are removed) or dismissed (they count)."""

    upheld: bool
    decision: ViolationText


class AppealOut(Out):
    id: uuid.UUID
    text: str
    filed_at: datetime
    upheld: bool | None
    decision: str | None
    decided_at: datetime | None


class ViolationOut(Out):
    id: uuid.UUID
    provider_id: uuid.UUID
    category: str
    category_label: str
    points: int
    counts: bool  # do its points count now (final, or the appeal dismissed)
    reason: str
    evidence_filename: str | None
    evidence_url: str | None  # for the firm, the operator and finance only
    recorded_at: datetime
    appeal_due_at: datetime
    status: str
    status_label: str
    closed_at: datetime | None
    appeal: AppealOut | None


class SanctionPeriodOut(Out):
    kind: str  # suspended | blacklisted
    reason: str
    start: datetime
    until: date | None  # a suspension's last day (inclusive); none for a blacklisting (until lifted)
    ended_at: datetime | None
    automatic: bool  # applied by the published thresholds


class ViolationsOut(Out):
    items: list[ViolationOut]
    total: int
    limit: int
    offset: int
    counting_points: int  # violation points that count now (recorded in the last 12 months)
    status: str  # the firm's status now: approved, suspended, blacklisted
    sanctions: list[SanctionPeriodOut]  # every suspension and blacklisting, newest first, with its period


class ListedFirmOut(Out):
    provider_id: uuid.UUID
    name: str
    uscc: str
    status: str
    points: int
    period: SanctionPeriodOut | None
    grade: str | None = None
    score: Decimal | None = None


class CategoryOut(Out):
    code: str
    label: str
    default_points: int


class CreditRulesOut(Out):
    appeal_working_days: int
    window_days: int
    suspension_points: int
    suspension_days: int
    blacklist_points: int
    max_points: int
    categories: list[CategoryOut]


class CreditListsOut(Out):
    red: list[ListedFirmOut]
    black: list[ListedFirmOut]
    red_definition: str
    black_definition: str
    rules: CreditRulesOut


# --- credit (listings.credit) -------------------------------------------------------------------


class CreditFactOut(Out):
    id: uuid.UUID
    kind: str
    kind_label: str
    occurred_at: datetime
    value: str = Field(description="a rating's average (1–5), violation points, 1 otherwise")
    effect: str | None = Field(description="points the fact adds to the score (negative: takes); null: not counted")
    counts: bool = Field(description="false: under appeal, annulled, or three years old")
    expires_at: datetime = Field(description="when the fact stops counting (three years after it occurred)")
    link: str = Field(description="the page that shows the fact")
    note: str


class ProviderCreditOut(Out):
    provider_id: uuid.UUID
    provider_name: str
    at: datetime
    score: str = Field(description="0–100, two decimals")
    grade: Literal["A", "B", "C", "D"]
    baseline: str = Field(description="base points plus the ratings' worth at the platform mean")
    platform_mean: str = Field(description="the mean rating of every firm, toward which ratings are shrunk")
    ratings: int
    rating_average: str | None = Field(description="the firm's own average rating, unshrunk")
    shrunk_average: str = Field(description="the average with shrinkage toward the platform mean")
    facts: list[CreditFactOut] = Field(description="every fact of the last three years, newest first")
    next_change_at: datetime | None
    formula: str = Field(description="the page of the published formula")


class CreditPenaltyOut(Out):
    kind: str
    kind_label: str
    points: str


class CreditGradeBoundOut(Out):
    grade: str
    from_score: str


class CreditFormulaOut(Out):
    base_points: str
    rating_points: str
    prior_ratings: int
    default_mean: str
    platform_mean: str | None
    violation_factor: str
    years_counted: int
    penalties: list[CreditPenaltyOut]
    grades: list[CreditGradeBoundOut]
