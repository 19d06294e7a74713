"""Sign-in, sessions, guards, CSRF and the problem-details answers of the identity API."""

from __future__ import annotations

import json

from tests.integration.helpers import PASSWORD, account, assert_problem, login, make_user


async def test_health(client):
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok"}


async def test_login_returns_token_and_cookie_and_me(client, factory):
    await make_user(factory, "owner", "云岭县交通运输局", "jtj")
    r = await client.post("/api/v1/auth/login", json={"username": "JTJ", "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token"] and body["user"]["role"] == "owner" and body["user"]["org"]["name"] == "云岭县交通运输局"
    cookie = r.headers.get_list("set-cookie")
    assert any(c.startswith("market_session=") and "HttpOnly" in c for c in cookie)
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["org_id"] == body["user"]["org_id"] and me.json()["role"] == "owner"


async def test_wrong_password_unknown_user_and_anonymous_me(client, factory):
    await make_user(factory, "provider", "云南某测绘有限公司", "survey")
    assert_problem(await client.post("/api/v1/auth/login", json={"username": "survey", "password": "nope1234"}), 401)
    assert_problem(await client.post("/api/v1/auth/login", json={"username": "ghost", "password": "nope1234"}), 401)
    assert_problem(await client.get("/api/v1/me"), 401)
    assert_problem(await client.get("/api/v1/me", headers={"Authorization": "Bearer forged"}), 401)


async def test_missing_fields_malformed_and_oversized_json(client):
    body = assert_problem(await client.post("/api/v1/auth/login", json={"username": "x"}), 422, "password")
    assert body["type"].endswith("invalid-input")
    assert_problem(
        await client.post(
            "/api/v1/auth/login", content=b'{"username": "x", "pass', headers={"content-type": "application/json"}
        ),
        400,
    )
    assert_problem(
        await client.post("/api/v1/auth/login", content=b"[1, 2]", headers={"content-type": "application/json"}),
        422,
    )
    huge = json.dumps({"username": "x" * 2_000_000, "password": "y"})
    assert_problem(
        await client.post("/api/v1/auth/login", content=huge, headers={"content-type": "application/json"}), 413
    )
    assert_problem(await client.post("/api/v1/auth/login", json={"username": "x", "password": "y", "extra": 1}), 422)


async def test_logout_revokes_the_token(client, factory):
    headers = await account(client, factory, "finance", "czj")
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert_problem(await client.get("/api/v1/me", headers=headers), 401)


async def test_sessions_can_be_listed_and_revoked(client, factory):
    first = await account(client, factory, "owner", "owner-a")
    second = await login(client, "owner-a")
    sessions = (await client.get("/api/v1/auth/sessions", headers=first)).json()
    assert len(sessions) == 2 and sum(s["current"] for s in sessions) == 1
    other = next(s for s in sessions if not s["current"])
    assert (await client.delete(f"/api/v1/auth/sessions/{other['id']}", headers=first)).status_code == 204
    assert_problem(await client.get("/api/v1/me", headers=second), 401)
    assert (await client.get("/api/v1/me", headers=first)).status_code == 200
    # another user cannot revoke my session, nor learn that it exists
    intruder = await account(client, factory, "owner", "owner-b")
    mine = (await client.get("/api/v1/auth/sessions", headers=first)).json()[0]["id"]
    assert_problem(await client.delete(f"/api/v1/auth/sessions/{mine}", headers=intruder), 404)


async def test_login_is_rate_limited(client, factory, settings):
    await make_user(factory, "provider", "云南某评估有限公司", "pinggu")
    for _ in range(settings.login_max_failures):
        r = await client.post("/api/v1/auth/login", json={"username": "pinggu", "password": "wrong123"})
        assert r.status_code == 401
    r = await client.post("/api/v1/auth/login", json={"username": "pinggu", "password": PASSWORD})
    assert_problem(r, 429)
    assert int(r.headers["retry-after"]) > 0


async def test_rate_limit_window_expires(client, factory, settings):
    from datetime import timedelta

    from market import clock

    await make_user(factory, "provider", "云南某勘察有限公司", "kancha")
    for _ in range(settings.login_max_failures):
        await client.post("/api/v1/auth/login", json={"username": "kancha", "password": "wrong123"})
    clock.advance(timedelta(minutes=settings.login_window_minutes + 1))
    assert (
        await client.post("/api/v1/auth/login", json={"username": "kancha", "password": PASSWORD})
    ).status_code == 200


async def test_guards_by_role(client, factory):
    provider = await account(client, factory, "provider", "firm")
    admin = await account(client, factory, "admin", "op")
    finance = await account(client, factory, "finance", "fin")
    assert_problem(await client.get("/api/v1/admin/organizations", headers=provider), 403)
    assert_problem(await client.get("/api/v1/admin/organizations", headers=finance), 403)
    assert (await client.get("/api/v1/admin/organizations", headers=admin)).status_code == 200
    assert_problem(await client.get("/api/v1/audit/verify", headers=provider), 403)
    assert (await client.get("/api/v1/audit/verify", headers=finance)).status_code == 200
    assert_problem(await client.get("/api/v1/audit/verify"), 401)


async def test_cookie_session_needs_csrf_token_for_changes(client, factory):
    await make_user(factory, "owner", "云岭县水务局", "water")
    r = await client.post("/api/v1/auth/login", json={"username": "water", "password": PASSWORD})
    assert r.status_code == 200
    # the client now holds the HttpOnly session cookie; a state-changing call without the token fails
    assert_problem(await client.post("/api/v1/auth/logout"), 403)
    csrf = client.cookies.get("market_csrf")
    assert csrf
    assert (await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})).status_code == 204


