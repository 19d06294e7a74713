"""Labels for coded values (roles, statuses, kinds) shown to people.

Packages register their own vocabularies; templates write ``{{ value|label("org_status") }}``.
Message ids are marked with :func:`N_` so that extraction finds them; the lookup translates.
"""

from __future__ import annotations

from market.i18n import gettext


def N_(message: str) -> str:
    return message


_vocabularies: dict[str, dict[str, str]] = {}


def register(vocabulary: str, labels: dict[str, str]) -> None:
    _vocabularies.setdefault(vocabulary, {}).update(labels)


def label(value: object, vocabulary: str) -> str:
    if value is None:
        return ""
    key = getattr(value, "value", value)
    msgid = _vocabularies.get(vocabulary, {}).get(str(key))
    return gettext(msgid) if msgid else str(key)


def choices(vocabulary: str) -> list[tuple[str, str]]:
    return [(key, gettext(msgid)) for key, msgid in _vocabularies.get(vocabulary, {}).items()]


register(
    "role",
    {
        "provider": N_("Intermediary firm"),
        "owner": N_("Project owner"),
        "admin": N_("Platform operator"),
        "finance": N_("Finance bureau"),
        "public": N_("Public"),
        "system": N_("System"),
    },
)
register(
    "org_kind",
    {
        "provider": N_("Intermediary firm"),
        "owner": N_("Project owner"),
        "operator": N_("Platform operator"),
        "finance": N_("Finance bureau"),
    },
)
register(
    "org_role",
    {
        "admin": N_("Administrator"),
        "approver": N_("Approver (负责人)"),
        "clerk": N_("Clerk (经办)"),
    },
)
register(
    "org_status",
    {
        "pending": N_("Pending review"),
        "approved": N_("Approved"),
        "rejected": N_("Rejected"),
        "suspended": N_("Suspended"),
        "blacklisted": N_("Blacklisted"),
    },
)
register(
    "owner_type",
    {
        "government": N_("Government department"),
        "public_institution": N_("Public institution"),
        "state_enterprise": N_("State-owned enterprise"),
        "enterprise": N_("Private enterprise"),
        "other": N_("Other"),
    },
)
