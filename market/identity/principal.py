"""The signed-in user as the web layer sees it (``request.user``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from market.actor import Actor
from market.identity.models import APPROVING_ROLES, OrgKind, OrgRole, OrgStatus, Role


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    username: str
    display_name: str
    org_id: uuid.UUID
    org_name: str
    org_kind: OrgKind
    org_status: OrgStatus
    role: Role
    token_id: uuid.UUID
    via_cookie: bool
    org_role: OrgRole = OrgRole.admin

    @property
    def may_approve(self) -> bool:
        """Publish, select, sign, pay, submit a bid: not a clerk (the pages hide what it cannot do)."""
        return self.org_role in APPROVING_ROLES

    @property
    def is_org_admin(self) -> bool:
        return self.org_role == OrgRole.admin

    @property
    def is_active_org(self) -> bool:
        return self.org_status == OrgStatus.approved

    def actor(self, ip: str | None = None) -> Actor:
        return Actor(
            user_id=self.user_id,
            org_id=self.org_id,
            role=self.role,
            username=self.username,
            ip=ip,
            org_role=self.org_role,
        )
