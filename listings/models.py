"""Tables of the listings package.

Constraints live in the database as well as in the services: value lists and positive amounts
are CHECK constraints, codes and certificate hashes are UNIQUE, every reference is a foreign key,
and the version history of catalog items is append-only (a trigger refuses UPDATE and DELETE).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from listings.violation_rules import MAX_POINTS, ViolationCategory, ViolationStatus
from market import clock
from market.db import StrEnumType, UTCDateTime, new_id, one_of
from market.money import MoneyType


class FeeType(StrEnum):
    government_priced = "government_priced"  # 政府定价
    government_guided = "government_guided"  # 政府指导价
    market_regulated = "market_regulated"  # 市场调节价


class ItemStatus(StrEnum):
    retained = "retained"  # 保留
    cancelled = "cancelled"  # 取消
    adjusted = "adjusted"  # 调整


class ReviewStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


ALLOWED_CONTENT_TYPES = ("application/pdf", "image/png", "image/jpeg")


_item_version = Column("version", Integer, nullable=False, server_default="1")


class CatalogItem(SQLModel, table=True):
    """One intermediary service item of the county's published list (current version)."""

    __tablename__ = "catalog_items"
    __table_args__ = (
        CheckConstraint(one_of("fee_type", FeeType), name="fee_type"),
        CheckConstraint(one_of("status", ItemStatus), name="status"),
        CheckConstraint("time_limit_days > 0", name="time_limit_positive"),
        CheckConstraint("fee_cap IS NULL OR fee_cap > 0", name="fee_cap_positive"),
        CheckConstraint("fee_type <> 'government_priced' OR fee_cap IS NOT NULL", name="priced_has_cap"),
        CheckConstraint("length(code) >= 2", name="code_length"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200, index=True)
    # the English name (optional): shown on English pages and found by the catalog search
    name_en: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    category: str = Field(max_length=60, index=True)
    approval: str = Field(max_length=300)  # the administrative approval the service serves
    department: str = Field(max_length=120)  # the approving department
    legal_basis: str = Field(sa_column=Column(Text, nullable=False))
    time_limit_days: int  # service time limit, working days
    fee_type: FeeType = Field(sa_type=StrEnumType(FeeType, 24))
    fee_standard: str = Field(sa_column=Column(Text, nullable=False))
    fee_cap: Decimal | None = Field(default=None, sa_type=MoneyType)
    fee_basis: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    qualification_required: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    status: ItemStatus = Field(default=ItemStatus.retained, sa_type=StrEnumType(ItemStatus, 16), index=True)
    effective_date: date
    in_services_catalog: bool = False  # also in the government purchase-of-services catalog
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    version: int = Field(default=1, sa_column=_item_version)

    # optimistic locking: an UPDATE that finds another version raises StaleDataError (409)
    __mapper_args__ = {"version_id_col": _item_version}

    @property
    def purchasable(self) -> bool:
        return self.status == ItemStatus.retained


class CatalogItemVersion(SQLModel, table=True):
    """Every version an item has had, the current one included, readable after later edits
    (append-only: a database trigger refuses UPDATE and DELETE)."""

    __tablename__ = "catalog_item_versions"
    __table_args__ = (UniqueConstraint("item_id", "version"), CheckConstraint("version >= 1", name="version"))

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    item_id: uuid.UUID = Field(foreign_key="catalog_items.id", index=True)
    version: int
    data: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON of every field
    changed_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    changed_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    note: str = Field(default="", max_length=500)


class StoredFile(SQLModel, table=True):
    """A file's content, stored once by its SHA-256 behind :mod:`listings.storage`."""

    __tablename__ = "stored_files"
    __table_args__ = (
        CheckConstraint(one_of("content_type", ALLOWED_CONTENT_TYPES), name="content_type"),
        CheckConstraint("size > 0", name="size_positive"),
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
    )

    sha256: str = Field(primary_key=True, min_length=64, max_length=64)
    size: int
    content_type: str = Field(max_length=60)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)


