"""The invoices package's documents (contracts, agreements, invoices), rendered from the templates
in ``invoices/pdf/`` by the platform's PDF renderer (:mod:`market.pdf`: WeasyPrint, A4, Noto Sans
CJK subset with HarfBuzz, PDF/A-3b, deterministic bytes, one PDF thread)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment

from market import pdf

PDF_DIR = Path(__file__).resolve().parent / "pdf"
PDF_VARIANT = pdf.PDF_VARIANT

renderer = pdf.Renderer(PDF_DIR)
harfbuzz_subsetting_available = pdf.harfbuzz_subsetting_available


def environment() -> Environment:
    return renderer.environment()


def render_html(template: str, context: dict[str, Any], lang: str) -> str:
    """The document's HTML in ``lang`` (the locale is switched for the template only)."""
    return renderer.render_html(template, context, lang)


def html_to_pdf(html: str, *, identifier: str, full_fonts: bool = False) -> bytes:
    """WeasyPrint, synchronously (call it through :func:`html_to_pdf_async` from async code)."""
    return renderer.html_to_pdf(html, identifier=identifier, full_fonts=full_fonts)


async def html_to_pdf_async(html: str, *, identifier: str) -> bytes:
    return await renderer.html_to_pdf_async(html, identifier=identifier)
