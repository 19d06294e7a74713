"""PDF rendering with WeasyPrint, for every package that prints documents (the invoices package's
contracts and invoices, the bidding package's bid receipts): each package keeps its document
templates in a directory of its own (apart from the web templates) and renders them through a
:class:`Renderer` of that directory. A4, Noto Sans CJK embedded and subset with HarfBuzz
(``libharfbuzz-subset0``; without it WeasyPrint falls back to fontTools and a Chinese page takes
seconds instead of a fraction of one), PDF/A-3b.

The output is deterministic: the creation date is the document's own (``<meta
name="dcterms.created">``) and the PDF identifier is derived from an identifier the caller gives,
so the same document renders to the same bytes (and the same SHA-256) wherever and whenever it is
rendered.

WeasyPrint runs in one dedicated thread shared by every renderer: off the event loop, and one
document at a time (the machine's cores serve requests meanwhile; Pango and fontconfig are not
entered concurrently).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from market import i18n, jinja
from market.clock import LOCAL_TZ, ensure_aware

PDF_VARIANT = "pdf/a-3b"

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdf")


def local_date(moment: datetime | None) -> str:
    return ensure_aware(moment).astimezone(LOCAL_TZ).strftime("%Y-%m-%d") if moment else ""


def local_time(moment: datetime | None) -> str:
    return ensure_aware(moment).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


@functools.cache
def _environment(directory: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
    jinja.configure(env)
    env.filters["local_date"] = local_date
    env.filters["local_time"] = local_time
    return env


class Renderer:
    """The documents of one template directory (stylesheets and images are found there too)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def environment(self) -> Environment:
        return _environment(self.directory)

    def render_html(self, template: str, context: dict[str, Any], lang: str) -> str:
        """The document's HTML in ``lang`` (the locale is switched for the template only)."""
        token = i18n.set_locale(lang)
        try:
            return self.environment().get_template(template).render(**context, lang=lang)
        finally:
            i18n.reset_locale(token)

    def html_to_pdf(self, html: str, *, identifier: str, full_fonts: bool = False) -> bytes:
        """WeasyPrint, synchronously (call :meth:`html_to_pdf_async` from async code)."""
        return html_to_pdf(html, base_url=self.directory, identifier=identifier, full_fonts=full_fonts)

    async def html_to_pdf_async(self, html: str, *, identifier: str) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_executor, functools.partial(self.html_to_pdf, html, identifier=identifier))

    async def render(self, template: str, context: dict[str, Any], lang: str, *, identifier: str) -> bytes:
        """The PDF of a template (the HTML is rendered here, the PDF in the PDF thread)."""
        return await self.html_to_pdf_async(self.render_html(template, context, lang), identifier=identifier)


def html_to_pdf(html: str, *, base_url: Path, identifier: str, full_fonts: bool = False) -> bytes:
    """WeasyPrint, synchronously. The creation date comes from the HTML's
    ``<meta name="dcterms.created">``; relative links are resolved in ``base_url``."""
    from weasyprint import HTML

    data: bytes = HTML(string=html, base_url=str(base_url)).write_pdf(
        pdf_variant=PDF_VARIANT,
        pdf_identifier=hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:32].encode("ascii"),
        full_fonts=full_fonts,
        uncompressed_pdf=False,
    )
    return data


def harfbuzz_subsetting_available() -> bool:
    from weasyprint.pdf import fonts

    return fonts.harfbuzz_subset is not None
