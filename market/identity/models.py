from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, Index, Integer, LargeBinary, String, Text, event
from sqlmodel import Field, SQLModel

from market import clock
from market.collation import name_sort_key
from market.db import StrEnumType, UTCDateTime, new_id, one_of


class OrgKind(StrEnum):
    provider = "provider"  # 中介机构
    owner = "owner"  # 项目业主 / 采购人
    operator = "operator"  # 管理机构 (platform operator)
    finance = "finance"  # 财政局


class OrgStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    suspended = "suspended"
    blacklisted = "blacklisted"


class Role(StrEnum):
    provider = "provider"
    owner = "owner"
    admin = "admin"
    finance = "finance"


ROLE_OF_KIND: dict[OrgKind, Role] = {
    OrgKind.provider: Role.provider,
    OrgKind.owner: Role.owner,
    OrgKind.operator: Role.admin,
    OrgKind.finance: Role.finance,
}
KIND_OF_ROLE: dict[Role, OrgKind] = {role: kind for kind, role in ROLE_OF_KIND.items()}

OWNER_TYPES = ("government", "public_institution", "state_enterprise", "enterprise", "other")


_org_version = Column("version", Integer, nullable=False, server_default="1")


class Organization(SQLModel, table=True):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint(one_of("kind", [k.value for k in OrgKind]), name="kind"),
        CheckConstraint(one_of("status", [s.value for s in OrgStatus]), name="status"),
        CheckConstraint(f"org_type IS NULL OR {one_of('org_type', OWNER_TYPES)}", name="org_type"),
        CheckConstraint("length(uscc) = 18", name="uscc_length"),
        # the public directory (kind, status) in the order of a Chinese dictionary: a page is a walk
        # of this index, whatever the number of firms (listings.directory.page_in_pinyin_order)
        Index("ix_organizations_directory", "kind", "status", "name_key", "id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    kind: OrgKind = Field(sa_type=StrEnumType(OrgKind, 16), index=True)
    name: str = Field(max_length=200)
    # the name's place in the order of a Chinese dictionary (market.collation.name_sort_key), set
    # whenever the name is written (_keep_name_key below; bulk inserts set it themselves)
    name_key: bytes = Field(default=b"", sa_column=Column("name_key", LargeBinary, nullable=False))
    uscc: str = Field(max_length=18, unique=True)
    legal_rep: str = Field(max_length=60)
    address: str = Field(max_length=300)
    phone: str = Field(max_length=40)
    email: str = Field(max_length=254)
    org_type: str | None = Field(default=None, max_length=32)
    status: OrgStatus = Field(default=OrgStatus.pending, sa_type=StrEnumType(OrgStatus, 16), index=True)
    status_reason: str | None = Field(default=None, sa_column=Column(Text))
    suspended_until: date | None = None
    commitment_accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(
        default_factory=clock.now, sa_type=UTCDateTime, nullable=False, sa_column_kwargs={"onupdate": clock.now}
    )
    version: int = Field(default=1, sa_column=_org_version)

    # optimistic locking: an UPDATE that finds another version raises StaleDataError (409)
    __mapper_args__ = {"version_id_col": _org_version}

    @property
    def role(self) -> Role:
        return ROLE_OF_KIND[OrgKind(self.kind)]


@event.listens_for(Organization, "before_insert")
@event.listens_for(Organization, "before_update")
def _keep_name_key(_mapper: Any, _connection: Any, org: Organization) -> None:
    """Every ORM write of an organisation stores its name's sort key with it."""
    key = name_sort_key(org.name)
    if org.name_key != key:
        org.name_key = key


class OrgRole(StrEnum):
    """A user's role within its organisation: the administrator (its first user) manages the
    users and is an approver; an approver (负责人) publishes, selects, signs and pays; a clerk
    (经办) prepares."""

    admin = "admin"
    approver = "approver"
    clerk = "clerk"


APPROVING_ROLES = (OrgRole.admin, OrgRole.approver)


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(one_of("org_role", [r.value for r in OrgRole]), name="org_role"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    username: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    display_name: str = Field(max_length=100)
    password_hash: str = Field(max_length=255)  # "" while an invitation is not accepted
    is_active: bool = True
    org_role: OrgRole = Field(
        default=OrgRole.admin,
        sa_column=Column("org_role", StrEnumType(OrgRole, 16), nullable=False, server_default="admin"),
    )
    email: str | None = Field(default=None, max_length=254, index=True)  # lower-cased; where reset links go
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuthToken(SQLModel, table=True):
    """A login session. Only the SHA-256 of the bearer token is stored; revoking sets revoked_at."""

    __tablename__ = "auth_tokens"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)


class LoginAttempt(SQLModel, table=True):
    """Failed and successful logins, counted for rate limiting."""

    __tablename__ = "login_attempts"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    username: str = Field(max_length=64, index=True)
    ip: str | None = Field(default=None, max_length=64, index=True)
    at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False, index=True)
    success: bool = False


class AccountLinkKind(StrEnum):
    invitation = "invitation"
    reset = "reset"


class AccountLink(SQLModel, table=True):
    """A one-time link e-mailed to a user: an invitation (set your password) or a password reset.
    Only the SHA-256 of the token is stored; a link is used once (used_at) and expires."""

    __tablename__ = "account_links"
    __table_args__ = (CheckConstraint(one_of("kind", [k.value for k in AccountLinkKind]), name="kind"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    kind: AccountLinkKind = Field(sa_type=StrEnumType(AccountLinkKind, 16))
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ForgotAttempt(SQLModel, table=True):
    """Password-reset requests, counted per address (the e-mail address asked for and the client's)
    to throttle them."""

    __tablename__ = "forgot_attempts"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    email: str = Field(max_length=254, index=True)
    ip: str | None = Field(default=None, max_length=64)
    at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False, index=True)
