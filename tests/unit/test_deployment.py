"""docker-compose: migrations run as the tables' owner, the app and the worker as a role that owns
nothing (granted by `market db grant` in the init step), and the anchors' key is provided."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return loaded["services"]


def _user(service: dict[str, Any]) -> str | None:
    url = service["environment"]["MARKET_DATABASE_URL"].replace("${", "").replace(":-", "-").replace("}", "")
    return make_url(url).username


def test_the_app_and_the_worker_do_not_connect_as_the_owner():
    services = _compose()
    owner = services["db"]["environment"]["POSTGRES_USER"]
    assert _user(services["migrate"]) == owner
    for name in ("app", "worker"):
        service = services[name]
        assert _user(service) == "market_app" != owner, name
        assert "migrate" in service["depends_on"], name
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "db upgrade" not in " ".join(service["command"]), name
        assert service["environment"]["MARKET_ENV"] == "production"
        assert service["environment"]["MARKET_SIGNING_KEY_FILE"].startswith("/var/lib/market/keys/")
    init = " ".join(services["migrate"]["command"])
    assert init.index("db upgrade") < init.index("db grant market_app")
    assert "audit keygen" in init
    role_script = services["db"]["volumes"][1].split(":")[0]
    assert "CREATE ROLE market_app" in (ROOT / role_script).read_text(encoding="utf-8")


def test_every_app_and_worker_host_keeps_the_documents_in_the_one_object_store():
    """Several app hosts share documents: app and worker name MinIO's bucket, not a local volume,
    and start once the bucket exists; the settings they get pass production's checks."""
    from market.settings import Settings

    services = _compose()
    minio = services["minio"]
    assert "server" in minio["command"] and minio["healthcheck"]["test"]
    init = " ".join(services["minio-init"]["entrypoint"])
    for name in ("app", "worker"):
        service = services[name]
        env = service["environment"]
        assert env["MARKET_STORAGE_URL"].startswith("s3://market-documents/"), name
        assert env["MARKET_S3_ENDPOINT"] == "http://minio:9000", name
        assert "local/market-documents" in init
        assert not any("documents" in v for v in service.get("volumes", [])), name
        assert service["depends_on"]["minio-init"]["condition"] == "service_completed_successfully", name
    env = {k: str(v) for k, v in services["app"]["environment"].items()}
    env |= {
        "MARKET_SECRET_KEY": "x" * 40,
        "MARKET_S3_SECRET_ACCESS_KEY": "a-random-minio-password",
        "MARKET_S3_ACCESS_KEY_ID": "market",
        "MARKET_SIGNING_KEY_FILE": __file__,  # an existing file stands in for the key
    }
    settings = Settings.from_env(env)
    assert settings.is_production and settings.storage_location == "s3://market-documents/documents"
