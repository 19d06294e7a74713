"""The repository's copy of the OCDS 1.1.5 schema structure (``tests/data/ocds-1.1.5``): exactly
what ``scripts/ocds_structure.py`` makes of the published schema files, with no prose left in it,
and a schema that a validator accepts and that still refuses what the standard refuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from tests.integration import ocds_schema

REPO = Path(__file__).resolve().parents[2]
COPY = REPO / "tests" / "data" / "ocds-1.1.5"
SCRIPT = REPO / "scripts" / "ocds_structure.py"
# the published files, beside the repository (as in the command the script's docstring records)
SOURCE = REPO.parent / "shared" / "ocds-1.1.5"
PROSE = {"title", "description"}


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _prose_keys(node: Any, path: str = "") -> list[str]:
    """Where ``title`` or ``description`` is used as a keyword. A key of ``properties`` names a
    property (a tender has a ``title``): that is data, and its schema is searched in turn."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in PROSE:
                found.append(f"{path}/{key}")
            found += _prose_keys(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found += _prose_keys(item, f"{path}/{i}")
    return found


def _without_property_names(node: Any) -> Any:
    """``node`` with every ``properties`` map turned into a list of its schemas (names dropped)."""
    if isinstance(node, dict):
        return {
            key: [_without_property_names(v) for v in value.values()]
            if key == "properties" and isinstance(value, dict)
            else _without_property_names(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_without_property_names(item) for item in node]
    return node


def test_the_copy_is_exactly_what_the_script_makes_of_the_published_files(tmp_path):
    if not (SOURCE / "release-package-schema.json").is_file():
        pytest.skip("../shared/ocds-1.1.5 (the published OCDS 1.1.5 schema files) is not beside the repository")
    made = tmp_path / "ocds-1.1.5"
    # the very command of the script's docstring, run from the repository's root
    subprocess.run(  # noqa: S603 - our own script, with fixed arguments
        [sys.executable, str(SCRIPT.relative_to(REPO)), "../shared/ocds-1.1.5", str(made)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    assert _files(made) == _files(COPY), "tests/data/ocds-1.1.5 is stale: run the command in scripts/ocds_structure.py"
    # and the script only took the prose out: with it put back aside, nothing else differs
    for name in ("release-package-schema.json", "release-schema.json"):
        published = json.loads((SOURCE / name).read_text(encoding="utf-8"))
        copied = json.loads((COPY / name).read_text(encoding="utf-8"))
        assert _prose_keys(_without_property_names(published))  # the published files do have prose
        assert json.dumps(_strip_naively(published), sort_keys=True) == json.dumps(copied, sort_keys=True), name


def _strip_naively(node: Any, in_properties: bool = False) -> Any:
    """An independent reading of "prose removed": drop ``title`` and ``description`` wherever
    they are not a property's name."""
    if isinstance(node, dict):
        return {
            key: _strip_naively(value, key == "properties")
            for key, value in node.items()
            if in_properties or key not in PROSE
        }
    if isinstance(node, list):
        return [_strip_naively(item) for item in node]
    return node


def test_the_copy_has_no_prose_and_keeps_what_validation_reads():
    names = {p.name for p in COPY.iterdir()}
    assert {"release-package-schema.json", "release-schema.json", "README.md"} <= names
    for name in ("release-package-schema.json", "release-schema.json"):
        schema = json.loads((COPY / name).read_text(encoding="utf-8"))
        assert _prose_keys(_without_property_names(schema)) == [], name
        Draft4Validator.check_schema(schema)
        assert schema["id"].endswith(f"/1__1__5/{name}")
    release = json.loads((COPY / "release-schema.json").read_text(encoding="utf-8"))
    # property names that happen to be "title" or "description" are data, and stay
    assert {"title", "description"} <= set(release["definitions"]["Tender"]["properties"])
    assert release["properties"]["tag"]["items"]["enum"][:3] == ["planning", "planningUpdate", "tender"]
    assert release["definitions"]["Value"]["properties"]["amount"]["type"] == ["number", "null"]
    assert release["properties"]["date"]["format"] == "date-time"
    assert release["required"] == ["ocid", "id", "date", "tag", "initiationType"]


def test_the_copy_refuses_what_the_standard_refuses(monkeypatch):
    monkeypatch.delenv("MARKET_OCDS_SCHEMA_DIR", raising=False)
    ocds_schema.package_validator.cache_clear()
    good = {
        "uri": "https://example.org/releases",
        "version": "1.1",
        "publishedDate": "2026-03-02T09:00:00+08:00",
        "publisher": {"name": "云岭县财政局"},
        "releases": [
            {
                "ocid": "ocds-xxxxxx-CG-2026-000001",
                "id": "CG-2026-000001-20260302T090000",
                "date": "2026-03-02T09:00:00+08:00",
                "tag": ["tender"],
                "initiationType": "tender",
                "tender": {"id": "CG-2026-000001", "title": "测绘", "value": {"amount": 1.5, "currency": "CNY"}},
            }
        ],
    }
    try:
        ocds_schema.assert_valid_package(good)
        for path, bad in (
            (("releases", 0, "tag"), ["bidding"]),  # not in the closed codelist
            (("releases", 0, "date"), "yesterday"),  # not a date-time
            (("releases", 0, "tender", "title"), 7),  # a property named "title" keeps its type
            (("releases", 0, "tender", "value", "currency"), "RMB"),  # not an ISO 4217 code
        ):
            broken = json.loads(json.dumps(good))
            target = broken
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = bad
            with pytest.raises(AssertionError):
                ocds_schema.assert_valid_package(broken)
        del good["releases"][0]["ocid"]
        with pytest.raises(AssertionError, match="ocid"):
            ocds_schema.assert_valid_package(good)
    finally:
        ocds_schema.package_validator.cache_clear()
