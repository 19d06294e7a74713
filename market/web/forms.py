"""Page forms: one input path with the API, and one way to show a refused form again.

* :func:`read_form` reads a posted form (urlencoded or multipart) once: its text values, every
  value of a repeated name, and its uploaded files.
* :func:`parse` validates the form with the *same* pydantic request schema the JSON API route
  uses, so a page and its API twin accept and refuse exactly the same input, with the same
  field names and messages. Only the schema's fields are read (the CSRF token, buttons and
  page-only fields are not); a nested model reads ``name.sub`` fields; a list reads every value
  of its name; an empty optional field takes its default.
* :func:`refusal` wraps a form's action: a :class:`~market.errors.DomainError` raised inside it
  (by :func:`parse` or by a service) rolls the attempt back and shows the page again with the
  errors next to their fields, answered 422 (or the error's own status), never a 500.
"""

from __future__ import annotations

import contextlib
import types
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, Union

from litestar import Request
from litestar.datastructures import UploadFile
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession

from market.errors import DomainError, FieldError, InvalidInput
from market.i18n import gettext as _
from market.schemas import CONTROL_RE
from market.web.problems import FormInvalid, field_errors_of

S = TypeVar("S", bound=BaseModel)
ContextBuilder = Callable[[], Awaitable[dict[str, Any]]]

# never shown again in a re-rendered form
SECRET_FIELDS = frozenset({"password", "password2", "new_password", "csrf_token"})


@dataclass
class FormData:
    """A posted form: ``values`` (the first value of each name, for showing the form again),
    ``lists`` (every value of each name) and ``files`` (uploads with a file name)."""

    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[UploadFile]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def getall(self, name: str) -> list[str]:
        return list(self.lists.get(name, []))

    def file(self, name: str) -> UploadFile | None:
        found = self.files.get(name)
        return found[0] if found else None

    def shown(self) -> dict[str, Any]:
        """What the re-rendered form shows: every text value but secrets (control characters
        dropped: they were refused); lists as lists."""
        out: dict[str, Any] = {k: _printable(v) for k, v in self.values.items() if k not in SECRET_FIELDS}
        for name, values in self.lists.items():
            if len(values) > 1:
                out[name] = [_printable(v) for v in values]
        return out


def _printable(text: str) -> str:
    return CONTROL_RE.sub("", text)


async def read_form(request: Request[Any, Any, Any]) -> FormData:
    form = await request.form()
    data = FormData()
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if value.filename:
                data.files.setdefault(name, []).append(value)
            continue
        text = str(value)
        data.lists.setdefault(name, []).append(text)
        data.values.setdefault(name, text)
    return data


def _annotation_parts(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _annotation_parts(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [p for arg in typing.get_args(annotation) for p in _annotation_parts(arg)]
    return [annotation]


def _is_list(annotation: Any) -> bool:
    return any(typing.get_origin(p) in (list, set, tuple, frozenset) for p in _annotation_parts(annotation))


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for part in _annotation_parts(annotation):
        if isinstance(part, type) and issubclass(part, BaseModel):
            return part
    return None


def _collect(schema: type[BaseModel], form: FormData, prefix: str = "") -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for name, info in schema.model_fields.items():
        key = f"{prefix}{info.alias or name}"
        nested = _model_of(info.annotation)
        if nested is not None and not _is_list(info.annotation):
            inner = _collect(nested, form, f"{key}.")
            if info.is_required() or any(v not in ("", [], {}) for v in inner.values()):
                raw[name] = inner  # an optional group left entirely empty is left out
            continue
        if _is_list(info.annotation):
            values = [v for v in form.getall(key) if v != ""]
            if values or key in form.lists or info.is_required():
                raw[name] = values
            continue
        if key not in form.values:
            continue
        value = form.values[key]
        if value == "" and not info.is_required():
            continue  # an empty optional field: its default applies
        raw[name] = value
    return raw


def parse(schema: type[S], form: FormData | Mapping[str, Any], **extra: Any) -> S:
    """``schema`` validated from ``form`` (plus ``extra`` values the page supplies itself).
    Raises :class:`~market.errors.InvalidInput` naming every bad field."""
    data = form if isinstance(form, FormData) else FormData(values={k: str(v) for k, v in form.items()})
    raw = {**_collect(schema, data), **extra}
    try:
        return schema.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(
            _("The input is not valid."), _("Correct the fields named below."), errors=field_errors_of(exc)
        ) from None


def require(condition: bool, name: str, message: str) -> None:
    """A page-only check (e.g. the password typed twice): a field error like any other."""
    if not condition:
        raise InvalidInput(_("The input is not valid."), message, errors=[FieldError(name, message)])


async def _start_over(db: AsyncSession) -> None:
    """Roll the refused attempt back and reload what the request had read, from what is committed
    (so that a page built from rows loaded before the attempt still renders)."""
    loaded = list(db.identity_map.values())
    await db.rollback()
    for row in loaded:
        if row not in db:
            continue
        try:
            await db.refresh(row)
        except InvalidRequestError:  # created by the refused attempt, or deleted since
            db.expunge(row)


async def refused(
    db: AsyncSession,
    template: str,
    error: DomainError,
    build: ContextBuilder,
    *,
    form: FormData | Mapping[str, Any] | None = None,
    name: str | None = None,
) -> FormInvalid:
    """The :class:`FormInvalid` to raise for ``error``: ``template`` with what ``build`` reads, the
    values the person typed (``form``) and which form of the page failed (``name``)."""
    await _start_over(db)
    context = await build()
    db.expunge_all()  # the rows stay readable after the request's session has closed
    if form is not None:
        context["form"] = form.shown() if isinstance(form, FormData) else dict(form)
    if name is not None:
        context["failed_form"] = name
    return FormInvalid(template, context, error)


@contextlib.asynccontextmanager
async def refusal(
    db: AsyncSession,
    template: str,
    build: ContextBuilder,
    *,
    form: FormData | Mapping[str, Any] | None = None,
    name: str | None = None,
) -> AsyncIterator[None]:
    """``async with refusal(db, "pkg/page.html", build, form=form): await service(...)``: a refused
    action shows ``template`` again with the errors; nothing of the attempt is written."""
    try:
        yield
    except DomainError as exc:
        raise await refused(db, template, exc, build, form=form, name=name) from exc
