"""The signed-in user as the web layer sees it (``request.user``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from market.actor import Actor
from market.identity.models import OrgKind, OrgStatus, Role


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

    @property
    def is_active_org(self) -> bool:
        return self.org_status == OrgStatus.approved

    def actor(self, ip: str | None = None) -> Actor:
        return Actor(user_id=self.user_id, org_id=self.org_id, role=self.role, username=self.username, ip=ip)
