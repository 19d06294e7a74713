"""PDF rendering with WeasyPrint, from the document templates in ``invoices/pdf/`` (kept apart from
the web templates): A4, Noto Sans CJK embedded and subset with HarfBuzz (``libharfbuzz-subset0``;
without it WeasyPrint falls back to fontTools and a Chinese page takes seconds instead of a
fraction of one), PDF/A-3b.

The output is deterministic: the creation date is the document's own (the signing or issuing
time) and the PDF identifier is derived from its number, so the same document renders to the
same bytes (and the same SHA-256) wherever and whenever it is rendered.

WeasyPrint runs in one dedicated thread: off the event loop, and one document at a time (the
machine's cores serve requests meanwhile; Pango and fontconfig are not entered concurrently).
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

PDF_DIR = Path(__file__).resolve().parent / "pdf"
PDF_VARIANT = "pdf/a-3b"

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdf")


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(PDF_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
    jinja.configure(env)
    env.filters["local_date"] = _local_date
    env.filters["local_time"] = _local_time
    return env


def _local_date(moment: datetime | None) -> str:
    return ensure_aware(moment).astimezone(LOCAL_TZ).strftime("%Y-%m-%d") if moment else ""


def _local_time(moment: datetime | None) -> str:
    return ensure_aware(moment).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def render_html(template: str, context: dict[str, Any], lang: str) -> str:
    """The document's HTML in ``lang`` (the locale is switched for the template only)."""
    token = i18n.set_locale(lang)
    try:
        return environment().get_template(template).render(**context, lang=lang)
    finally:
        i18n.reset_locale(token)


def html_to_pdf(html: str, *, identifier: str, full_fonts: bool = False) -> bytes:
    """WeasyPrint, synchronously (call it through :func:`html_to_pdf_async` from async code).
    The creation date comes from the HTML's ``<meta name="dcterms.created">``."""
    from weasyprint import HTML

    data: bytes = HTML(string=html, base_url=str(PDF_DIR)).write_pdf(
        pdf_variant=PDF_VARIANT,
        pdf_identifier=hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:32].encode("ascii"),
        full_fonts=full_fonts,
        uncompressed_pdf=False,
    )
    return data


async def html_to_pdf_async(html: str, *, identifier: str) -> bytes:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor, functools.partial(html_to_pdf, html, identifier=identifier))


def harfbuzz_subsetting_available() -> bool:
    from weasyprint.pdf import fonts

    return fonts.harfbuzz_subset is not None
