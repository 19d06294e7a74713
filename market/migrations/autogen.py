"""How ``alembic revision --autogenerate`` writes column types: plain SQLAlchemy types, never the
application's own (``MoneyType``, ``UTCDateTime``, ``StrEnumType``, SQLModel's ``AutoString``),
which may change later while an old migration must create the same schema forever. Money becomes
the frozen ``MONEY`` of :mod:`market.migrations.frozen`, any other type decorator its underlying
type. (Used by ``env.py``; the migrations themselves never import this module.)
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

from market.money import MoneyType


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    if kind != "type":
        return False
    if isinstance(obj, MoneyType):
        autogen_context.imports.add("from market.migrations.frozen import MONEY")
        return "MONEY"
    if isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl_instance!r}"
    if isinstance(obj, String) and type(obj).__module__.startswith("sqlmodel"):
        return f"sa.String(length={obj.length})"  # SQLModel's AutoString
    return False
