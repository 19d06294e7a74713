"""Finding the OCDS schema for the validation tests: a wrong place fails loudly, never skips."""

from __future__ import annotations

import pytest

from tests.integration import ocds_schema


def test_a_missing_schema_fails_the_test_with_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("MARKET_OCDS_SCHEMA_DIR", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match="MARKET_OCDS_SCHEMA_DIR") as failed:
        ocds_schema.schema_dir()
    assert str(tmp_path) in str(failed.value)


def test_the_configured_directory_is_used(monkeypatch, tmp_path):
    for name in ocds_schema.FILES:
        (tmp_path / name).write_text("{}", encoding="utf-8")
    monkeypatch.setenv("MARKET_OCDS_SCHEMA_DIR", str(tmp_path))
    assert ocds_schema.schema_dir() == tmp_path


def test_without_a_setting_the_repository_copy_is_used(monkeypatch):
    monkeypatch.delenv("MARKET_OCDS_SCHEMA_DIR", raising=False)
    assert ocds_schema.schema_dir() == ocds_schema.REPO / "tests" / "data" / "ocds-1.1.5"


def test_a_missing_repository_copy_fails_the_test_and_says_how_to_make_it(monkeypatch, tmp_path):
    monkeypatch.delenv("MARKET_OCDS_SCHEMA_DIR", raising=False)
    monkeypatch.setattr(ocds_schema, "COPY", tmp_path / "ocds-1.1.5")
    with pytest.raises(pytest.fail.Exception, match=r"scripts/ocds_structure\.py") as failed:
        ocds_schema.schema_dir()
    assert str(tmp_path / "ocds-1.1.5") in str(failed.value)
