from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import EmailStr, Field

from market.schemas import Out, Schema


class LoginIn(Schema):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class OrgBrief(Out):
    id: uuid.UUID
    name: str
    kind: str
    status: str


class MeOut(Out):
    id: uuid.UUID
    username: str
    display_name: str
    role: str
    org_id: uuid.UUID
    org: OrgBrief
    org_role: str = "admin"  # within the organisation: admin | approver | clerk


class LoginOut(Out):
    token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int
    user: MeOut


class SessionOut(Out):
    id: uuid.UUID
    created_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None
    current: bool = False


class OrganizationOut(Out):
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
    created_at: datetime


class OrganizationCreate(Schema):
    """An operator creates an organisation directly (approved), with its first user."""

    kind: Literal["owner", "operator", "finance", "provider"]
    name: str = Field(min_length=2, max_length=200)
    uscc: str = Field(min_length=1, max_length=40)
    legal_rep: str = Field(min_length=1, max_length=60)
    address: str = Field(min_length=1, max_length=300)
    phone: str = Field(min_length=5, max_length=40)
    email: EmailStr
    org_type: str | None = None
    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=8, max_length=256)
    display_name: str | None = Field(default=None, max_length=100)


class Created(Out):
    id: uuid.UUID
    status: str


class UserOut(Out):
    id: uuid.UUID
    username: str
    display_name: str
    is_active: bool
    last_login_at: datetime | None
    org_role: str = "admin"
    email: str | None = None
    invited: bool = False  # the invitation is not accepted yet


class InviteIn(Schema):
    username: str = Field(min_length=2, max_length=64)
    email: str = Field(min_length=3, max_length=254)
    org_role: Literal["clerk", "approver"]
    display_name: str | None = Field(default=None, max_length=100)


class MemberPatch(Schema):
    org_role: Literal["clerk", "approver"] | None = None
    is_active: bool | None = None


class PasswordIn(Schema):
    password: str = Field(min_length=1, max_length=256)


class PasswordChangeIn(Schema):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class ForgotIn(Schema):
    email: str = Field(min_length=1, max_length=254)


class ForgotOut(Out):
    detail: str