class FileUpload(SQLModel, table=True):
    """Who uploaded which content: the uploading organisation may read it back (and refer to it)."""

    __tablename__ = "file_uploads"
    __table_args__ = (Index("ix_file_uploads_sha256_org_id", "sha256", "org_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    sha256: str = Field(foreign_key="stored_files.sha256", max_length=64)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    filename: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)


class Qualification(SQLModel, table=True):
    """A provider's qualification certificate (资质), reviewed by the operator."""

    __tablename__ = "qualifications"
    __table_args__ = (
        CheckConstraint(one_of("status", ReviewStatus), name="status"),
        CheckConstraint("status <> 'rejected' OR review_reason IS NOT NULL", name="rejected_has_reason"),
        UniqueConstraint("provider_id", "certificate_no"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    provider_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    name: str = Field(max_length=120)  # qualification type, e.g. 测绘资质
    grade: str = Field(default="", max_length=60)  # e.g. 乙级
    certificate_no: str = Field(max_length=80)
    issuer: str = Field(max_length=120)
    valid_until: date
    document_sha256: str | None = Field(default=None, foreign_key="stored_files.sha256", max_length=64)
    status: ReviewStatus = Field(default=ReviewStatus.pending, sa_type=StrEnumType(ReviewStatus, 16), index=True)
    review_reason: str | None = Field(default=None, sa_column=Column(Text))
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reviewed_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)


class QualificationItem(SQLModel, table=True):
    """Which catalog items a qualification covers."""

    __tablename__ = "qualification_items"

    qualification_id: uuid.UUID = Field(foreign_key="qualifications.id", primary_key=True)
    item_id: uuid.UUID = Field(foreign_key="catalog_items.id", primary_key=True, index=True)


class Practitioner(SQLModel, table=True):
    """A provider's practitioner. The full ID number is never stored: only a mask and a keyed hash."""

    __tablename__ = "practitioners"
    __table_args__ = (
        UniqueConstraint("provider_id", "id_hash"),
        CheckConstraint("length(id_hash) = 64", name="id_hash_length"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    provider_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    name: str = Field(max_length=60)
    certificate: str = Field(default="", max_length=120)
    id_masked: str = Field(max_length=24)  # e.g. 530102********1234
    id_hash: str = Field(max_length=64, index=True)  # HMAC-SHA256(secret key, ID number)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)


class BusinessLicence(SQLModel, table=True):
    """A provider's business licence (营业执照), uploaded with its registration (and replaced by a
    rejected registrant before it resubmits). The newest row is the current licence."""

    __tablename__ = "business_licences"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    sha256: str = Field(foreign_key="stored_files.sha256", max_length=64)
    filename: str = Field(max_length=200)
    uploaded_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    uploaded_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)


class LinkedField(StrEnum):
    """The data by which the red flags link firms (a shared person or number)."""

    legal_rep = "legal_rep"
    phone = "phone"
    practitioner = "practitioner"  # the keyed hash of a practitioner's ID number


class FormerValue(SQLModel, table=True):
    """A value an organisation's linking data held and no longer holds: its legal representative,
    its phone number, a practitioner's keyed ID hash (append-only: a database trigger refuses
    UPDATE and DELETE). The red flags link firms on these as on the current values."""

    __tablename__ = "former_values"
    __table_args__ = (CheckConstraint(one_of("field", LinkedField), name="field"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    field: LinkedField = Field(sa_type=StrEnumType(LinkedField, 16))
    value: str = Field(max_length=200)  # the name, the phone number or the ID hash
    label: str = Field(max_length=200)  # what people see: the value, or a practitioner's name and masked ID
    replaced_by_value: str | None = Field(default=None, max_length=200)  # the new name or number
    held_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    ended_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    after_approval: bool = False  # the organisation had been approved when it changed


class RegistrationCounter(SQLModel, table=True):
    """Registrations accepted from one client address in one hour (the rate limit's counter;
    incremented in the registration's own transaction, so a refused one does not count)."""

    __tablename__ = "registration_counters"
    __table_args__ = (CheckConstraint("accepted >= 0", name="accepted_not_negative"),)

    client: str = Field(primary_key=True, max_length=64)
    window_start: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    accepted: int = 0


class Violation(SQLModel, table=True):
    """A violation the operator recorded against a firm (issue 13.2): its category from the
    published list, points, written reason and evidence. The record never changes (a database
    trigger keeps it); only its status moves: appealable → under_appeal → upheld | dismissed, or
    appealable → final when the appeal window closes (``listings.violation_rules``)."""

    __tablename__ = "violations"
    __table_args__ = (
        CheckConstraint(one_of("status", ViolationStatus), name="status"),
        CheckConstraint(one_of("category", ViolationCategory), name="category"),
        CheckConstraint(f"points >= 1 AND points <= {MAX_POINTS}", name="points_range"),
        CheckConstraint("length(reason) >= 5", name="reason_given"),
        CheckConstraint("appeal_due_at > recorded_at", name="appeal_window"),
        CheckConstraint("(evidence_sha256 IS NULL) = (evidence_filename IS NULL)", name="evidence_named"),
        CheckConstraint(
            "(status IN ('final', 'dismissed', 'upheld')) = (closed_at IS NOT NULL)", name="closed_when_decided"
        ),
        Index("ix_violations_provider_id_recorded_at", "provider_id", "recorded_at"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    provider_id: uuid.UUID = Field(foreign_key="organizations.id")
    category: ViolationCategory = Field(sa_type=StrEnumType(ViolationCategory, 32))
    points: int
    reason: str = Field(sa_column=Column(Text, nullable=False))
    evidence_sha256: str | None = Field(default=None, foreign_key="stored_files.sha256", max_length=64)
    evidence_filename: str | None = Field(default=None, max_length=200)
    recorded_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    recorded_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    appeal_due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    status: ViolationStatus = Field(
        default=ViolationStatus.appealable, sa_type=StrEnumType(ViolationStatus, 16), index=True
    )
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # when it became final or was decided


class ViolationAppeal(SQLModel, table=True):
    """The firm's one appeal against a violation (unique per violation), and the operator's written
    decision. The appeal's text never changes; the decision is written once (database triggers)."""

    __tablename__ = "violation_appeals"
    __table_args__ = (
        CheckConstraint("length(text) >= 5", name="text_given"),
        CheckConstraint(
            "(decided_at IS NULL) = (upheld IS NULL) AND (decided_at IS NULL) = (decision IS NULL)",
            name="decided_whole",
        ),
        CheckConstraint("decision IS NULL OR length(decision) >= 5", name="decision_given"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    violation_id: uuid.UUID = Field(foreign_key="violations.id", unique=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    filed_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    filed_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    upheld: bool | None = None
    decision: str | None = Field(default=None, sa_column=Column(Text))
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
