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


def test_production_refuses_accelerator_and_fast_hashes(tmp_path):
    secret = "x" * 40
    key = tmp_path / "signing.pem"
    key.write_text("a key")
    with pytest.raises(SettingsError, match="ACCELERATOR"):
        Settings.from_env({"MARKET_ENV": "production", "MARKET_SECRET_KEY": secret, "MARKET_ACCELERATOR": "86400"})
    with pytest.raises(SettingsError, match="ARGON2"):
        Settings.from_env({"MARKET_ENV": "production", "MARKET_SECRET_KEY": secret, "MARKET_ARGON2_PROFILE": "fast"})
    ok = Settings.from_env(
        {"MARKET_ENV": "production", "MARKET_SECRET_KEY": secret, "MARKET_SIGNING_KEY_FILE": str(key)}
    )
    assert ok.is_production and ok.accelerator == 1 and ok.signing_key_path == key


def test_production_refuses_a_missing_anchor_signing_key(tmp_path):
    """The audit anchors' key is generated only in development; production names an existing file."""
    env = {"MARKET_ENV": "production", "MARKET_SECRET_KEY": "x" * 40}
    with pytest.raises(SettingsError, match="MARKET_SIGNING_KEY_FILE"):
        Settings.from_env(env)
    with pytest.raises(SettingsError, match="MARKET_SIGNING_KEY_FILE"):
        Settings.from_env({**env, "MARKET_SIGNING_KEY_FILE": str(tmp_path / "absent.pem")})
    dev = Settings.from_env({"MARKET_VAR_DIR": str(tmp_path)})
    assert dev.signing_key_path == tmp_path / "audit-signing-key.pem"


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


def test_no_process_wide_settings_exist():
    """Settings are passed in: nothing can read them from a global."""
    import market.settings as module

    assert not {"configure", "configured", "get_settings", "_current"} & set(vars(module))


def test_password_hashes_follow_the_profile_they_are_given():
    from market.identity.passwords import hash_password_sync as hash_password
    from market.identity.passwords import needs_rehash
    from market.identity.passwords import verify_password_sync as verify_password

    fast = hash_password("secret123", "fast")
    assert verify_password(fast, "secret123", "fast") and not verify_password(fast, "secret124", "fast")
    assert verify_password(fast, "secret123", "standard")  # the hash carries its own parameters
    assert needs_rehash(fast, "standard") and not needs_rehash(fast, "fast")
    assert not verify_password(None, "secret123", "fast")  # an unknown user: checked against a dummy
    with pytest.raises(ValueError, match="argon2 profile"):
        hash_password("secret123", "quick")


def test_the_payment_term_is_1_to_60_calendar_days():
    assert Settings.from_env({}).payment_days == 30
    assert Settings.from_env({"MARKET_PAYMENT_DAYS": "60"}).payment_days == 60
    with pytest.raises(SettingsError, match=r"MARKET_PAYMENT_DAYS must be from 1 to 60 calendar days.*got 61"):
        Settings.from_env({"MARKET_PAYMENT_DAYS": "61"})
    with pytest.raises(SettingsError, match="MARKET_PAYMENT_DAYS must be at least 1"):
        Settings.from_env({"MARKET_PAYMENT_DAYS": "0"})
    with pytest.raises(SettingsError, match="MARKET_PAYMENT_DAYS"):
        Settings().with_(payment_days=90)


def test_documents_are_stored_in_a_directory_unless_an_object_store_is_named(tmp_path):
    default = Settings.from_env({"MARKET_VAR_DIR": str(tmp_path)})
    assert default.storage_url is None and default.storage_location == (tmp_path / "uploads").resolve().as_uri()
    moved = Settings.from_env({"MARKET_STORAGE_URL": f"file://{tmp_path}/docs"})
    assert moved.storage_url is None and moved.upload_dir == tmp_path / "docs"
    s3 = Settings.from_env(
        {
            "MARKET_STORAGE_URL": "s3://market-docs/county",
            "MARKET_S3_ENDPOINT": "http://127.0.0.1:9000/",
            "MARKET_S3_ACCESS_KEY_ID": "market",
            "MARKET_S3_SECRET_ACCESS_KEY": "minioadmin",  # well known, but not in production
        }
    )
    assert s3.storage_location == "s3://market-docs/county" and s3.s3_endpoint == "http://127.0.0.1:9000"
    for env, complaint in (
        ({"MARKET_STORAGE_URL": "gs://bucket"}, "MARKET_STORAGE_URL"),
        ({"MARKET_STORAGE_URL": "s3:///no-bucket"}, "MARKET_STORAGE_URL"),
        ({"MARKET_STORAGE_URL": "file://host/relative"}, "MARKET_STORAGE_URL"),
        ({"MARKET_S3_ENDPOINT": "http://minio:9000"}, "apply to MARKET_STORAGE_URL=s3"),
        ({"MARKET_STORAGE_URL": "s3://b", "MARKET_S3_ACCESS_KEY_ID": "k"}, "go together"),
        ({"MARKET_STORAGE_URL": "s3://b", "MARKET_S3_ENDPOINT": "minio:9000"}, "MARKET_S3_ENDPOINT"),
    ):
        with pytest.raises(SettingsError, match=complaint):
            Settings.from_env(env)


def test_production_refuses_documents_in_clear_and_well_known_object_store_secrets(tmp_path):
    key = tmp_path / "signing.pem"
    key.write_text("a key")
    env = {
        "MARKET_ENV": "production",
        "MARKET_SECRET_KEY": "x" * 40,
        "MARKET_SIGNING_KEY_FILE": str(key),
        "MARKET_STORAGE_URL": "s3://market-docs/documents",
        "MARKET_S3_ENDPOINT": "http://minio:9000",
        "MARKET_S3_ACCESS_KEY_ID": "market",
        "MARKET_S3_SECRET_ACCESS_KEY": "a-long-random-password",
    }
    with pytest.raises(SettingsError, match="MARKET_S3_ALLOW_HTTP"):
        Settings.from_env(env)
    assert Settings.from_env(env | {"MARKET_S3_ALLOW_HTTP": "1"}).is_production
    assert Settings.from_env(env | {"MARKET_S3_ENDPOINT": "https://s3.example.org"}).is_production
    with pytest.raises(SettingsError, match="well-known"):
        Settings.from_env(env | {"MARKET_S3_ALLOW_HTTP": "1", "MARKET_S3_SECRET_ACCESS_KEY": "minioadmin"})


def test_four_eyes_is_on_in_production_and_cannot_be_turned_off_there(tmp_path):
    key = tmp_path / "anchor.pem"
    key.write_text("x")
    secret = "s" * 40
    base = {"MARKET_ENV": "production", "MARKET_SECRET_KEY": secret, "MARKET_SIGNING_KEY_FILE": str(key)}
    assert Settings.from_env(base).four_eyes_required
    with pytest.raises(SettingsError, match="MARKET_FOUR_EYES"):
        Settings.from_env({**base, "MARKET_FOUR_EYES": "0"})
    assert not Settings.from_env({}).four_eyes_required  # development: off unless asked for
    assert Settings.from_env({"MARKET_FOUR_EYES": "1"}).four_eyes_required
