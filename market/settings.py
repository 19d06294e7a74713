"""Settings, read once from the environment.

Every setting has a safe development default; ``MARKET_ENV=production`` refuses the unsafe
ones (the development secret key, an accelerated clock, a missing anchor signing key).
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import unquote, urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OCID_PREFIX_RE = re.compile(r"^ocds-[a-z0-9]{6}$")
OCDS_PLACEHOLDER_PREFIX = "ocds-xxxxxx"  # until the platform registers its own with OCP
DEV_SECRET_KEY = "dev-insecure-secret-change-me"  # noqa: S105 - refused in production
# 保障中小企业款项支付条例 art. 8: public bodies pay within 30 calendar days of acceptance; a contract
# may agree a longer term, never beyond 60 days
MAX_PAYMENT_DAYS = 60
# object store secrets everybody knows: MinIO's default root password, the AWS documentation's example
WELL_KNOWN_S3_SECRETS = frozenset({"minioadmin", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})


class SettingsError(ValueError):
    """The environment asks for something the platform refuses to run with."""


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(raw: str, name: str = "MARKET_TRUSTED_PROXIES") -> tuple[str, ...]:
    """Comma-separated addresses or CIDR ranges (``10.0.0.5, 172.18.0.0/16, ::1``), each in the
    canonical form of its network."""
    networks: list[str] = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as exc:
            raise SettingsError(f"{name}: {part!r} is not an IP address or CIDR range") from exc
    return tuple(networks)


@functools.cache
def networks_of(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


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


def _decimal(
    env: dict[str, str], name: str, default: Decimal, minimum: Decimal, maximum: Decimal | None = None
) -> Decimal:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = Decimal(raw.strip())
    except InvalidOperation as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from exc
    if not value.is_finite() or value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        raise SettingsError(f"{name} must be {bounds}, got {raw!r}")
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
    # failed sign-ins of one username from one address (or, times four, of any username from one
    # address) before that address waits; each further failure doubles the wait, up to the window
    login_max_failures: int = 5
    login_window_minutes: int = 15
    # the first wait in seconds once the failures reach login_max_failures
    login_delay_seconds: int = 30
    # argon2 hashes computed at once (in worker threads, off the event loop); 0: twice the cores
    password_hash_concurrency: int = 0
    # reverse proxies / load balancers whose X-Forwarded-For and Forwarded headers are believed
    trusted_proxies: tuple[str, ...] = ()
    # "standard" (RFC 9106 low-memory profile, argon2-cffi's default) or "fast" (tests only)
    argon2_profile: str = "standard"
    # request limits
    max_json_bytes: int = 1_000_000
    max_upload_bytes: int = 20 * 1024 * 1024
    # what an organisation may upload before it is approved (pending or rejected): files, bytes in all
    unapproved_upload_files: int = 10
    unapproved_upload_bytes: int = 50 * 1024 * 1024
    # registrations accepted from one client address per hour (429 with Retry-After beyond)
    registrations_per_hour: int = 5
    # the background loop that applies due time transitions inside `market serve`
    run_worker_in_app: bool = True
    # `market serve` answers repeated anonymous reads from memory while the audit chain head stands
    # (PostgreSQL: the head is heard by LISTEN/NOTIFY; market.web.fastpath); MARKET_FAST_READS=0: off
    fast_reads: bool = True
    worker_interval_seconds: float = 1.0
    # rule periods in working days (SPEC §4)
    min_bidding_days: int = 3
    publicity_days: int = 3
    signing_days: int = 5
    # the payment term in CALENDAR days from acceptance, stored on each contract when it is drafted
    payment_days: int = 30
    # a bid below this share of the mean of the other valid bids is abnormally low (its bidder explains)
    abnormal_low_ratio: Decimal = Decimal("0.5")
    # oversight red flags (the oversight package): thresholds the finance bureau may tune
    split_threshold: Decimal = Decimal("100000.00")  # caps each under it, together above it: a split
    split_window_days: int = 30  # calendar days in which purchases of one owner and item count together
    concentration_share: Decimal = Decimal("0.5")  # one firm's share of an owner's awarded amount
    concentration_min_awards: int = 3  # owners with fewer awards are not judged
    low_price_ratio: Decimal = Decimal("0.5")  # a winning price below this share of the cap is flagged
    # open data (OCDS 1.1.5): the registered ocid prefix and the publisher's name
    ocds_prefix: str = OCDS_PLACEHOLDER_PREFIX
    ocds_publisher: str = "中介服务超市"
    # the Ed25519 key that signs the audit chain's anchors (PEM, PKCS#8); None: var_dir's
    # audit-signing-key.pem, generated on first use in development; production names an existing file
    signing_key_file: Path | None = None
    # the SMTP server of the e-mail notifications: smtp://user:pass@host:port, smtps://…
    # (?from=address sets the sender); None: messages stay in-site and the e-mails are only logged
    smtp_url: str | None = None
    # where documents are stored (market.storage): None: the directory upload_dir; "s3://bucket/prefix":
    # an S3-compatible object store, at s3_endpoint (None: AWS), with these credentials (None: the
    # AWS_* variables or the host's role); plain http:// to it needs s3_allow_http in production
    storage_url: str | None = None
    s3_endpoint: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_allow_http: bool = False
    # four eyes (四眼原则): the user who drafted or edited a purchase never publishes it, so every
    # owner needs two accounts (a clerk drafts, an approver publishes). None: on in production
    # (which refuses turning it off), off in development and tests unless asked for
    four_eyes: bool | None = None

    @property
    def four_eyes_required(self) -> bool:
        return self.is_production if self.four_eyes is None else self.four_eyes

    @property
    def ocds_prefix_registered(self) -> bool:
        """Whether ``ocds_prefix`` is a registered prefix, not the placeholder."""
        return self.ocds_prefix != OCDS_PLACEHOLDER_PREFIX

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def signing_key_path(self) -> Path:
        """Where the audit anchors' signing key is read (and, in development, created)."""
        return self.signing_key_file or self.var_dir / "audit-signing-key.pem"

    @property
    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        return networks_of(self.trusted_proxies)

    @property
    def hash_concurrency(self) -> int:
        return self.password_hash_concurrency or 2 * (os.cpu_count() or 1)

    @property
    def storage_location(self) -> str:
        """Where documents are stored, as a URL (``file:///…`` or ``s3://bucket/prefix``)."""
        return self.storage_url or self.upload_dir.resolve().as_uri()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def validate(self) -> Settings:
        if self.argon2_profile not in ("standard", "fast"):
            raise SettingsError("MARKET_ARGON2_PROFILE must be standard or fast")
        if not OCID_PREFIX_RE.match(self.ocds_prefix):
            raise SettingsError("MARKET_OCDS_PREFIX must look like ocds-abc123 (ocds- and six letters or digits)")
        if self.accelerator < 1:
            raise SettingsError("MARKET_ACCELERATOR must be 1 or more")
        if not 1 <= self.payment_days <= MAX_PAYMENT_DAYS:
            raise SettingsError(
                f"MARKET_PAYMENT_DAYS must be from 1 to {MAX_PAYMENT_DAYS} calendar days after acceptance "
                f"(保障中小企业款项支付条例: 30 days, a contract may agree at most {MAX_PAYMENT_DAYS}), "
                f"got {self.payment_days}"
            )
        if self.smtp_url and not self.smtp_url.startswith(("smtp://", "smtps://")):
            raise SettingsError("MARKET_SMTP_URL must start with smtp:// or smtps:// (smtp://user:pass@host:port)")
        self._validate_storage()
        if self.is_production:
            if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
                raise SettingsError(
                    "MARKET_ENV=production needs MARKET_SECRET_KEY: at least 32 random characters, "
                    "not the development default"
                )
            if self.accelerator != 1:
                raise SettingsError("MARKET_ENV=production refuses MARKET_ACCELERATOR other than 1")
            if self.four_eyes is False:
                raise SettingsError(
                    "MARKET_ENV=production refuses MARKET_FOUR_EYES=0: "
                    "the user who drafts a purchase never publishes it"
                )
            if self.argon2_profile != "standard":
                raise SettingsError("MARKET_ENV=production refuses MARKET_ARGON2_PROFILE other than standard")
            if self.signing_key_file is None or not self.signing_key_file.is_file():
                raise SettingsError(
                    "MARKET_ENV=production needs MARKET_SIGNING_KEY_FILE: an existing Ed25519 private key "
                    "(PEM) that signs the audit anchors; it is generated only in development"
                )
        return self

    def _validate_storage(self) -> None:
        url = self.storage_url
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme == "file":
                if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
                    raise SettingsError(f"MARKET_STORAGE_URL must look like file:///absolute/path, got {url!r}")
            elif parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
                raise SettingsError(f"MARKET_STORAGE_URL must be file:///path or s3://bucket/prefix, got {url!r}")
        s3 = url is not None and url.startswith("s3://")
        given = [
            name
            for name, value in (
                ("MARKET_S3_ENDPOINT", self.s3_endpoint),
                ("MARKET_S3_REGION", self.s3_region),
                ("MARKET_S3_ACCESS_KEY_ID", self.s3_access_key_id),
                ("MARKET_S3_SECRET_ACCESS_KEY", self.s3_secret_access_key),
            )
            if value
        ]
        if given and not s3:
            raise SettingsError(f"{', '.join(given)} apply to MARKET_STORAGE_URL=s3://bucket/prefix only")
        if bool(self.s3_access_key_id) != bool(self.s3_secret_access_key):
            raise SettingsError(
                "MARKET_S3_ACCESS_KEY_ID and MARKET_S3_SECRET_ACCESS_KEY go together: set both or neither"
            )
        if self.s3_endpoint and not self.s3_endpoint.startswith(("http://", "https://")):
            raise SettingsError(f"MARKET_S3_ENDPOINT must be an http:// or https:// URL, got {self.s3_endpoint!r}")
        if self.is_production and s3:
            if self.s3_endpoint and self.s3_endpoint.startswith("http://") and not self.s3_allow_http:
                raise SettingsError(
                    "MARKET_ENV=production refuses a plain http:// MARKET_S3_ENDPOINT (documents and credentials "
                    "in clear) unless MARKET_S3_ALLOW_HTTP=1 says the object store is on a private network"
                )
            if self.s3_secret_access_key in WELL_KNOWN_S3_SECRETS:
                raise SettingsError(
                    "MARKET_ENV=production refuses a well-known MARKET_S3_SECRET_ACCESS_KEY (MinIO's default "
                    "or the examples'); give the object store its own credentials"
                )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes).validate()  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        default = cls()
        var_dir = Path(env.get("MARKET_VAR_DIR") or default.var_dir)
        upload_dir = Path(env.get("MARKET_UPLOAD_DIR") or var_dir / "uploads")
        storage_url = (env.get("MARKET_STORAGE_URL") or "").strip() or None
        if storage_url is not None and storage_url.startswith("file://"):
            # a directory: the file backend at that path (MARKET_UPLOAD_DIR's place)
            parts = urlsplit(storage_url)
            if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
                raise SettingsError(f"MARKET_STORAGE_URL must look like file:///absolute/path, got {storage_url!r}")
            upload_dir, storage_url = Path(unquote(parts.path)), None
        settings = cls(
            database_url=env.get("MARKET_DATABASE_URL") or f"sqlite:///{var_dir / 'market.db'}",
            secret_key=env.get("MARKET_SECRET_KEY") or DEV_SECRET_KEY,
            env=(env.get("MARKET_ENV") or "development").strip().lower(),
            accelerator=_int(env, "MARKET_ACCELERATOR", 1, minimum=1),
            var_dir=var_dir,
            upload_dir=upload_dir,
            storage_url=storage_url,
            s3_endpoint=(env.get("MARKET_S3_ENDPOINT") or "").strip().rstrip("/") or None,
            s3_region=(env.get("MARKET_S3_REGION") or "").strip() or None,
            s3_access_key_id=(env.get("MARKET_S3_ACCESS_KEY_ID") or "").strip() or None,
            s3_secret_access_key=env.get("MARKET_S3_SECRET_ACCESS_KEY") or None,
            s3_allow_http=_bool(env, "MARKET_S3_ALLOW_HTTP", False),
            base_url=(env.get("MARKET_BASE_URL") or default.base_url).rstrip("/"),
            session_hours=_int(env, "MARKET_SESSION_HOURS", default.session_hours, minimum=1),
            login_max_failures=_int(env, "MARKET_LOGIN_MAX_FAILURES", default.login_max_failures, 1),
            login_window_minutes=_int(env, "MARKET_LOGIN_WINDOW_MINUTES", default.login_window_minutes, 1),
            login_delay_seconds=_int(env, "MARKET_LOGIN_DELAY_SECONDS", default.login_delay_seconds, 1),
            password_hash_concurrency=_int(env, "MARKET_PASSWORD_HASH_CONCURRENCY", 0, minimum=0),
            trusted_proxies=parse_networks(env.get("MARKET_TRUSTED_PROXIES") or ""),
            max_upload_bytes=_int(env, "MARKET_MAX_UPLOAD_BYTES", default.max_upload_bytes, minimum=1024),
            unapproved_upload_files=_int(env, "MARKET_UNAPPROVED_UPLOAD_FILES", default.unapproved_upload_files, 1),
            unapproved_upload_bytes=_int(
                env, "MARKET_UNAPPROVED_UPLOAD_BYTES", default.unapproved_upload_bytes, minimum=1024
            ),
            registrations_per_hour=_int(env, "MARKET_REGISTRATIONS_PER_HOUR", default.registrations_per_hour, 1),
            run_worker_in_app=_bool(env, "MARKET_RUN_WORKER_IN_APP", True),
            fast_reads=_bool(env, "MARKET_FAST_READS", True),
            argon2_profile=env.get("MARKET_ARGON2_PROFILE") or "standard",
            min_bidding_days=_int(env, "MARKET_MIN_BIDDING_DAYS", default.min_bidding_days, 1),
            publicity_days=_int(env, "MARKET_PUBLICITY_DAYS", default.publicity_days, 1),
            signing_days=_int(env, "MARKET_SIGNING_DAYS", default.signing_days, 1),
            payment_days=_int(env, "MARKET_PAYMENT_DAYS", default.payment_days, 1),  # at most 60: validate()
            abnormal_low_ratio=_decimal(
                env, "MARKET_ABNORMAL_LOW_RATIO", default.abnormal_low_ratio, Decimal("0.01"), Decimal("1")
            ),
            split_threshold=_decimal(env, "MARKET_SPLIT_THRESHOLD", default.split_threshold, Decimal("1")),
            split_window_days=_int(env, "MARKET_SPLIT_WINDOW_DAYS", default.split_window_days, 1),
            concentration_share=_decimal(
                env, "MARKET_CONCENTRATION_SHARE", default.concentration_share, Decimal("0.01"), Decimal("1")
            ),
            concentration_min_awards=_int(env, "MARKET_CONCENTRATION_MIN_AWARDS", default.concentration_min_awards, 2),
            low_price_ratio=_decimal(
                env, "MARKET_LOW_PRICE_RATIO", default.low_price_ratio, Decimal("0.01"), Decimal("1")
            ),
            ocds_prefix=(env.get("MARKET_OCDS_PREFIX") or default.ocds_prefix).strip().lower(),
            ocds_publisher=(env.get("MARKET_OCDS_PUBLISHER") or default.ocds_publisher).strip(),
            signing_key_file=Path(env["MARKET_SIGNING_KEY_FILE"]) if env.get("MARKET_SIGNING_KEY_FILE") else None,
            smtp_url=(env.get("MARKET_SMTP_URL") or "").strip() or None,
            four_eyes=_bool(env, "MARKET_FOUR_EYES", True) if (env.get("MARKET_FOUR_EYES") or "").strip() else None,
        )
        return settings.validate()
