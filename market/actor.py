"""Who is acting: passed explicitly into every service that changes state, recorded in the audit log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None
    org_id: uuid.UUID | None
    role: str  # provider | owner | admin | finance | public | system
    username: str = ""
    ip: str | None = None

    @property
    def is_system(self) -> bool:
        return self.role == "system"


SYSTEM = Actor(user_id=None, org_id=None, role="system", username="system")
PUBLIC = Actor(user_id=None, org_id=None, role="public", username="")
