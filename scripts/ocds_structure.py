"""Copy the structure of the OCDS 1.1.5 schemas into the repository, without their prose.

    .venv/bin/python scripts/ocds_structure.py ../shared/ocds-1.1.5 tests/data/ocds-1.1.5

reads ``release-package-schema.json`` from SOURCE_DIR (the schema files of the Open Contracting
Data Standard 1.1.5, as published) and every schema file it refers to by URL (the release
schema), and writes them to DEST_DIR with the human-readable text removed: every ``title`` and
``description`` of a schema (and of its ``deprecated`` notes). Everything a validator reads is
kept as it is: ``id``/``$schema``, ``type``, ``properties``, ``patternProperties``,
``definitions``, ``$ref``, ``required``, ``enum``, ``pattern``, ``format``, ``minLength``,
``minItems``, ``uniqueItems`` and the rest. Property *names* such as a tender's ``title`` are data,
not prose, and stay.

The tests validate the OCDS feed against that copy (``tests/integration/ocds_schema.py``), so a
clone of the repository needs nothing beside it; ``tests/unit/test_ocds_schema_copy.py`` checks
that the copy is exactly what this script makes of the published files. The output is
deterministic (the source's key order, two-space indentation, UTF-8), so re-running the command
on the same files changes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = "release-package-schema.json"
PROSE = frozenset({"title", "description"})
# keywords whose value maps names to schemas (the names themselves are data: keep them all)
SCHEMA_MAPS = frozenset({"properties", "patternProperties", "definitions", "dependencies"})
# keywords whose value is a schema, or a list of schemas
SUBSCHEMAS = frozenset({"items", "additionalItems", "additionalProperties", "not", "anyOf", "allOf", "oneOf"})
# OCDS's own annotations that are objects holding prose next to data (``deprecatedVersion``)
NOTES = frozenset({"deprecated"})

README = """\
# OCDS 1.1.5 schema structure (test data)

The release package and release schemas of the Open Contracting Data Standard 1.1.5, as published
by the Open Contracting Partnership, with their titles and descriptions removed: what a validator
needs and nothing else. The tests validate the platform's OCDS feed against them, offline.

Generated; do not edit. From the repository's root, with the published schema files beside it:

    .venv/bin/python scripts/ocds_structure.py ../shared/ocds-1.1.5 tests/data/ocds-1.1.5
"""


def strip(schema: Any) -> Any:
    """``schema`` without its prose (a new value; the argument is not changed)."""
    if isinstance(schema, list):
        return [strip(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in PROSE:
            continue
        if key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: strip(sub) for name, sub in value.items()}
        elif key in SUBSCHEMAS:
            out[key] = strip(value)
        elif key in NOTES and isinstance(value, dict):
            out[key] = {k: v for k, v in value.items() if k not in PROSE}
        else:
            out[key] = value  # types, enums, patterns, required lists, $ref…: kept verbatim
    return out


def references(schema: Any) -> set[str]:
    """The files an absolute ``$ref`` points to (by the last part of its URL)."""
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str) and "://" in value:
                found.add(value.split("#", 1)[0].rsplit("/", 1)[-1])
            else:
                found |= references(value)
    elif isinstance(schema, list):
        for item in schema:
            found |= references(item)
    return found


def build(source: Path) -> dict[str, str]:
    """File name → text of everything the copy holds."""
    files: dict[str, str] = {"README.md": README}
    todo = [ROOT]
    while todo:
        name = todo.pop()
        if name in files:
            continue
        path = source / name
        if not path.is_file():
            raise SystemExit(f"{path} is missing: SOURCE_DIR must hold the OCDS 1.1.5 schema files")
        schema = json.loads(path.read_text(encoding="utf-8"))
        files[name] = json.dumps(strip(schema), ensure_ascii=False, indent=2) + "\n"
        todo.extend(sorted(references(schema)))
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("source", type=Path, metavar="SOURCE_DIR", help="the published OCDS 1.1.5 schema files")
    parser.add_argument("dest", type=Path, metavar="DEST_DIR", help="where the copy goes (created if missing)")
    args = parser.parse_args(argv)
    files = build(args.source)
    args.dest.mkdir(parents=True, exist_ok=True)
    for name, text in sorted(files.items()):
        (args.dest / name).write_text(text, encoding="utf-8")
        print(f"{args.dest / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
