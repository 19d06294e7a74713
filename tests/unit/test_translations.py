"""Every user-facing string has a Chinese translation (Chinese is the default language)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["market", "listings", "bidding", "invoices", "oversight"]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None}
METHODS = [("**/templates/**.html", "jinja2"), ("**/pdf/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {pattern: {"extensions": "jinja2.ext.i18n"} for pattern in ("**/templates/**.html", "**/pdf/**.html")}


def _source_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for package in PACKAGES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / package, METHODS, options_map=OPTIONS, keywords=KEYWORDS
        ):
            msgid = message if isinstance(message, str) else message[0]
            if msgid:
                found.setdefault(msgid, f"{package}/{filename}:{lineno}")
    return found


def _catalog():
    with (ROOT / "market/translations/zh/LC_MESSAGES/messages.po").open("rb") as fh:
        return read_po(fh, locale="zh")


def test_every_message_has_a_chinese_translation():
    catalog = _catalog()
    missing = []
    for msgid, where in sorted(_source_messages().items()):
        message = catalog.get(msgid)
        text = message.string if message else None
        if isinstance(text, tuple):
            text = text[0]
        if not text or (message and message.fuzzy):
            missing.append(f"{where}: {msgid!r}")
    assert not missing, "untranslated (run `make messages`, then translate):\n" + "\n".join(missing)


def test_translations_keep_their_placeholders():
    import re

    placeholder = re.compile(r"%\((\w+)\)[sd]")
    wrong = []
    for message in _catalog():
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if set(placeholder.findall(ids[0])) != set(placeholder.findall(strings[0])):
            wrong.append(ids[0])
    assert not wrong, wrong
