"""The OpenAPI document describes every endpoint with its request and response schemas."""

from __future__ import annotations

import pytest

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
async def spec(client):
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    return r.json()


async def test_every_api_operation_has_schemas(spec, backend):
    if backend != "sqlite":
        pytest.skip("the document does not depend on the database")
    paths = spec["paths"]
    assert "/api/v1/auth/login" in paths and "/healthz" in paths and "/api/v1/audit/verify" in paths
    missing = []
    for path, item in paths.items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            if method in ("post", "put", "patch") and "{" not in path.split("/")[-1] and op.get("requestBody") is None:
                # actions without a body (logout, publish…) are fine; flag only ones that take data
                pass
            ok = [code for code in op.get("responses", {}) if code.startswith("2")]
            if not ok:
                missing.append(f"{method.upper()} {path}: no success response")
                continue
            response = op["responses"][ok[0]]
            if ok[0] != "204" and "content" not in response:
                missing.append(f"{method.upper()} {path}: no response schema")
            if op.get("requestBody") is not None and "content" not in op["requestBody"]:
                missing.append(f"{method.upper()} {path}: no request schema")
    assert not missing, missing
    login = paths["/api/v1/auth/login"]["post"]
    schema_ref = login["requestBody"]["content"]["application/json"]["schema"]
    assert "LoginIn" in str(schema_ref)
    assert "BearerToken" in spec["components"]["securitySchemes"]
