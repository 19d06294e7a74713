"""The page toolkit every package's ``pages.py`` uses: what a page says after a form succeeded,
the redirect that says it, and paging.

* **Flash.** A successful form redirects (303) with ``?done=KEY``; the layout shows the message
  of ``KEY``. Each package declares its messages in ``pages.NOTICES`` (key → msgid, marked with
  ``N_``); the composition root gathers them into the app (a key defined twice is an error at
  start-up). Only known keys are shown: the URL never carries text.
* **Paging.** :class:`Pager` turns a ``page`` query parameter into ``limit``/``offset`` (a
  nonsensical number is the first page, one beyond the last page an empty page whose pager
  links back to the last one) and gives the template what the ``pager`` macro of ``_ui.html``
  needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from litestar.response import Redirect

from market.i18n import gettext as _

FLASH_KEY = "done"
MAX_PAGE = 100_000

Notices = Mapping[str, str]
# (role, url, msgid) — a tile on the role's dashboard
Tile = tuple[str, str, str]


def redirect(url: str, done: str | None = None) -> Redirect:
    """A 303 to ``url`` (which may end with ``#anchor``) that says ``done`` there."""
    if done:
        scheme, netloc, path, query, fragment = urlsplit(url)
        query = f"{query}&{FLASH_KEY}={done}" if query else f"{FLASH_KEY}={done}"
        url = urlunsplit((scheme, netloc, path, query, fragment))
    return Redirect(path=url, status_code=303)


def merge_notices(sources: Iterable[Notices]) -> dict[str, str]:
    """Every package's notices in one mapping; a key with two different messages is refused."""
    merged: dict[str, str] = {}
    for notices in sources:
        for key, msgid in notices.items():
            if merged.get(key, msgid) != msgid:
                raise ValueError(f"the flash key {key!r} is defined twice with different messages")
            merged[key] = msgid
    return merged


def flash_message(notices: Mapping[str, str], key: str | None) -> str | None:
    msgid = notices.get(key or "")
    return _(msgid) if msgid else None


@dataclass(frozen=True)
class Pager:
    """One page of a list: ``Pager.of(page, size)``, then ``limit``/``offset`` for the query and
    :meth:`context` (with the total) for the template."""

    page: int
    size: int

    @classmethod
    def of(cls, page: int | str | None, size: int) -> Pager:
        try:
            number = int(page or 1)
        except (TypeError, ValueError):
            number = 1
        return cls(min(max(1, number), MAX_PAGE), size)

    @property
    def limit(self) -> int:
        return self.size

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def pages(self, total: int) -> int:
        return max(1, -(-total // self.size))

    def context(self, total: int) -> dict[str, Any]:
        return {"page": self.page, "pages": self.pages(total), "total": total}
