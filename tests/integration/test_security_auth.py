"""Sign-in throttling that cannot lock out a victim, password hashing off the event loop, and
client addresses that cannot be forged (issue 10, points 2, 3 and 4)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import argon2
from sqlalchemy import select
from sqlmodel import col

from market import clock
from market.audit.models import AuditEvent
from market.identity.models import LoginAttempt
from tests.integration.helpers import PASSWORD, assert_problem, make_user
from tests.integration.listings_helpers import new_client

LOGIN = "/api/v1/auth/login"


WRONG = "wrong-1234"


def creds(username: str, password: str = WRONG) -> dict[str, str]:
    return {"username": username, "password": password}


async def test_failures_from_one_address_never_refuse_the_right_password_from_another(app, factory, settings):
    await make_user(factory, "admin", "云岭县公共资源交易中心", "admin")
    async with new_client(app, ip="198.51.100.40") as attacker, new_client(app, ip="198.51.100.41") as admin:
        for _ in range(settings.login_max_failures + 2):
            r = await attacker.post(LOGIN, json=creds("admin"))
            assert r.status_code in (401, 429)
        # the attacker's address waits, even with the right password
        first = assert_problem(await attacker.post(LOGIN, json=creds("admin", PASSWORD)), 429)
        assert "admin" not in first["detail"]
        # the real admin, from another address, signs in at once
        assert (await admin.post(LOGIN, json=creds("admin", PASSWORD))).status_code == 200
        admin.cookies.delete("market_session")  # signs in again as an API client would
        # and again after more failures from the attacker
        assert (await attacker.post(LOGIN, json=creds("admin"))).status_code == 429
        assert (await admin.post(LOGIN, json=creds("admin", PASSWORD))).status_code == 200


async def test_the_wait_grows_with_each_further_failure(app, factory, settings):
    await make_user(factory, "admin", "云岭县公共资源交易中心", "admin")
    waits = []
    async with new_client(app, ip="198.51.100.42") as attacker:
        for _ in range(settings.login_max_failures):
            assert (await attacker.post(LOGIN, json=creds("admin"))).status_code == 401
        for _ in range(4):
            paused = await attacker.post(LOGIN, json=creds("admin"))
            assert_problem(paused, 429)
            waits.append(int(paused.headers["retry-after"]))
            # refused attempts are not even checked: no hash, no new failure counted
            clock.advance(timedelta(seconds=waits[-1]))
            assert (await attacker.post(LOGIN, json=creds("admin"))).status_code == 401
    assert waits[0] == settings.login_delay_seconds
    assert waits == [waits[0] * 2**i for i in range(4)], waits
    # never longer than the window
    async with new_client(app, ip="198.51.100.42") as attacker:
        for _ in range(8):
            paused = await attacker.post(LOGIN, json=creds("admin"))
            clock.advance(timedelta(seconds=int(paused.headers.get("retry-after", "0"))))
            await attacker.post(LOGIN, json=creds("admin"))
        last = await attacker.post(LOGIN, json=creds("admin"))
        assert 0 < int(last.headers["retry-after"]) <= settings.login_window_minutes * 60


async def test_different_spellings_of_a_username_are_one_user(app, factory, settings):
    await make_user(factory, "admin", "云岭县公共资源交易中心", "admin")
    spellings = ["ADMIN", " Admin ", "ａｄｍｉｎ", "ＡＤＭＩＮ", "ａdmin", "admin"]
    async with new_client(app, ip="198.51.100.43") as attacker:
        for spelling in spellings[: settings.login_max_failures]:
            assert (await attacker.post(LOGIN, json=creds(spelling))).status_code == 401
        assert_problem(await attacker.post(LOGIN, json=creds("admin", PASSWORD)), 429)
    async with factory() as session:
        names = set(await session.scalars(select(col(LoginAttempt.username))))
    assert names == {"admin"}
    # the full-width spelling signs in as the same account
    async with new_client(app, ip="198.51.100.44") as admin:
        r = await admin.post(LOGIN, json=creds("ＡＤＭＩＮ", PASSWORD))
        assert r.status_code == 200 and r.json()["user"]["username"] == "admin"


async def test_one_address_trying_many_usernames_is_throttled(app, factory, settings):
    await make_user(factory, "admin", "云岭县公共资源交易中心", "admin")
    async with new_client(app, ip="198.51.100.45") as sprayer:
        for i in range(settings.login_max_failures * 4):
            assert (await sprayer.post(LOGIN, json=creds(f"user{i}"))).status_code == 401
        assert_problem(await sprayer.post(LOGIN, json=creds("admin", PASSWORD)), 429)
    async with new_client(app, ip="198.51.100.46") as admin:
        assert (await admin.post(LOGIN, json=creds("admin", PASSWORD))).status_code == 200


async def test_passwords_are_verified_off_the_event_loop_and_bounded(app, factory, settings, monkeypatch):
    """The real argon2 verification runs, observed: in which thread, and how many at once."""
    from market.app import create_app

    await make_user(factory, "owner", "云岭县交通运输局", "jtj")
    threads: set[int] = set()
    running = [0, 0]  # now, most at once
    lock = threading.Lock()
    real_verify = argon2.PasswordHasher.verify

    def observed(self: argon2.PasswordHasher, hash: str, password: str) -> bool:
        with lock:
            threads.add(threading.get_ident())
            running[0] += 1
            running[1] = max(running)
        try:
            time.sleep(0.02)  # long enough for others to start if nothing bounded them
            return real_verify(self, hash, password)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(argon2.PasswordHasher, "verify", observed)
    bounded = create_app(settings.with_(password_hash_concurrency=2), engine=app.state.engine)
    import asyncio

    async def one(i: int) -> int:
        async with new_client(bounded, ip=f"198.51.100.{60 + i}") as c:
            return (await c.post(LOGIN, json=creds("jtj", PASSWORD))).status_code

    statuses = await asyncio.gather(*(one(i) for i in range(8)))
    assert statuses == [200] * 8
    assert threading.get_ident() not in threads and threads
    assert running[1] <= 2, running


# --- client addresses -------------------------------------------------------------------------


async def _session_ip(client) -> str:
    sessions = (await client.get("/api/v1/auth/sessions")).json()
    return sessions[0]["ip"]


async def test_forwarded_headers_are_ignored_without_trusted_proxies(app, factory, settings):
    await make_user(factory, "owner", "云岭县交通运输局", "jtj")
    async with new_client(app, ip="127.0.0.1") as local:
        forged = {"X-Forwarded-For": "192.0.2.99", "Forwarded": "for=192.0.2.98"}
        r = await local.post(LOGIN, json=creds("jtj", PASSWORD), headers=forged)
        assert r.status_code == 200
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        sessions = (await local.get("/api/v1/auth/sessions", headers=headers)).json()
        assert sessions[0]["ip"] == "127.0.0.1"
        local.cookies.delete("market_session")
        # rotating the header does not dodge the throttle
        for i in range(settings.login_max_failures):
            r = await local.post(LOGIN, json=creds("jtj"), headers={"X-Forwarded-For": f"192.0.2.{i}"})
            assert r.status_code == 401
        r = await local.post(LOGIN, json=creds("jtj", PASSWORD), headers={"X-Forwarded-For": "192.0.2.200"})
        assert_problem(r, 429)
    async with factory() as session:
        ips = set(await session.scalars(select(col(AuditEvent.actor_ip)).where(col(AuditEvent.actor_ip).is_not(None))))
    assert ips == {"127.0.0.1"}


async def test_forwarded_headers_are_believed_from_trusted_proxies_only(app, factory, settings):
    from market.app import create_app

    await make_user(factory, "owner", "云岭县交通运输局", "jtj")
    behind = create_app(settings.with_(trusted_proxies=("10.0.0.0/8", "127.0.0.1")), engine=app.state.engine)

    async def ip_seen(peer: str, headers: dict[str, str]) -> str:
        async with new_client(behind, ip=peer) as c:
            r = await c.post(LOGIN, json=creds("jtj", PASSWORD), headers=headers)
            assert r.status_code == 200, r.text
            token = {"Authorization": f"Bearer {r.json()['token']}"}
            current = [s for s in (await c.get("/api/v1/auth/sessions", headers=token)).json() if s["current"]]
            return str(current[0]["ip"])

    # the load balancer appended the client; what the client wrote itself is further left
    assert await ip_seen("10.0.0.2", {"X-Forwarded-For": "192.0.2.66, 198.51.100.50"}) == "198.51.100.50"
    # two trusted hops: the right-most untrusted address
    assert await ip_seen("127.0.0.1", {"X-Forwarded-For": "198.51.100.51, 10.1.2.3"}) == "198.51.100.51"
    assert await ip_seen("10.0.0.2", {"Forwarded": 'for=192.0.2.1, for="[2001:db8::7]:4711"'}) == "2001:db8::7"
    # from an untrusted peer the headers count for nothing
    assert await ip_seen("198.51.100.52", {"X-Forwarded-For": "192.0.2.67"}) == "198.51.100.52"
    # a trusted proxy with no header: the proxy itself
    assert await ip_seen("10.0.0.2", {}) == "10.0.0.2"
    # the throttle counts the real client behind the proxy, not the proxy
    async with new_client(behind, ip="10.0.0.2") as lb:
        for _ in range(settings.login_max_failures):
            r = await lb.post(LOGIN, json=creds("jtj"), headers={"X-Forwarded-For": "198.51.100.53"})
            assert r.status_code == 401
        r = await lb.post(LOGIN, json=creds("jtj", PASSWORD), headers={"X-Forwarded-For": "198.51.100.53"})
        assert_problem(r, 429)
        r = await lb.post(LOGIN, json=creds("jtj", PASSWORD), headers={"X-Forwarded-For": "198.51.100.54"})
        assert r.status_code == 200


async def test_the_registration_limit_counts_the_client_behind_a_trusted_proxy(settings, engine):
    from market.app import create_app
    from tests.integration.listings_helpers import post_provider, registration

    behind = create_app(settings.with_(trusted_proxies=("10.0.0.0/8",), registrations_per_hour=1), engine=engine)
    async with new_client(behind, ip="10.0.0.2") as lb:
        first = {"X-Forwarded-For": "198.51.100.90"}
        assert (await post_provider(lb, registration("proxied1"), headers=first)).status_code == 201
        assert_problem(await post_provider(lb, registration("proxied2"), headers=first), 429)
        # another client through the same load balancer is not affected
        second = {"X-Forwarded-For": "198.51.100.91"}
        assert (await post_provider(lb, registration("proxied3"), headers=second)).status_code == 201
    # without trusting the peer, a forged header does not make a new client
    direct = create_app(settings.with_(registrations_per_hour=1), engine=engine)
    async with new_client(direct, ip="198.51.100.92") as client:
        assert (await post_provider(client, registration("direct1"))).status_code == 201
        forged = {"X-Forwarded-For": "192.0.2.77"}
        assert_problem(await post_provider(client, registration("direct2"), headers=forged), 429)
