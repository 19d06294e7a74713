"""The OpenAPI document describes every endpoint with its request and response schemas."""

from __future__ import annotations

import pytest

METHODS = ("get", "post", "put", "patch", "delete")
# operations that change something without a request body: actions named by their last path
# segment (sign-out, publish, sign, approve…)
BODYLESS_ACTIONS = {
    "logout",
    "resubmit",
    "approve",
    "publish",
    "accept",
    "sign",
    "lock",
    "read",
    "read-all",
    "confirm",
    "submit",
}
# operations that read their body themselves (an upload in two encodings): their summary says what
# to send, since the document cannot
READ_BY_HAND = {"POST /api/v1/catalog/import": "text/csv"}


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
            name = f"{method.upper()} {path}"
            if method in ("post", "put", "patch") and op.get("requestBody") is None:
                if name in READ_BY_HAND:
                    if READ_BY_HAND[name] not in op.get("summary", ""):
                        missing.append(f"{name}: reads its body by hand and does not say what it takes")
                elif path.split("/")[-1] not in BODYLESS_ACTIONS:
                    missing.append(f"{name}: takes no documented request body and is not an action")
            ok = [code for code in op.get("responses", {}) if code.startswith("2")]
            if not ok:
                missing.append(f"{name}: no success response")
                continue
            response = op["responses"][ok[0]]
            if ok[0] != "204" and "content" not in response:
                missing.append(f"{name}: no response schema")
            if op.get("requestBody") is not None and "content" not in op["requestBody"]:
                missing.append(f"{name}: no request schema")
    assert not missing, missing
    login = paths["/api/v1/auth/login"]["post"]
    schema_ref = login["requestBody"]["content"]["application/json"]["schema"]
    assert "LoginIn" in str(schema_ref)
    assert "BearerToken" in spec["components"]["securitySchemes"]
