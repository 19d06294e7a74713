"""Settings, read once from the environment.

Every setting has a safe development default; ``MARKET_ENV=production`` refuses the unsafe
ones (the development secret key, an accelerated clock).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-insecure-secret-change-me"  # noqa: S105 - refused in production


class SettingsError(ValueError):
    """The environment asks for something the platform refuses to run with."""


def _int(env: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'market.db'}"
    secret_key: str = DEV_SECRET_KEY
    env: str = "development"
    accelerator: int = 1
    var_dir: Path = PROJECT_ROOT / "var"
    upload_dir: Path = PROJECT_ROOT / "var" / "uploads"
    base_url: str = "http://127.0.0.1:8000"
    # sessions and login protection
    session_hours: int = 12
    login_max_failures: int = 5
    login_window_minutes: int = 15
    # "standard" (RFC 9106 low-memory profile, argon2-cffi's default) or "fast" (tests only)
    argon2_profile: str = "standard"
    # request limits
    max_json_bytes: int = 1_000_000
    max_upload_bytes: int = 20 * 1024 * 1024
    # the background loop that applies due time transitions inside `market serve`
    run_worker_in_app: bool = True
    worker_interval_seconds: float = 1.0
    # rule periods in working days (SPEC §4)
    min_bidding_days: int = 3
    publicity_days: int = 3
    signing_days: int = 5
    payment_days: int = 30
    abnormal_low_ratio: Decimal = Decimal("0.5")

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def validate(self) -> Settings:
        if self.argon2_profile not in ("standard", "fast"):
            raise SettingsError("MARKET_ARGON2_PROFILE must be standard or fast")
        if self.accelerator < 1:
            raise SettingsError("MARKET_ACCELERATOR must be 1 or more")
        if self.is_production:
            if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
                raise SettingsError(
                    "MARKET_ENV=production needs MARKET_SECRET_KEY: at least 32 random characters, "
                    "not the development default"
                )
            if self.accelerator != 1:
                raise SettingsError("MARKET_ENV=production refuses MARKET_ACCELERATOR other than 1")
            if self.argon2_profile != "standard":
                raise SettingsError("MARKET_ENV=production refuses MARKET_ARGON2_PROFILE other than standard")
        return self

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes).validate()  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        default = cls()
        var_dir = Path(env.get("MARKET_VAR_DIR") or default.var_dir)
        settings = cls(
            database_url=env.get("MARKET_DATABASE_URL") or f"sqlite:///{var_dir / 'market.db'}",
            secret_key=env.get("MARKET_SECRET_KEY") or DEV_SECRET_KEY,
            env=(env.get("MARKET_ENV") or "development").strip().lower(),
            accelerator=_int(env, "MARKET_ACCELERATOR", 1, minimum=1),
            var_dir=var_dir,
            upload_dir=Path(env.get("MARKET_UPLOAD_DIR") or var_dir / "uploads"),
            base_url=(env.get("MARKET_BASE_URL") or default.base_url).rstrip("/"),
            session_hours=_int(env, "MARKET_SESSION_HOURS", default.session_hours, minimum=1),
            login_max_failures=_int(env, "MARKET_LOGIN_MAX_FAILURES", default.login_max_failures, 1),
            login_window_minutes=_int(env, "MARKET_LOGIN_WINDOW_MINUTES", default.login_window_minutes, 1),
            max_upload_bytes=_int(env, "MARKET_MAX_UPLOAD_BYTES", default.max_upload_bytes, minimum=1024),
            run_worker_in_app=_bool(env, "MARKET_RUN_WORKER_IN_APP", True),
            argon2_profile=env.get("MARKET_ARGON2_PROFILE") or "standard",
            min_bidding_days=_int(env, "MARKET_MIN_BIDDING_DAYS", default.min_bidding_days, 1),
            publicity_days=_int(env, "MARKET_PUBLICITY_DAYS", default.publicity_days, 1),
            signing_days=_int(env, "MARKET_SIGNING_DAYS", default.signing_days, 1),
            payment_days=_int(env, "MARKET_PAYMENT_DAYS", default.payment_days, 1),
        )
        return settings.validate()


_current: Settings | None = None


def configure(settings: Settings) -> Settings:
    """Make ``settings`` the ones services read (the app factory and the CLI call this)."""
    global _current
    _current = settings
    return settings


def get_settings() -> Settings:
    global _current
    if _current is None:
        _current = Settings.from_env()
    return _current
