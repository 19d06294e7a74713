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
