"""The whole OpenAPI document, exercised by schemathesis (issue 10.9): as the public and as each
role, a bounded number of generated requests per operation, on one throwaway copy of the demo
county. Not one answer is a server error, and every answer conforms to the document: its status
is documented, its content type is the documented one, its body matches the documented schema
(problem details included).

The run writes (schemathesis sends every operation, state-changing ones too), so it works on its
own copy of the demo database, made for this test alone; no other test sees it. It runs once, on
SQLite (``one_database``): what it checks is the API and its document, not the database.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from market.app import create_app
from market.demo import DEMO_PASSWORD
from market.settings import Settings

pytestmark = pytest.mark.one_database

# examples per operation and role: ~100 operations x 5 roles x 3 take about a minute on 2 cores (5 passed too)
EXAMPLES = 3
ROLES = {"public": None, "provider": "provider01", "owner": "owner01", "admin": "admin", "finance": "finance"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# signing out (or ending one's sessions) would leave the rest of the run signed out: these run last
LAST = ("/api/v1/auth/logout", "/api/v1/auth/sessions/{session_id}")


@pytest.fixture(scope="module")
def contract_app(sqlite_demo_template: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("contract")
    target = folder / "market.db"
    shutil.copyfile(sqlite_demo_template.template, target)
    assert sqlite_demo_template.uploads is not None
    shutil.copytree(sqlite_demo_template.uploads, folder / "uploads")
    settings = Settings(
        database_url=f"sqlite:///{target}",
        var_dir=folder,
        upload_dir=Path(folder / "uploads"),
        run_worker_in_app=False,
        argon2_profile="fast",
    ).validate()
    yield create_app(settings)


@pytest.fixture(scope="module")
def contract_schema(contract_app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/schema/openapi.json", contract_app)


def _order(path: str) -> tuple[bool, str]:
    return (path in LAST, path)


@pytest.mark.parametrize("role", list(ROLES))
def test_every_operation_conforms_to_the_document(contract_schema: Any, role: str) -> None:
    schema = contract_schema
    headers: dict[str, str] = {}
    username = ROLES[role]
    if username is not None:
        operations = schema.get_all_operations()
        login = next(r.ok() for r in operations if r.ok().path == "/api/v1/auth/login")
        case = login.Case(body={"username": username, "password": DEMO_PASSWORD}, media_type="application/json")
        response = case.call()
        assert response.status_code == 200, response.text
        headers = {"Authorization": f"Bearer {response.json()['token']}"}

    failures: list[str] = []
    for result in sorted(schema.get_all_operations(), key=lambda r: _order(r.ok().path)):
        operation = result.ok()
        if operation.path == "/api/v1/auth/login" and username is not None:
            continue  # signing in again would only add sessions

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    for failure in failures:
        print(failure, end="\n\n")
    assert not failures, "\n\n".join(failures)
