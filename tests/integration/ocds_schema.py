"""Validating OCDS output against the OCDS 1.1.5 schema, offline.

The schema is the repository's own copy of its structure, ``tests/data/ocds-1.1.5`` (made from the
published schema files by ``scripts/ocds_structure.py``, which strips the titles and descriptions
and keeps everything a validator reads); ``MARKET_OCDS_SCHEMA_DIR`` points elsewhere, e.g. at the
published files themselves. The release package schema refers to the release schema by its URL;
a ``referencing`` registry answers that URL with the local file, so nothing is downloaded. Without
the files the test fails (it never skips).
"""

from __future__ import annotations

import functools
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

REPO = Path(__file__).resolve().parents[2]
COPY = REPO / "tests" / "data" / "ocds-1.1.5"  # made by scripts/ocds_structure.py
FILES = ("release-package-schema.json", "release-schema.json")


def schema_dir() -> Path:
    configured = os.environ.get("MARKET_OCDS_SCHEMA_DIR")
    folder = Path(configured) if configured else COPY
    if all((folder / name).is_file() for name in FILES):
        return folder
    pytest.fail(
        f"The OCDS 1.1.5 schema was not found in {folder}. "
        + (
            "Set MARKET_OCDS_SCHEMA_DIR to a directory that holds " + " and ".join(FILES)
            if configured
            else "The repository's copy is missing: restore it from git, or make it again with "
            "scripts/ocds_structure.py (see its docstring); MARKET_OCDS_SCHEMA_DIR may name another directory"
        )
        + ".",
        pytrace=False,
    )


def _format_checker() -> FormatChecker:
    """jsonschema checks "date-time" only with an optional package; check it here with the standard
    library instead, so that a malformed date fails the test."""
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def is_date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError(f"{value!r} has no time zone")
        return True

    return checker


@functools.cache
def package_validator() -> Draft4Validator:
    folder = schema_dir()
    package = json.loads((folder / "release-package-schema.json").read_text(encoding="utf-8"))
    release = json.loads((folder / "release-schema.json").read_text(encoding="utf-8"))
    registry = Registry().with_resources(
        [
            (release["id"], Resource(contents=release, specification=DRAFT4)),
            (package["id"], Resource(contents=package, specification=DRAFT4)),
        ]
    )
    return Draft4Validator(package, registry=registry, format_checker=_format_checker())


def assert_valid_package(data: dict[str, Any]) -> None:
    errors = sorted(package_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:20])
