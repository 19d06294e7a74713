"""The one exception mapper: every error becomes an RFC 9457 problem-details answer for the API,
or an error page (or the login page) for people. Nothing leaks a stack trace."""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect, Template
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from market.errors import (
    Conflict,
    DomainError,
    FieldError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RuleViolation,
    TooManyRequests,
    UnsupportedMedia,
)
from market.i18n import gettext as _

log = logging.getLogger("market.errors")

PROBLEM_JSON = "application/problem+json"

STATUS_OF: dict[type[DomainError], int] = {
    InvalidInput: 422,
    RuleViolation: 422,
    NotFound: 404,
    NotAuthenticated: 401,
    PermissionDenied: 403,
    Conflict: 409,
    TooManyRequests: 429,
    PayloadTooLarge: 413,
    UnsupportedMedia: 415,
}


class FormInvalid(Exception):
    """Raised by page handlers to re-render a form with its errors (and roll back the request)."""

    def __init__(self, template: str, context: dict[str, Any], error: DomainError, status: int | None = None) -> None:
        super().__init__(error.detail)
        self.template = template
        self.context = context
        self.error = error
        self.status = status or status_of(error)


def status_of(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 400


def wants_json(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path.startswith("/schema") or path == "/healthz":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def problem(
    request: Request[Any, Any, Any],
    status: int,
    title: str,
    detail: str | None = None,
    *,
    kind: str = "about:blank",
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    if wants_json(request):
        body: dict[str, Any] = {
            "type": kind if kind == "about:blank" else f"/problems/{kind}",
            "title": title,
            "status": status,
            "detail": detail or title,
            "instance": request.url.path,
        }
        if errors:
            body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
        return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)
    if status == 401:
        return Redirect(path=f"/login?next={quote(request.url.path)}")
    return Template(
        template_name="error.html",
        context={"status": status, "title": title, "detail": detail, "errors": errors or []},
        status_code=status,
        headers=headers,
        media_type=MediaType.HTML,
    )


def problem_of(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    """The answer to a :class:`DomainError`: raised (the exception handler) or answered by a
    handler that must commit what it did before refusing (a failed sign-in is counted)."""
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    return problem(request, status_of(exc), exc.title, exc.detail, kind=exc.kind, errors=exc.errors, headers=headers)


def _form_invalid(request: Request[Any, Any, Any], exc: FormInvalid) -> Response[Any]:
    context = {**exc.context, "error": exc.error, "field_errors": {e.field: e.message for e in exc.error.errors}}
    headers = {"Retry-After": str(exc.error.retry_after)} if isinstance(exc.error, TooManyRequests) else None
    return Template(
        template_name=exc.template, context=context, status_code=exc.status, media_type=MediaType.HTML, headers=headers
    )


def _field_of(key: str | None) -> str:
    if not key or key == "data":
        return "body"
    return key


def _choices(listed: str) -> str:
    """pydantic's list of allowed values ("'A', 'B' or 'C'") with its last "or" in the request's language."""
    head, sep, last = listed.rpartition("' or '")
    if not sep:
        return listed
    word = _(" or ")
    return f"{head}'{word}'{last}"


# pydantic's messages, in the request's language
_PYDANTIC_MESSAGES: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^Field required$"), lambda m: _("This field is required.")),
    (re.compile(r"^Extra inputs are not permitted$"), lambda m: _("This field is not accepted here.")),
    (
        re.compile(r"^String should have at least (\d+) characters?$"),
        # at least one character: the field is simply required
        lambda m: _("This field is required.") if m.group(1) == "1" else _("At least %(n)s characters.", n=m.group(1)),
    ),
    (
        re.compile(r"^String should have at most (\d+) characters?$"),
        lambda m: _("At most %(n)s characters.", n=m.group(1)),
    ),
    (re.compile(r"^Input should be greater than or equal to (.+)$"), lambda m: _("At least %(n)s.", n=m.group(1))),
    (re.compile(r"^Input should be greater than (.+)$"), lambda m: _("More than %(n)s.", n=m.group(1))),
    (re.compile(r"^Input should be less than or equal to (.+)$"), lambda m: _("At most %(n)s.", n=m.group(1))),
    (re.compile(r"^Input should be less than (.+)$"), lambda m: _("Less than %(n)s.", n=m.group(1))),
    (re.compile(r"^Input should be a valid (string|dictionary|list)"), lambda m: _("The value has the wrong type.")),
    (re.compile(r"^Input should be a valid (integer|number|decimal)"), lambda m: _("Enter a number.")),
    (re.compile(r"^Input should be a valid (date|datetime)"), lambda m: _("Enter a date such as 2026-12-31.")),
    (re.compile(r"^Input should be a valid boolean"), lambda m: _("Enter true or false.")),
    (re.compile(r"^Input should be a valid UUID"), lambda m: _("This is not a valid identifier.")),
    (re.compile(r"^Input should be (.+)$"), lambda m: _("Choose one of: %(choices)s.", choices=_choices(m.group(1)))),
    (re.compile(r"^value is not a valid email address"), lambda m: _("This is not a valid e-mail address.")),
    (re.compile(r"^Value error, (.+)$"), lambda m: m.group(1)),
    # msgspec's, for query and path parameters
    (re.compile(r"^Expected `\w+` <= (\S+)"), lambda m: _("At most %(n)s.", n=m.group(1))),
    (re.compile(r"^Expected `\w+` >= (\S+)"), lambda m: _("At least %(n)s.", n=m.group(1))),
    (re.compile(r"^Number out of range"), lambda m: _("A number in the body is out of range.")),
]


def _translate(message: str) -> str:
    for pattern, render in _PYDANTIC_MESSAGES:
        match = pattern.match(message)
        if match:
            return str(render(match))
    return message


def field_error(key: str | None, message: str) -> FieldError:
    """A pydantic error as the API and the pages show it: the dotted field name, the message in
    the request's language."""
    return FieldError(_field_of(key), _translate(message))


def field_errors_of(exc: ValidationError) -> list[FieldError]:
    """Every error of a pydantic validation, named and worded as the API names and words them."""
    return [field_error(".".join(str(part) for part in e["loc"]), e["msg"]) for e in exc.errors()]


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    errors = [field_error(item.get("key"), str(item.get("message", ""))) for item in extra if isinstance(item, dict)]
    detail = str(exc.detail or "")
    if not errors:
        # the body could not be decoded at all (malformed JSON, wrong content type)
        return problem(
            request,
            400,
            _("The request body could not be read."),
            detail,
            kind="malformed-request",
            errors=[FieldError("body", detail)],
        )
    return problem(
        request,
        422,
        _("The input is not valid."),
        _("Correct the fields named below."),
        kind="invalid-input",
        errors=errors,
    )


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    titles = {
        400: _("The request could not be understood."),
        401: _("Please sign in."),
        403: _("You are not allowed to do this."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        413: _("The request is too large."),
        415: _("This content type is not supported here."),
        429: _("Too many requests. Try again later."),
    }
    title = titles.get(status, _("The request failed."))
    detail = exc.detail if status < 500 and exc.detail else title
    errors = None
    if status == 400 and exc.detail:
        detail = _translate(str(exc.detail))
        errors = [FieldError("body", detail)]
    if status >= 500:
        log.error("HTTP %s on %s: %s", status, request.url.path, exc.detail)
    return problem(request, status, title, detail, errors=errors, headers=getattr(exc, "headers", None))


_UNIQUE_RE = re.compile(r"(?:UNIQUE constraint failed: [\w]+\.(\w+))|(?:uq_\w+?_(\w+)\")|(?:Key \((\w+)\))")


def _integrity(request: Request[Any, Any, Any], exc: IntegrityError) -> Response[Any]:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    match = _UNIQUE_RE.search(text)
    field = next((g for g in match.groups() if g), None) if match else None
    log.info("integrity error on %s: %s", request.url.path, text.splitlines()[0] if text else "")
    errors = [FieldError(field, _("Conflicts with existing data."))] if field else None
    return problem(
        request,
        409,
        _("The change conflicts with existing data."),
        _("Someone may have made the same change at the same moment. Reload and try again."),
        kind="conflict",
        errors=errors,
    )


def _stale(request: Request[Any, Any, Any], exc: StaleDataError) -> Response[Any]:
    return problem(
        request,
        409,
        _("Someone else changed this record first."),
        _("Reload to see the current version, then repeat your change."),
        kind="conflict",
    )


def _recursion(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    """JSON nested deeper than the decoder follows is a malformed body; any other recursion is
    the server's own error."""
    if "deserializing" not in str(exc):
        return _unexpected(request, exc)
    message = _("The body is nested too deeply.")
    return problem(
        request,
        400,
        _("The request body could not be read."),
        message,
        kind="malformed-request",
        errors=[FieldError("body", message)],
    )


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # the request's transaction is rolled back (market.web.deps.provide_db): nothing was changed.
    # The reference ties what the person sees to the logged error.
    reference = secrets.token_hex(4)
    log.exception("unhandled error %s on %s %s", reference, request.method, request.url.path, exc_info=exc)
    return problem(
        request,
        500,
        _("The request failed."),
        _(
            "Something went wrong on our side and nothing was changed. Try again; if it keeps failing, give "
            "the operator the error reference %(reference)s.",
            reference=reference,
        ),
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    FormInvalid: _form_invalid,
    DomainError: problem_of,
    ValidationException: _validation,
    HTTPException: _http,
    IntegrityError: _integrity,
    StaleDataError: _stale,
    RecursionError: _recursion,
    Exception: _unexpected,
}
