"""Domain errors. Services raise these; the web layer maps each to one HTTP status and an
RFC 9457 problem-details answer (``market.web.problems``). Services never speak HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    """Base of every error a service raises on purpose. ``title`` is shown to people."""

    kind = "error"

    def __init__(
        self,
        title: str,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.title = title
        self.detail = detail or title
        self.errors = list(errors or [])
        self.extra = dict(extra or {})


class InvalidInput(DomainError):
    """The input breaks a field rule (422); ``errors`` names the fields."""

    kind = "invalid-input"

    @classmethod
    def field(cls, field: str, message: str, title: str | None = None) -> InvalidInput:
        from market.i18n import gettext as _

        return cls(title or _("The input is not valid."), message, errors=[FieldError(field, message)])


class RuleViolation(DomainError):
    """The request is well-formed but a business rule forbids it now (422)."""

    kind = "rule-violation"


class NotFound(DomainError):
    kind = "not-found"


class NotAuthenticated(DomainError):
    kind = "not-authenticated"


class PermissionDenied(DomainError):
    kind = "permission-denied"


class Conflict(DomainError):
    """Duplicate or concurrently changed data (409)."""

    kind = "conflict"


class PayloadTooLarge(DomainError):
    """The upload or request body is larger than the limit (413)."""

    kind = "payload-too-large"


class UnsupportedMedia(DomainError):
    """The content is of a kind this endpoint does not accept (415)."""

    kind = "unsupported-media-type"


class TooManyRequests(DomainError):
    kind = "too-many-requests"

    def __init__(self, title: str, detail: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(title, detail, extra={"retry_after": retry_after})
        self.retry_after = retry_after
