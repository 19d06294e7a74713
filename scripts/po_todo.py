"""Translator's helper: list the untranslated messages of a catalog, or fill them from a JSON file.

python scripts/po_todo.py market/translations/zh/LC_MESSAGES/messages.po            # list
python scripts/po_todo.py market/translations/zh/LC_MESSAGES/messages.po new.json   # fill
"""

from __future__ import annotations

import json
import sys

from babel.messages.pofile import read_po, write_po


def main() -> None:
    path = sys.argv[1]
    with open(path, "rb") as fh:
        catalog = read_po(fh)
    if len(sys.argv) == 2:
        todo = [m.id for m in catalog if m.id and not m.string]
        print(json.dumps({(t if isinstance(t, str) else t[0]): "" for t in todo}, ensure_ascii=False, indent=1))
        return
    with open(sys.argv[2], encoding="utf-8") as fh:
        fills = json.load(fh)
    filled = 0
    for message in catalog:
        key = message.id if isinstance(message.id, str) else message.id[0]
        if fills.get(key):
            value = fills[key]
            message.string = tuple(value) if isinstance(message.id, tuple) else value
            message.flags.discard("fuzzy")
            filled += 1
    with open(path, "wb") as fh:
        write_po(fh, catalog, width=0, sort_output=True, omit_header=False)
    print(f"filled {filled}")


if __name__ == "__main__":
    main()
