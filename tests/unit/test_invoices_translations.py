"""Every message of the invoices package (Python, web templates, PDF templates) is translated into
Chinese, the platform's default language."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None}
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2"), ("**/pdf/**.html", "jinja2")]
OPTIONS = {
    "**/templates/**.html": {"extensions": "jinja2.ext.i18n"},
    "**/pdf/**.html": {"extensions": "jinja2.ext.i18n"},
}


def test_every_invoices_message_has_a_chinese_translation() -> None:
    with (ROOT / "market/translations/zh/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="zh")
    extracted = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / "invoices"), METHODS, OPTIONS, KEYWORDS
        )
    }
    assert len(extracted) > 300
    missing = []
    for msgid in sorted(extracted):
        entry = catalog.get(msgid)
        translated = entry.string if entry is not None else None
        if isinstance(translated, tuple):
            translated = translated[0]
        if not translated:
            missing.append(msgid)
    assert not missing, f"untranslated (run make messages, then fill the catalog): {missing[:10]}"
