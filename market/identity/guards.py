"""Guards: small functions Litestar runs before a handler. They see only the principal that the
middleware put on the connection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from market.errors import NotAuthenticated, PermissionDenied
from market.i18n import gettext as _
from market.identity.principal import Principal

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise NotAuthenticated(_("Please sign in."), _("This needs a signed-in account."))
    return user


def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    principal_of(connection)


def requires_role(*roles: str) -> Guard:
    """Only these roles; and the organisation must be approved (a pending, rejected, suspended
    or blacklisted organisation can do nothing beyond its own profile)."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        user = principal_of(connection)
        if user.role not in roles:
            raise PermissionDenied(_("Your role may not do this."))
        if not user.is_active_org:
            raise PermissionDenied(
                _("Your organisation is not approved for this."),
                _("Its status is %(status)s. Open your profile to see why.", status=user.org_status),
            )

    guard.__name__ = f"requires_{'_or_'.join(roles)}"
    return guard


admin_only = requires_role("admin")
oversight = requires_role("admin", "finance")
