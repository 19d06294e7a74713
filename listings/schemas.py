"""Request and response schemas of the listings API (never table models)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from litestar.datastructures import UploadFile
from pydantic import EmailStr, Field

from market.schemas import Money, Out, Schema

FeeTypeLiteral = Literal["government_priced", "government_guided", "market_regulated"]
ItemStatusLiteral = Literal["retained", "cancelled", "adjusted"]
OwnerTypeLiteral = Literal["government", "public_institution", "state_enterprise", "enterprise", "other"]


# --- catalog -----------------------------------------------------------------------------------


class CatalogItemIn(Schema):
    code: str = Field(min_length=2, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    category: str = Field(min_length=1, max_length=60)
    approval: str = Field(min_length=1, max_length=300)
    department: str = Field(min_length=1, max_length=120)
    legal_basis: str = Field(min_length=1, max_length=4000)
    time_limit_days: int = Field(ge=1, le=365)
    fee_type: FeeTypeLiteral
    fee_standard: str = Field(min_length=1, max_length=4000)
    fee_cap: Money | None = None
    fee_basis: str = Field(default="", max_length=4000)
    qualification_required: str = Field(default="", max_length=4000)
    status: ItemStatusLiteral = "retained"
    effective_date: date
    in_services_catalog: bool = False
    note: str = Field(default="", max_length=500)


class CatalogItemPatch(Schema):
    """Only the fields sent change; ``version`` (the version you edited) detects a concurrent edit."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    category: str | None = Field(default=None, min_length=1, max_length=60)
    approval: str | None = Field(default=None, min_length=1, max_length=300)
    department: str | None = Field(default=None, min_length=1, max_length=120)
    legal_basis: str | None = Field(default=None, min_length=1, max_length=4000)
    time_limit_days: int | None = Field(default=None, ge=1, le=365)
    fee_type: FeeTypeLiteral | None = None
    fee_standard: str | None = Field(default=None, min_length=1, max_length=4000)
    fee_cap: Money | None = None
    fee_basis: str | None = Field(default=None, max_length=4000)
    qualification_required: str | None = Field(default=None, max_length=4000)
    status: ItemStatusLiteral | None = None
    effective_date: date | None = None
    in_services_catalog: bool | None = None
    version: int | None = Field(default=None, ge=1)
    note: str = Field(default="", max_length=500)


class CatalogItemOut(Out):
    id: uuid.UUID
    code: str
    name: str
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


class RegistrationIn(Schema):
    name: str = Field(min_length=2, max_length=200)
    uscc: str = Field(min_length=1, max_length=40)
    legal_rep: str = Field(min_length=1, max_length=60)
    address: str = Field(min_length=1, max_length=300)
    phone: str = Field(min_length=5, max_length=40)
    email: EmailStr
    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=8, max_length=256)
    display_name: str | None = Field(default=None, max_length=100)
    commitment_accepted: bool


class OwnerRegistrationIn(RegistrationIn):
    org_type: OwnerTypeLiteral


class RegisteredOut(Out):
    id: uuid.UUID
    status: str
    user_id: uuid.UUID


class ReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)


class SuspendIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)
    until: date


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


class ProfilePatch(Schema):
    name: str | None = Field(default=None, min_length=2, max_length=200)
    uscc: str | None = Field(default=None, min_length=1, max_length=40)
    legal_rep: str | None = Field(default=None, min_length=1, max_length=60)
    address: str | None = Field(default=None, min_length=1, max_length=300)
    phone: str | None = Field(default=None, min_length=5, max_length=40)
    email: EmailStr | None = None
    org_type: OwnerTypeLiteral | None = None


# --- qualifications, practitioners, files ------------------------------------------------------


class QualificationIn(Schema):
    catalog_codes: list[str] = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=120)
    grade: str = Field(default="", max_length=60)
    certificate_no: str = Field(min_length=1, max_length=80)
    issuer: str = Field(min_length=1, max_length=120)
    valid_until: date
    document_sha256: str | None = Field(default=None, min_length=64, max_length=64)


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
    name: str = Field(min_length=1, max_length=60)
    certificate: str = Field(default="", max_length=120)
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
