from __future__ import annotations

import pytest

from market.settings import DEV_SECRET_KEY, Settings, SettingsError


def test_defaults_are_development_sqlite():
    s = Settings.from_env({})
    assert s.env == "development" and s.is_sqlite and s.database_url.endswith("var/market.db")
    assert s.accelerator == 1


def test_production_refuses_default_secret():
    with pytest.raises(SettingsError, match="MARKET_SECRET_KEY"):
        Settings.from_env({"MARKET_ENV": "production"})
    with pytest.raises(SettingsError, match="MARKET_SECRET_KEY"):
        Settings.from_env({"MARKET_ENV": "production", "MARKET_SECRET_KEY": DEV_SECRET_KEY})


def test_production_refuses_accelerator_and_fast_hashes():
    secret = "x" * 40
    with pytest.raises(SettingsError, match="ACCELERATOR"):
        Settings.from_env({"MARKET_ENV": "production", "MARKET_SECRET_KEY": secret, "MARKET_ACCELERATOR": "86400"})
    with pytest.raises(SettingsError, match="ARGON2"):
        Settings.from_env({"MARKET_ENV": "production", "MARKET_SECRET_KEY": secret, "MARKET_ARGON2_PROFILE": "fast"})
    ok = Settings.from_env({"MARKET_ENV": "production", "MARKET_SECRET_KEY": secret})
    assert ok.is_production and ok.accelerator == 1


def test_bad_numbers_are_refused_with_the_variable_name():
    with pytest.raises(SettingsError, match="MARKET_ACCELERATOR"):
        Settings.from_env({"MARKET_ACCELERATOR": "fast"})
    with pytest.raises(SettingsError, match="MARKET_ACCELERATOR"):
        Settings.from_env({"MARKET_ACCELERATOR": "0"})


def test_plain_database_urls_get_async_drivers():
    from market.db import async_url, sync_url

    assert async_url("sqlite:///var/market.db") == "sqlite+aiosqlite:///var/market.db"
    assert async_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert async_url("postgres://u:p@h:5433/db") == "postgresql+psycopg://u:p@h:5433/db"
    assert sync_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    with pytest.raises(ValueError, match="unsupported"):
        async_url("mysql://u@h/db")
