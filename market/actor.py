"""Who is acting: passed explicitly into every service that changes state, recorded in the audit log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from market.errors import PermissionDenied
from market.i18n import gettext as _


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None
    org_id: uuid.UUID | None
    role: str  # provider | owner | admin | finance | public | system
    username: str = ""
    ip: str | None = None
    org_role: str = ""  # the user's role in its organisation: admin | approver | clerk ("" unknown)

    @property
    def may_approve(self) -> bool:
        """Whether the actor may commit its organisation (publish, select, sign, pay, submit a bid):
        everyone but a clerk (经办) of an owner or a firm."""
        return self.org_role != "clerk"

    @property
    def is_system(self) -> bool:
        return self.role == "system"


def require_approver(actor: Actor) -> None:
    """Refuse (403) a clerk: only an approver (负责人) or the administrator commits the organisation."""
    if not actor.may_approve:
        raise PermissionDenied(
            _("Only an approver of your organisation may do this."),
            _("A clerk prepares; ask an approver (or your organisation's administrator) to do this."),
        )


SYSTEM = Actor(user_id=None, org_id=None, role="system", username="system")
PUBLIC = Actor(user_id=None, org_id=None, role="public", username="")