async def test_form_login_and_logout_pages(client, factory):
    await make_user(factory, "owner", "云岭县教育体育局", "edu")
    page = await client.get("/login")
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    token = client.cookies.get("market_csrf")
    bad = await client.post("/login", data={"username": "edu", "password": PASSWORD})
    assert bad.status_code == 403
    wrong = await client.post("/login", data={"username": "edu", "password": "wrong123", "csrf_token": token})
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    ok = await client.post(
        "/login", data={"username": "edu", "password": PASSWORD, "csrf_token": token, "next": "//evil.example"}
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/workspace"
    ws = await client.get("/workspace")
    assert ws.status_code == 200 and "云岭县教育体育局" in ws.text
    out = await client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303
    client.cookies.delete("market_session")
    again = await client.get("/workspace")
    assert again.status_code == 302 and again.headers["location"] == "/login?next=/workspace"


async def test_the_login_form_refuses_as_the_api_does_and_keeps_the_username(client, factory, settings):
    await make_user(factory, "owner", "云岭县林业和草原局", "lcj")
    await client.get("/login")
    token = client.cookies.get("market_csrf")
    # what the API's LoginIn refuses, the page refuses with the same field and message, 422
    empty = await client.post("/login", data={"username": "lcj", "password": "", "csrf_token": token})
    api = (await client.post("/api/v1/auth/login", json={"username": "lcj", "password": ""})).json()
    assert empty.status_code == 422 and api["errors"] == [{"field": "password", "message": "此项为必填。"}]
    assert 'id="err-password">此项为必填。<' in empty.text and 'value="lcj"' in empty.text
    nul = await client.post("/login", data={"username": "lcj\x00", "password": "x", "csrf_token": token})
    assert nul.status_code == 422 and 'id="err-username"' in nul.text
    # a wrong password: 401, the error next to the password, the username kept, the password not
    wrong = await client.post(
        "/login", data={"username": "lcj", "password": "wrong-secret", "csrf_token": token, "next": "/catalog"}
    )
    assert wrong.status_code == 401
    assert 'id="err-password">用户名或密码错误' in wrong.text and 'value="lcj"' in wrong.text
    assert "wrong-secret" not in wrong.text and 'name="next" value="/catalog"' in wrong.text
    # the failures were counted (answered, not rolled back): the account is paused, 429
    for _ in range(settings.login_max_failures - 1):
        r = await client.post("/login", data={"username": "lcj", "password": "wrong-secret", "csrf_token": token})
        assert r.status_code == 401
    paused = await client.post("/login", data={"username": "lcj", "password": PASSWORD, "csrf_token": token})
    assert paused.status_code == 429 and int(paused.headers["retry-after"]) == settings.login_delay_seconds
    assert "登录失败次数过多" in paused.text and 'value="lcj"' in paused.text


async def test_field_messages_follow_the_language(client):
    zh = (await client.post("/api/v1/auth/login", json={"username": "x"})).json()
    assert zh["errors"] == [{"field": "password", "message": "此项为必填。"}]
    en = (await client.post("/api/v1/auth/login?lang=en", json={"username": "x"})).json()
    assert en["errors"] == [{"field": "password", "message": "This field is required."}]


async def test_health_reports_an_unreachable_database(settings, tmp_path):
    import httpx

    from market import db as dbmod
    from market.app import create_app

    broken = settings.with_(database_url="postgresql://nobody@127.0.0.1:1/none")
    engine = dbmod.create_engine(broken.database_url)
    try:
        app = create_app(broken, engine=engine)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            r = await c.get("/healthz")
        assert r.status_code == 503 and r.json() == {"status": "fail", "database": "unreachable"}
    finally:
        await engine.dispose()
